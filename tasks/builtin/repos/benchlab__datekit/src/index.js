export { format, MONTH_NAMES, WEEKDAY_NAMES } from './format.js';
export { parseISO, isValidISO } from './parse.js';
export {
  isLeapYear,
  daysInMonth,
  addDays,
  addMonths,
  addYears,
  diffInDays,
  startOf,
  endOf,
  isSameDay,
  compareAsc,
} from './calendar.js';
