// Turns expression source into a flat list of tokens with their positions.

import { ParseError } from './errors.js';

const TWO_CHAR_OPERATORS = ['==', '!=', '<=', '>=', '&&', '||'];
const ONE_CHAR_OPERATORS = ['+', '-', '*', '/', '%', '^', '<', '>', '!'];

/**
 * Token shapes: { type: 'number', value }, { type: 'name', value },
 * { type: 'operator', value }, { type: '(' | ')' | ',' }, { type: 'end' };
 * every token also has `position`.
 */
export function tokenize(source) {
  if (typeof source !== 'string') {
    throw new TypeError(`Expected an expression string, got ${typeof source}`);
  }
  const tokens = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (isSpace(ch)) {
      i++;
      continue;
    }
    if (isDigit(ch)) {
      const end = scanNumber(source, i);
      tokens.push({ type: 'number', value: Number(source.slice(i, end)), position: i });
      i = end;
      continue;
    }
    if (isNameStart(ch)) {
      let end = i + 1;
      while (end < source.length && isNamePart(source[end])) end++;
      tokens.push({ type: 'name', value: source.slice(i, end), position: i });
      i = end;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ type: ch, position: i });
      i++;
      continue;
    }
    const pair = source.slice(i, i + 2);
    if (TWO_CHAR_OPERATORS.includes(pair)) {
      tokens.push({ type: 'operator', value: pair, position: i });
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPERATORS.includes(ch)) {
      tokens.push({ type: 'operator', value: ch, position: i });
      i++;
      continue;
    }
    throw new ParseError(`Unexpected character "${ch}"`, i);
  }
  tokens.push({ type: 'end', position: source.length });
  return tokens;
}

// Returns the index just past the number that starts at `start`.
function scanNumber(source, start) {
  let i = start;
  while (isDigit(source[i])) i++;
  if (source[i] === '.') {
    i++;
    if (!isDigit(source[i])) {
      throw new ParseError('Expected a digit after the decimal point', i);
    }
    while (isDigit(source[i])) i++;
  }
  return i;
}

function isSpace(ch) {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

function isDigit(ch) {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isNameStart(ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_';
}

function isNamePart(ch) {
  return isNameStart(ch) || isDigit(ch);
}
