// Tree-walking evaluator. Only the scope and the built-ins below are reachable.

import { EvaluationError } from './errors.js';

const CONSTANTS = { pi: Math.PI, e: Math.E };

// name: [minimum arguments, maximum arguments, implementation]
const FUNCTIONS = {
  abs: [1, 1, Math.abs],
  sqrt: [1, 1, Math.sqrt],
  floor: [1, 1, Math.floor],
  ceil: [1, 1, Math.ceil],
  round: [1, 2, round],
  min: [1, Infinity, Math.min],
  max: [1, Infinity, Math.max],
};

export function evaluateTree(node, scope = {}) {
  switch (node.type) {
    case 'number':
      return node.value;
    case 'variable':
      return lookup(node.name, scope);
    case 'unary':
      return applyUnary(node.operator, evaluateTree(node.operand, scope));
    case 'binary': {
      const left = evaluateTree(node.left, scope);
      const right = evaluateTree(node.right, scope);
      return applyBinary(node.operator, left, right);
    }
    case 'call':
      return callFunction(node, scope);
    default:
      throw new EvaluationError(`Unknown node type "${node.type}"`);
  }
}

function lookup(name, scope) {
  if (Object.hasOwn(scope, name)) return scope[name];
  if (Object.hasOwn(CONSTANTS, name)) return CONSTANTS[name];
  throw new EvaluationError(`Unknown variable "${name}"`);
}

function applyUnary(operator, value) {
  switch (operator) {
    case '-':
      return -value;
    case '+':
      return +value;
    case '!':
      return !value;
    default:
      throw new EvaluationError(`Unknown operator "${operator}"`);
  }
}

function applyBinary(operator, left, right) {
  switch (operator) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      if (right === 0) throw new EvaluationError('Division by zero');
      return left / right;
    case '%':
      if (right === 0) throw new EvaluationError('Modulo by zero');
      return left % right;
    case '^':
      return left ** right;
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '&&':
      return Boolean(left && right);
    case '||':
      return Boolean(left || right);
    default:
      throw new EvaluationError(`Unknown operator "${operator}"`);
  }
}

function callFunction(node, scope) {
  if (!Object.hasOwn(FUNCTIONS, node.name)) {
    throw new EvaluationError(`Unknown function "${node.name}"`);
  }
  const [min, max, implementation] = FUNCTIONS[node.name];
  const count = node.args.length;
  if (count < min || count > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new EvaluationError(`${node.name}() takes ${expected} argument(s), got ${count}`);
  }
  const values = node.args.map((arg) => evaluateTree(arg, scope));
  return implementation(...values);
}

function round(value, digits = 0) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
