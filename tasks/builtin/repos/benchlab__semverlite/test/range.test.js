import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maxSatisfying, satisfies } from '../src/index.js';

const check = (range, yes, no) => {
  for (const v of yes) assert.equal(satisfies(v, range), true, `${v} should satisfy ${range}`);
  for (const v of no) assert.equal(satisfies(v, range), false, `${v} should not satisfy ${range}`);
};

describe('satisfies', () => {
  it('handles plain comparators', () => {
    check('>=1.2.3 <2.0.0', ['1.2.3', '1.9.9'], ['1.2.2', '2.0.0']);
    check('1.2.3', ['1.2.3'], ['1.2.4']);
    check('>1.2', ['1.3.0'], ['1.2.9']);
    check('<=1.2', ['1.2.9'], ['1.3.0']);
  });

  it('handles x-ranges', () => {
    check('1.2.x', ['1.2.0', '1.2.99'], ['1.3.0', '1.1.9']);
    check('1', ['1.0.0', '1.99.0'], ['2.0.0']);
    check('*', ['0.0.1', '9.9.9'], []);
  });

  it('handles tilde ranges', () => {
    check('~1.2.3', ['1.2.3', '1.2.9'], ['1.3.0', '1.2.2']);
    check('~1', ['1.5.0'], ['2.0.0']);
  });

  it('handles caret ranges from 1.0.0 up', () => {
    check('^1.2.3', ['1.2.3', '1.9.0'], ['2.0.0', '1.2.2']);
    check('^2.x', ['2.0.0', '2.5.1'], ['3.0.0']);
  });

  it('handles hyphen ranges of full versions', () => {
    check('1.2.3 - 2.3.4', ['1.2.3', '2.3.4'], ['1.2.2', '2.3.5']);
    check('1.2 - 2.3.4', ['1.2.0'], ['1.1.9']);
  });

  it('handles unions', () => {
    check('^1.2.0 || >=3.0.0', ['1.5.0', '3.1.0'], ['2.0.0']);
  });

  it('compares prereleases by precedence', () => {
    check('>=1.0.0-beta.1 <1.0.0', ['1.0.0-beta.1', '1.0.0-rc.1'], ['1.0.0-alpha.9', '1.0.0']);
  });

  it('rejects invalid ranges', () => {
    assert.throws(() => satisfies('1.0.0', '>=banana'), TypeError);
  });

  it('never matches an invalid version', () => {
    assert.equal(satisfies('not-a-version', '*'), false);
  });
});

describe('maxSatisfying', () => {
  it('picks the highest matching version', () => {
    assert.equal(maxSatisfying(['1.2.0', '1.5.1', '1.5.0', '2.0.0'], '~1.5'), '1.5.1');
  });

  it('returns null when nothing matches', () => {
    assert.equal(maxSatisfying(['1.0.0'], '>=2'), null);
  });
});
