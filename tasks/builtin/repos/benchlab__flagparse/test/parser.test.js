import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArgError, parseArgs } from '../src/index.js';

const spec = {
  options: {
    verbose: { type: 'boolean', short: 'v' },
    extract: { type: 'boolean', short: 'x' },
    file: { type: 'string', short: 'f' },
    times: { type: 'number', short: 'n', default: 1 },
    lang: { type: 'string', default: 'en' },
    tag: { type: 'string', multiple: true },
  },
};

const parse = (argv) => parseArgs(argv, spec);

describe('parseArgs', () => {
  describe('long options', () => {
    it('reads a value from the next argument', () => {
      assert.equal(parse(['--lang', 'fr']).options.lang, 'fr');
    });

    it('reads a value after an equals sign', () => {
      assert.equal(parse(['--lang=de']).options.lang, 'de');
      assert.equal(parse(['--file=a=b.txt']).options.file, 'a=b.txt');
    });

    it('sets booleans without a value', () => {
      assert.equal(parse(['--verbose']).options.verbose, true);
    });

    it('rejects a value given to a boolean', () => {
      assert.throws(() => parse(['--verbose=yes']), ArgError);
    });

    it('rejects unknown options and names them', () => {
      assert.throws(() => parse(['--colour']), (error) => error instanceof ArgError && error.option === 'colour');
    });

    it('complains when a value is missing', () => {
      assert.throws(() => parse(['--lang']), /needs a value/);
    });
  });

  describe('short options', () => {
    it('reads a value from the next argument', () => {
      assert.equal(parse(['-n', '5']).options.times, 5);
    });

    it('groups boolean short options', () => {
      const { options } = parse(['-xv']);
      assert.equal(options.extract, true);
      assert.equal(options.verbose, true);
    });

    it('gives the next argument to the last option of a group', () => {
      const { options, positionals } = parse(['-xvf', 'archive.tar', 'out']);
      assert.equal(options.file, 'archive.tar');
      assert.deepEqual(positionals, ['out']);
    });
  });

  describe('values', () => {
    it('fills in defaults', () => {
      assert.deepEqual(parse([]).options, {
        verbose: false,
        extract: false,
        file: undefined,
        times: 1,
        lang: 'en',
        tag: [],
      });
    });

    it('converts number options', () => {
      assert.equal(parse(['--times=2.5']).options.times, 2.5);
    });

    it('rejects values that are not numbers', () => {
      assert.throws(() => parse(['--times', 'lots']), /expects a number/);
    });

    it('collects every occurrence of a multiple option', () => {
      assert.deepEqual(parse(['--tag', 'a', '--tag=b']).options.tag, ['a', 'b']);
    });
  });

  describe('positionals', () => {
    it('keeps arguments that are not options in order', () => {
      assert.deepEqual(parse(['in.txt', '-v', 'out.txt']).positionals, ['in.txt', 'out.txt']);
    });

    it('treats negative numbers as positionals', () => {
      assert.deepEqual(parse(['-5', '-2.5']).positionals, ['-5', '-2.5']);
    });
  });
});
