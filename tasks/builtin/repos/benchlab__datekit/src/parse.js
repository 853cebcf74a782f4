// Strict ISO 8601 parsing (the calendar-date subset people actually send).

import { daysInMonth } from './calendar.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parse an ISO 8601 date or date-time string into a Date. Throws RangeError on
 * malformed text or impossible dates.
 */
export function parseISO(text) {
  if (typeof text !== 'string') {
    throw new TypeError(`parseISO() expects a string, got ${typeof text}`);
  }
  const match = ISO.exec(text.trim());
  if (!match) {
    throw new RangeError(`Invalid ISO date: "${text}"`);
  }
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hours = Number(h);
  const minutes = Number(mi);
  const seconds = Number(s);
  const millis = Number(frac.padEnd(3, '0'));

  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RangeError(`Invalid ISO date: "${text}" (no such day)`);
  }
  if (hours > 23 || minutes > 59 || seconds > 59) {
    throw new RangeError(`Invalid ISO date: "${text}" (no such time)`);
  }

  const result = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds, millis));
  // Date.UTC maps years 0-99 to 1900-1999; put them back.
  if (year < 100) result.setUTCFullYear(year);
  return result;
}

/** True when parseISO would accept the text. */
export function isValidISO(text) {
  try {
    parseISO(text);
    return true;
  } catch {
    return false;
  }
}
