// Pattern-based formatting of UTC dates.

export const MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];
export const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

// Longest tokens first so that 'MMMM' is not read as two 'MM'.
const TOKEN = /\[([^\]]*)]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|hh|h|mm|ss|SSS|A|a/g;

/**
 * Format a date (Date or millisecond timestamp) with a pattern, in UTC.
 */
export function format(date, pattern) {
  const d = toDate(date);
  if (typeof pattern !== 'string') {
    throw new TypeError('format() expects a pattern string');
  }
  const parts = fieldsOf(d);
  return pattern.replace(TOKEN, (token, literal) => {
    if (literal !== undefined) return literal;
    return formatToken(token, parts);
  });
}

export function toDate(value) {
  const d = value instanceof Date ? new Date(value.getTime()) : new Date(value);
  if (typeof value !== 'number' && !(value instanceof Date)) {
    throw new TypeError(`Expected a Date or a timestamp, got ${typeof value}`);
  }
  if (Number.isNaN(d.getTime())) {
    throw new RangeError('Invalid date');
  }
  return d;
}

function fieldsOf(d) {
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hours: d.getUTCHours(),
    minutes: d.getUTCMinutes(),
    seconds: d.getUTCSeconds(),
    millis: d.getUTCMilliseconds(),
  };
}

function formatToken(token, p) {
  switch (token) {
    case 'YYYY':
      return pad(p.year, 4);
    case 'YY':
      return pad(p.year % 100, 2);
    case 'MMMM':
      return MONTH_NAMES[p.month];
    case 'MMM':
      return MONTH_NAMES[p.month].slice(0, 3);
    case 'MM':
      return pad(p.month + 1, 2);
    case 'M':
      return String(p.month + 1);
    case 'DD':
      return pad(p.day, 2);
    case 'D':
      return String(p.day);
    case 'dddd':
      return WEEKDAY_NAMES[p.weekday];
    case 'ddd':
      return WEEKDAY_NAMES[p.weekday].slice(0, 3);
    case 'HH':
      return pad(p.hours, 2);
    case 'H':
      return String(p.hours);
    case 'hh':
      return pad(twelveHour(p.hours), 2);
    case 'h':
      return String(twelveHour(p.hours));
    case 'mm':
      return pad(p.minutes, 2);
    case 'ss':
      return pad(p.seconds, 2);
    case 'SSS':
      return pad(p.millis, 3);
    case 'A':
      return p.hours < 12 ? 'AM' : 'PM';
    case 'a':
      return p.hours < 12 ? 'am' : 'pm';
    default:
      return token;
  }
}

function twelveHour(hours) {
  return hours > 12 ? hours - 12 : hours;
}

function pad(value, width) {
  return String(value).padStart(width, '0');
}
