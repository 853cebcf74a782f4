// CSV parsing: a single pass over the text with a small state machine.

const DEFAULTS = {
  delimiter: ',',
  quote: '"',
  header: false,
  skipEmptyLines: false,
  trim: false,
};

export class CsvError extends Error {
  constructor(message, line, column) {
    super(`${message} (line ${line}, column ${column})`);
    this.name = 'CsvError';
    this.line = line;
    this.column = column;
  }
}

/**
 * Parse CSV text into rows of strings, or into objects when `header` is set.
 */
export function parse(text, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  validateOptions(opts);

  let rows = tokenize(String(text), opts);
  if (opts.trim) {
    rows = rows.map((row) => row.map((field) => field.trim()));
  }
  if (opts.skipEmptyLines) {
    rows = rows.filter((row) => !isEmptyRow(row));
  }
  if (!opts.header) return rows;
  return toRecords(rows);
}

function validateOptions(opts) {
  for (const name of ['delimiter', 'quote']) {
    const value = opts[name];
    if (typeof value !== 'string' || value.length !== 1) {
      throw new TypeError(`Option "${name}" must be a single character, got ${JSON.stringify(value)}`);
    }
    if (value === '\n' || value === '\r') {
      throw new TypeError(`Option "${name}" cannot be a line break`);
    }
  }
  if (opts.delimiter === opts.quote) {
    throw new TypeError('Options "delimiter" and "quote" must differ');
  }
}

function tokenize(text, opts) {
  const { delimiter, quote } = opts;
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false; // inside a quoted section right now
  let wasQuoted = false; // the current field started with a quote
  let line = 1;
  let column = 0;
  let quoteLine = 0;
  let quoteColumn = 0;

  const endField = () => {
    row.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };

  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    column++;

    if (quoted) {
      if (ch === quote) {
        if (text[i + 1] === quote) {
          field += quote;
          i += 2;
          column++;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== delimiter && next !== '\n') {
          throw new CsvError('Unexpected character after closing quote', line, column + 1);
        }
        continue;
      }
      if (ch === '\n') {
        line++;
        column = 0;
      }
      field += ch;
      i++;
      continue;
    }

    if (ch === quote && field === '' && !wasQuoted) {
      quoted = true;
      wasQuoted = true;
      quoteLine = line;
      quoteColumn = column;
      i++;
      continue;
    }
    if (ch === delimiter) {
      endField();
      i++;
      continue;
    }
    if (ch === '\n') {
      endRow();
      line++;
      column = 0;
      i++;
      continue;
    }
    field += ch;
    i++;
  }

  if (quoted) {
    throw new CsvError('Unterminated quoted field', quoteLine, quoteColumn);
  }
  // A final line break ends the last row; anything after it is a row of its own.
  if (field !== '' || wasQuoted || row.length > 0) endRow();
  return rows;
}

function isEmptyRow(row) {
  return row.length === 1 && row[0] === '';
}

function toRecords(rows) {
  if (rows.length === 0) return [];
  const [names, ...body] = rows;
  return body.map((row) => {
    const record = {};
    names.forEach((name, index) => {
      record[name] = index < row.length ? row[index] : '';
    });
    return record;
  });
}
