import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, CsvError } from '../src/index.js';

describe('parse', () => {
  it('splits simple rows', () => {
    assert.deepEqual(parse('a,b,c\n1,2,3\n'), [
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
  });

  it('keeps quoted commas', () => {
    assert.deepEqual(parse('name,note\nAda,"likes, commas"\n'), [
      ['name', 'note'],
      ['Ada', 'likes, commas'],
    ]);
  });

  it('unescapes doubled quotes inside quoted fields', () => {
    assert.deepEqual(parse('"say ""hi""",x\n'), [['say "hi"', 'x']]);
  });

  it('keeps line breaks inside quoted fields', () => {
    assert.deepEqual(parse('a,"line one\nline two"\nb,c\n'), [
      ['a', 'line one\nline two'],
      ['b', 'c'],
    ]);
  });

  it('does not add a row for a final line break', () => {
    assert.deepEqual(parse('a,b\n'), [['a', 'b']]);
    assert.deepEqual(parse('a,b'), [['a', 'b']]);
  });

  it('keeps empty fields', () => {
    assert.deepEqual(parse(',x,\n'), [['', 'x', '']]);
  });

  it('uses a custom delimiter', () => {
    assert.deepEqual(parse('a;b\n1;2\n', { delimiter: ';' }), [
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('uses a custom quote character', () => {
    assert.deepEqual(parse("'a,b',c\n", { quote: "'" }), [['a,b', 'c']]);
  });

  it('drops blank lines with skipEmptyLines', () => {
    assert.deepEqual(parse('a\n\nb\n', { skipEmptyLines: true }), [['a'], ['b']]);
  });

  it('trims unquoted fields with trim', () => {
    assert.deepEqual(parse(' a , b \n', { trim: true }), [['a', 'b']]);
  });

  describe('header option', () => {
    it('returns objects keyed by the first row', () => {
      assert.deepEqual(parse('name,age\nAda,36\nAlan,41\n', { header: true }), [
        { name: 'Ada', age: '36' },
        { name: 'Alan', age: '41' },
      ]);
    });

    it('fills missing fields with empty strings', () => {
      assert.deepEqual(parse('a,b,c\n1\n', { header: true }), [{ a: '1', b: '', c: '' }]);
    });
  });

  describe('errors', () => {
    it('reports an unterminated quote with its position', () => {
      assert.throws(() => parse('a,b\nc,"open\n'), (error) => {
        assert.ok(error instanceof CsvError);
        assert.equal(error.line, 2);
        assert.equal(error.column, 3);
        return true;
      });
    });

    it('rejects characters after a closing quote', () => {
      assert.throws(() => parse('"ab"c,d\n'), CsvError);
    });

    it('rejects a multi-character delimiter', () => {
      assert.throws(() => parse('a::b', { delimiter: '::' }), TypeError);
    });
  });
});
