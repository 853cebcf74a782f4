import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from '../src/index.js';

describe('stringify', () => {
  it('joins fields with commas and ends rows with a newline', () => {
    assert.equal(stringify([['a', 'b'], ['1', '2']]), 'a,b\n1,2\n');
  });

  it('quotes fields that contain the delimiter', () => {
    assert.equal(stringify([['Ada', 'likes, commas']]), 'Ada,"likes, commas"\n');
  });

  it('doubles quote characters inside fields', () => {
    assert.equal(stringify([['say "hi"']]), '"say ""hi"""\n');
  });

  it('writes null and undefined as empty fields', () => {
    assert.equal(stringify([[null, 'x', undefined]]), ',x,\n');
  });

  it('converts numbers and dates to text', () => {
    const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    assert.equal(stringify([[42, when]]), '42,2024-01-02T03:04:05.000Z\n');
  });

  it('uses the eol option', () => {
    assert.equal(stringify([['a'], ['b']], { eol: '\r\n' }), 'a\r\nb\r\n');
  });

  it('quotes every field with quoteAll', () => {
    assert.equal(stringify([['a', 'b']], { quoteAll: true }), '"a","b"\n');
  });

  it('writes object rows in column order with a header', () => {
    const rows = [{ age: 36, name: 'Ada' }];
    assert.equal(stringify(rows, { columns: ['name', 'age'], header: true }), 'name,age\nAda,36\n');
  });

  it('rejects object rows without columns', () => {
    assert.throws(() => stringify([{ a: 1 }]), TypeError);
  });

  it('round-trips through parse', () => {
    const rows = [
      ['id', 'comment'],
      ['1', 'plain'],
      ['2', 'with, comma'],
      ['3', 'with "quotes"'],
    ];
    assert.deepEqual(parse(stringify(rows)), rows);
  });
});
