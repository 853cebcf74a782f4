// npm-style ranges, reduced to sets of primitive comparators before matching.

import { compare, parse, rsort } from './version.js';

const PARTIAL = /^v?(0|[1-9]\d*|[xX*])(?:\.(0|[1-9]\d*|[xX*]))?(?:\.(0|[1-9]\d*|[xX*]))?(?:-([0-9A-Za-z.-]+))?$/;
const COMPARATOR = /^(\^|~|>=|<=|>|<|=)?\s*(\S+)$/;

/**
 * Parse a range into a list of comparator sets (the `||` alternatives). Each
 * set is a list of { operator, version }; an empty set matches everything.
 */
export function parseRange(range) {
  if (typeof range !== 'string') throw new TypeError('A range must be a string');
  return range.split('||').map((part) => parseSet(part.trim().replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1')));
}

function parseSet(text) {
  if (text === '') return [];
  const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
  if (hyphen) return hyphenRange(partial(hyphen[1]), partial(hyphen[2]));
  return text.split(/\s+/).flatMap(comparators);
}

function partial(text) {
  const match = PARTIAL.exec(text);
  if (!match) throw new TypeError(`Invalid version in range: "${text}"`);
  const part = (value) => (value === undefined || /^[xX*]$/.test(value) ? null : Number(value));
  const major = part(match[1]);
  const minor = major === null ? null : part(match[2]);
  const patch = minor === null ? null : part(match[3]);
  const prerelease = match[4] && patch !== null ? match[4].split('.').map(identifier) : [];
  return { major, minor, patch, prerelease };
}

function identifier(part) {
  return /^\d+$/.test(part) ? Number(part) : part;
}

const version = (major, minor = 0, patch = 0, prerelease = []) => ({ major, minor, patch, prerelease, build: [] });
const filled = (p) => version(p.major, p.minor ?? 0, p.patch ?? 0, p.prerelease);
const at = (operator, v) => ({ operator, version: v });

function comparators(token) {
  const match = COMPARATOR.exec(token);
  if (!match) throw new TypeError(`Invalid comparator: "${token}"`);
  const operator = match[1] ?? '=';
  const p = partial(match[2]);
  switch (operator) {
    case '^':
      return caret(p);
    case '~':
      return tilde(p);
    case '=':
      return xRange(p);
    default:
      return primitive(operator, p);
  }
}

function xRange(p) {
  if (p.major === null) return [];
  if (p.minor === null) return [at('>=', version(p.major)), at('<', version(p.major + 1))];
  if (p.patch === null) return [at('>=', version(p.major, p.minor)), at('<', version(p.major, p.minor + 1))];
  return [at('=', filled(p))];
}

function tilde(p) {
  if (p.major === null) return [];
  if (p.minor === null) return xRange(p);
  return [at('>=', filled(p)), at('<', version(p.major, p.minor + 1))];
}

function caret(p) {
  if (p.major === null) return [];
  return [at('>=', filled(p)), at('<', version(p.major + 1))];
}

// Comparison operators with partial versions, following npm: >1.2 is >=1.3.0, <=1.2 is <1.3.0.
function primitive(operator, p) {
  if (p.major === null) {
    if (operator === '>=' || operator === '<=') return [];
    throw new TypeError(`Invalid comparator: "${operator}*" matches nothing`);
  }
  const next = p.minor === null ? version(p.major + 1) : version(p.major, p.minor + 1);
  const exact = p.patch !== null;
  switch (operator) {
    case '>':
      return [exact ? at('>', filled(p)) : at('>=', next)];
    case '<=':
      return [exact ? at('<=', filled(p)) : at('<', next)];
    default:
      return [at(operator, filled(p))];
  }
}

function hyphenRange(from, to) {
  const result = [];
  if (from.major !== null) result.push(at('>=', filled(from)));
  if (to.major !== null) result.push(at('<=', filled(to)));
  return result;
}

function test(v, { operator, version: bound }) {
  const order = compare(v, bound);
  switch (operator) {
    case '=':
      return order === 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    default:
      throw new TypeError(`Unknown operator "${operator}"`);
  }
}

export function satisfies(text, range) {
  const sets = parseRange(range);
  const v = parse(text);
  if (!v) return false;
  return sets.some((set) => set.every((comparator) => test(v, comparator)));
}

export function maxSatisfying(list, range) {
  parseRange(range);
  const matching = list.filter((text) => satisfies(text, range));
  return matching.length > 0 ? rsort(matching)[0] : null;
}
