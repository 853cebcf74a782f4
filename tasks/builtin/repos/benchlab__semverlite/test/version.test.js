import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compare, inc, parse, sort, valid } from '../src/index.js';

describe('parse', () => {
  it('reads major, minor and patch', () => {
    assert.deepEqual(parse('1.22.333'), { major: 1, minor: 22, patch: 333, prerelease: [], build: [] });
  });

  it('accepts a leading v', () => {
    assert.equal(valid('v2.0.1'), '2.0.1');
  });

  it('reads prerelease identifiers', () => {
    assert.deepEqual(parse('1.0.0-rc.1').prerelease, ['rc', 1]);
  });

  it('rejects malformed versions', () => {
    for (const text of ['1.2', '01.2.3', '1.2.3-', '1.2.3-01', 'a.b.c', '', '1.2.3.4']) {
      assert.equal(valid(text), null, text);
    }
  });
});

describe('compare', () => {
  it('orders by major, minor and patch numerically', () => {
    assert.equal(compare('1.2.3', '1.10.0'), -1);
    assert.equal(compare('2.0.0', '1.99.99'), 1);
    assert.equal(compare('1.2.3', 'v1.2.3'), 0);
  });

  it('puts a prerelease before its release', () => {
    assert.equal(compare('1.0.0-rc.1', '1.0.0'), -1);
    assert.equal(compare('1.0.0', '1.0.0-rc.1'), 1);
  });

  it('orders prerelease identifiers', () => {
    assert.equal(compare('1.0.0-alpha', '1.0.0-alpha.1'), -1);
    assert.equal(compare('1.0.0-alpha.1', '1.0.0-alpha.beta'), -1);
    assert.equal(compare('1.0.0-beta', '1.0.0-alpha'), 1);
    assert.equal(compare('1.0.0-beta.2', '1.0.0-beta.3'), -1);
  });

  it('sorts lists without changing them', () => {
    const list = ['1.10.0', '1.2.0', '1.2.0-beta', '0.9.9'];
    assert.deepEqual(sort(list), ['0.9.9', '1.2.0-beta', '1.2.0', '1.10.0']);
    assert.deepEqual(list, ['1.10.0', '1.2.0', '1.2.0-beta', '0.9.9']);
  });

  it('throws on invalid versions', () => {
    assert.throws(() => compare('1.2', '1.2.0'), TypeError);
  });
});

describe('inc', () => {
  it('bumps major, minor and patch', () => {
    assert.equal(inc('1.2.3', 'major'), '2.0.0');
    assert.equal(inc('1.2.3', 'minor'), '1.3.0');
    assert.equal(inc('1.2.3', 'patch'), '1.2.4');
  });

  it('releases a prerelease', () => {
    assert.equal(inc('1.2.4-beta.1', 'patch'), '1.2.4');
    assert.equal(inc('2.0.0-rc.1', 'major'), '2.0.0');
  });

  it('starts and continues prereleases', () => {
    assert.equal(inc('1.2.3', 'prerelease', 'beta'), '1.2.4-beta.0');
    assert.equal(inc('1.2.4-beta.0', 'prerelease'), '1.2.4-beta.1');
    assert.equal(inc('1.2.4-alpha.3', 'prerelease', 'beta'), '1.2.4-beta.0');
  });
});
