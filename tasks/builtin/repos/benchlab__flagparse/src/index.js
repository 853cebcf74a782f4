export { parseArgs } from './parser.js';
export { formatHelp } from './help.js';
export { ArgError } from './errors.js';
