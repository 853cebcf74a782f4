export { parse, valid, format, compare, gt, lt, eq, sort, rsort, inc } from './version.js';
export { satisfies, maxSatisfying, parseRange } from './range.js';
