// Calendar arithmetic on UTC dates. Every function returns a new Date.

import { toDate } from './format.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const UNITS = ['year', 'month', 'day', 'hour'];

export function isLeapYear(year) {
  return year % 4 === 0 && year % 100 !== 0;
}

/** Number of days in `month` (1-12) of `year`. */
export function daysInMonth(year, month) {
  if (!Number.isInteger(month) || month < 1 || month > 12) {
    throw new RangeError(`Month must be 1-12, got ${month}`);
  }
  if (month === 2 && isLeapYear(year)) return 29;
  return MONTH_LENGTHS[month - 1];
}

export function addDays(date, amount) {
  const d = toDate(date);
  return new Date(d.getTime() + checkAmount(amount) * DAY_MS);
}

export function addMonths(date, amount) {
  const d = toDate(date);
  d.setUTCMonth(d.getUTCMonth() + checkAmount(amount));
  return d;
}

export function addYears(date, amount) {
  return addMonths(date, checkAmount(amount) * 12);
}

/** Whole calendar days from `earlier` to `later`; negative when `later` is before. */
export function diffInDays(later, earlier) {
  const a = startOf(later, 'day').getTime();
  const b = startOf(earlier, 'day').getTime();
  return Math.round((a - b) / DAY_MS);
}

export function startOf(date, unit) {
  const d = toDate(date);
  checkUnit(unit);
  const year = d.getUTCFullYear();
  const month = unit === 'year' ? 0 : d.getUTCMonth();
  const day = unit === 'year' || unit === 'month' ? 1 : d.getUTCDate();
  const hour = unit === 'hour' ? d.getUTCHours() : 0;
  return new Date(Date.UTC(year, month, day, hour));
}

export function endOf(date, unit) {
  const start = startOf(date, unit);
  let next;
  if (unit === 'year') next = addYears(start, 1);
  else if (unit === 'month') next = addMonths(start, 1);
  else if (unit === 'day') next = addDays(start, 1);
  else next = new Date(start.getTime() + 60 * 60 * 1000);
  return new Date(next.getTime() - 1);
}

export function isSameDay(a, b) {
  return startOf(a, 'day').getTime() === startOf(b, 'day').getTime();
}

export function compareAsc(a, b) {
  const diff = toDate(a).getTime() - toDate(b).getTime();
  return diff < 0 ? -1 : diff > 0 ? 1 : 0;
}

function checkAmount(amount) {
  if (!Number.isInteger(amount)) {
    throw new TypeError(`Amount must be an integer, got ${amount}`);
  }
  return amount;
}

function checkUnit(unit) {
  if (!UNITS.includes(unit)) {
    throw new RangeError(`Unknown unit "${unit}"; expected one of ${UNITS.join(', ')}`);
  }
}
