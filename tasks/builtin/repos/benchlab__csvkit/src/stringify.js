// CSV writing: rows of values (or objects with `columns`) back to text.

const DEFAULTS = {
  delimiter: ',',
  quote: '"',
  eol: '\n',
  quoteAll: false,
  columns: undefined,
  header: false,
};

/**
 * Turn rows into CSV text. Rows are arrays of values, or plain objects when
 * `columns` names the keys to write (in order).
 */
export function stringify(rows, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  if (!Array.isArray(rows)) {
    throw new TypeError('stringify() expects an array of rows');
  }
  if (opts.columns !== undefined && !Array.isArray(opts.columns)) {
    throw new TypeError('Option "columns" must be an array of keys');
  }

  const lines = [];
  if (opts.header) {
    if (!opts.columns) {
      throw new TypeError('Option "header" needs "columns" to know the column names');
    }
    lines.push(formatRow(opts.columns, opts));
  }
  rows.forEach((row, index) => {
    lines.push(formatRow(toValues(row, index, opts), opts));
  });
  return lines.map((line) => line + opts.eol).join('');
}

function toValues(row, index, opts) {
  if (Array.isArray(row)) {
    return opts.columns ? opts.columns.map((_, i) => row[i]) : row;
  }
  if (row !== null && typeof row === 'object') {
    if (!opts.columns) {
      throw new TypeError(`Row ${index} is an object; pass "columns" to choose its fields`);
    }
    return opts.columns.map((key) => row[key]);
  }
  throw new TypeError(`Row ${index} must be an array or an object, got ${typeof row}`);
}

function formatRow(values, opts) {
  return values.map((value) => formatField(value, opts)).join(opts.delimiter);
}

function formatField(value, opts) {
  const text = toText(value);
  if (!opts.quoteAll && !needsQuoting(text, opts)) return text;
  return opts.quote + text.replace(/"/g, '""') + opts.quote;
}

function toText(value) {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function needsQuoting(text, opts) {
  return text.includes(opts.delimiter) || text.includes(opts.quote);
}
