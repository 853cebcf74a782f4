import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatHelp } from '../src/index.js';

describe('formatHelp', () => {
  it('prints the usage line with positionals', () => {
    const text = formatHelp({ program: 'copy', positionals: ['source', 'dest'], options: {} });
    assert.equal(text, 'Usage: copy <source> <dest>\n');
  });

  it('aligns options and shows defaults', () => {
    const text = formatHelp({
      program: 'greet',
      options: {
        loud: { type: 'boolean', short: 'l', description: 'Shout the greeting' },
        times: { type: 'number', short: 'n', default: 1, description: 'How many times' },
        lang: { type: 'string', default: 'en', description: 'Language code' },
      },
    });
    assert.equal(
      text,
      [
        'Usage: greet [options]',
        '',
        'Options:',
        '  -l, --loud            Shout the greeting',
        '  -n, --times <number>  How many times (default: 1)',
        '      --lang <string>   Language code (default: "en")',
        '',
      ].join('\n'),
    );
  });

  it('prints the description under the usage line', () => {
    const text = formatHelp({ program: 'x', description: 'Does x.', options: {} });
    assert.equal(text, 'Usage: x\n\nDoes x.\n');
  });

  it('marks repeatable options', () => {
    const text = formatHelp({ options: { tag: { type: 'string', multiple: true, description: 'Add a tag' } } });
    assert.match(text, / {6}--tag <string>\.\.\. {2}Add a tag\n/);
  });
});
