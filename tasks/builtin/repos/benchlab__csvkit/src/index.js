export { parse, CsvError } from './parse.js';
export { stringify } from './stringify.js';
