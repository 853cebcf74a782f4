import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compile, evaluate, EvaluationError } from '../src/index.js';

describe('evaluate', () => {
  describe('arithmetic', () => {
    it('applies the four basic operations', () => {
      assert.equal(evaluate('7 + 5 - 2'), 10);
      assert.equal(evaluate('6 * 7 / 3'), 14);
      assert.equal(evaluate('17 % 5'), 2);
    });

    it('gives multiplication precedence over addition', () => {
      assert.equal(evaluate('2 + 3 * 4'), 14);
      assert.equal(evaluate('(2 + 3) * 4'), 20);
    });

    it('reads decimal numbers', () => {
      assert.equal(evaluate('3.25 * 4'), 13);
    });

    it('negates values', () => {
      assert.equal(evaluate('-3 + 5'), 2);
      assert.equal(evaluate('-(2 + 3)'), -5);
      assert.equal(evaluate('4 - -1'), 5);
    });

    it('computes powers', () => {
      assert.equal(evaluate('2 ^ 10'), 1024);
      assert.equal(evaluate('3 * 2 ^ 2'), 12);
    });

    it('throws on division by zero', () => {
      assert.throws(() => evaluate('1 / (2 - 2)'), EvaluationError);
    });
  });

  describe('variables and functions', () => {
    it('reads variables from the scope', () => {
      assert.equal(evaluate('price * qty', { price: 2.5, qty: 4 }), 10);
      assert.equal(evaluate('item_count2 + 1', { item_count2: 1 }), 2);
    });

    it('knows pi and e unless the scope overrides them', () => {
      assert.equal(evaluate('pi'), Math.PI);
      assert.equal(evaluate('e', { e: 1 }), 1);
    });

    it('calls built-in functions', () => {
      assert.equal(evaluate('max(1, 7, 3)'), 7);
      assert.equal(evaluate('round(2.345, 2)'), 2.35);
      assert.equal(evaluate('sqrt(16) + abs(-2)'), 6);
    });

    it('throws on unknown names', () => {
      assert.throws(() => evaluate('missing + 1'), EvaluationError);
      assert.throws(() => evaluate('launch(1)'), EvaluationError);
    });

    it('checks the number of arguments', () => {
      assert.throws(() => evaluate('sqrt(1, 2)'), /takes 1 argument/);
      assert.throws(() => evaluate('max()'), /at least 1/);
    });
  });

  describe('logic', () => {
    it('compares values', () => {
      assert.equal(evaluate('3 > 2'), true);
      assert.equal(evaluate('2 + 2 == 4'), true);
      assert.equal(evaluate('1 >= 2'), false);
    });

    it('combines conditions', () => {
      assert.equal(evaluate('a > 1 && b < 5', { a: 2, b: 3 }), true);
      assert.equal(evaluate('a > 5 || b < 5', { a: 2, b: 3 }), true);
      assert.equal(evaluate('!(a == 2)', { a: 2 }), false);
    });
  });
});

describe('compile', () => {
  it('reuses a parsed expression with different scopes', () => {
    const total = compile('round(net * (1 + vat), 2)');
    assert.equal(total({ net: 10, vat: 0.2 }), 12);
    assert.equal(total({ net: 19.99, vat: 0.075 }), 21.49);
  });
});
