import { evaluateTree } from './evaluate.js';
import { parse } from './parser.js';

export { parse } from './parser.js';
export { tokenize } from './lexer.js';
export { ParseError, EvaluationError } from './errors.js';

export function evaluate(source, scope = {}) {
  return evaluateTree(parse(source), scope);
}

export function compile(source) {
  const tree = parse(source);
  return (scope = {}) => evaluateTree(tree, scope);
}
