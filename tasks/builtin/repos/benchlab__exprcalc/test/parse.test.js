import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, ParseError } from '../src/index.js';

const positionOf = (source) => {
  try {
    parse(source);
  } catch (error) {
    assert.ok(error instanceof ParseError, `expected a ParseError, got ${error}`);
    return error.position;
  }
  assert.fail(`expected "${source}" to be rejected`);
};

describe('parse', () => {
  it('builds a tree for a binary expression', () => {
    const tree = parse('1 + x');
    assert.equal(tree.type, 'binary');
    assert.equal(tree.operator, '+');
    assert.deepEqual(tree.left, { type: 'number', value: 1, position: 0 });
    assert.deepEqual(tree.right, { type: 'variable', name: 'x', position: 4 });
  });

  it('builds call nodes with their arguments', () => {
    const tree = parse('max(a, 2)');
    assert.equal(tree.type, 'call');
    assert.equal(tree.name, 'max');
    assert.equal(tree.args.length, 2);
  });

  it('reports an unexpected character with its position', () => {
    assert.equal(positionOf('1 + $'), 4);
  });

  it('reports a missing closing parenthesis', () => {
    assert.equal(positionOf('(1 + 2'), 6);
  });

  it('reports trailing tokens', () => {
    assert.equal(positionOf('1 2'), 2);
  });

  it('reports a dangling operator', () => {
    assert.equal(positionOf('3 *'), 3);
  });
});
