// Pratt parser: tokens to a syntax tree.
//
// Node shapes: { type: 'number', value }, { type: 'variable', name },
// { type: 'unary', operator, operand }, { type: 'binary', operator, left, right },
// { type: 'call', name, args }. Every node has the `position` of its first token.

import { ParseError } from './errors.js';
import { tokenize } from './lexer.js';

// Binding power of each infix operator: higher binds tighter.
const INFIX_POWER = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
  '^': 8,
};

// Prefix operators bind tighter than any infix operator.
const PREFIX_POWER = 9;
const PREFIX_OPERATORS = ['-', '+', '!'];

export function parse(source) {
  const parser = new Parser(tokenize(source));
  const tree = parser.expression(0);
  const rest = parser.peek();
  if (rest.type !== 'end') {
    throw new ParseError(`Unexpected ${describe(rest)}`, rest.position);
  }
  return tree;
}

class Parser {
  constructor(tokens) {
    this.tokens = tokens;
    this.index = 0;
  }

  peek() {
    return this.tokens[this.index];
  }

  next() {
    return this.tokens[this.index++];
  }

  expect(type) {
    const token = this.next();
    if (token.type !== type) {
      throw new ParseError(`Expected "${type}" but found ${describe(token)}`, token.position);
    }
    return token;
  }

  // Parses an expression whose operators all bind tighter than `minPower`.
  expression(minPower) {
    let left = this.prefix();
    for (;;) {
      const token = this.peek();
      if (token.type !== 'operator') break;
      const power = INFIX_POWER[token.value];
      if (power === undefined || power <= minPower) break;
      this.next();
      const right = this.expression(power);
      left = { type: 'binary', operator: token.value, left, right, position: left.position };
    }
    return left;
  }

  prefix() {
    const token = this.next();
    switch (token.type) {
      case 'number':
        return { type: 'number', value: token.value, position: token.position };
      case 'name':
        if (this.peek().type === '(') return this.call(token);
        return { type: 'variable', name: token.value, position: token.position };
      case '(': {
        const inner = this.expression(0);
        this.expect(')');
        return inner;
      }
      case 'operator':
        if (PREFIX_OPERATORS.includes(token.value)) {
          const operand = this.expression(PREFIX_POWER);
          return { type: 'unary', operator: token.value, operand, position: token.position };
        }
        break;
      default:
        break;
    }
    throw new ParseError(`Unexpected ${describe(token)}`, token.position);
  }

  call(nameToken) {
    this.expect('(');
    const args = [];
    if (this.peek().type !== ')') {
      args.push(this.expression(0));
      while (this.peek().type === ',') {
        this.next();
        args.push(this.expression(0));
      }
    }
    this.expect(')');
    return { type: 'call', name: nameToken.value, args, position: nameToken.position };
  }
}

function describe(token) {
  switch (token.type) {
    case 'end':
      return 'end of input';
    case 'number':
      return `number ${token.value}`;
    case 'name':
      return `name "${token.value}"`;
    case 'operator':
      return `operator "${token.value}"`;
    default:
      return `"${token.type}"`;
  }
}
