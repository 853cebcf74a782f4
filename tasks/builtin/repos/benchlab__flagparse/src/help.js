// Generated help text: a usage line, the description and an aligned option table.

import { indexOptions } from './spec.js';

/**
 * Format help for `spec`. Lines look like
 *   -n, --times <number>  How many times (default: 1)
 */
export function formatHelp(spec = {}) {
  const program = spec.program ?? 'program';
  const index = indexOptions(spec.options);
  const usage = [`Usage: ${program}`];
  if (index.byName.size > 0) usage.push('[options]');
  for (const name of spec.positionals ?? []) usage.push(`<${name}>`);

  const lines = [usage.join(' ')];
  if (spec.description) lines.push('', spec.description);

  const rows = [...index.byName.values()].map((def) => [optionLabel(def), optionText(def)]);
  if (rows.length > 0) {
    const width = Math.max(...rows.map(([label]) => label.length));
    lines.push('', 'Options:');
    for (const [label, text] of rows) {
      lines.push(`  ${text ? `${label.padEnd(width)}  ${text}` : label}`.trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

function optionLabel(def) {
  const short = def.short ? `-${def.short}, ` : '    ';
  const value = def.type === 'boolean' ? '' : ` <${def.type}>`;
  const repeat = def.multiple ? '...' : '';
  return `${short}--${def.name}${value}${repeat}`;
}

function optionText(def) {
  const parts = [];
  if (def.description) parts.push(def.description);
  if (def.default !== undefined && def.type !== 'boolean') {
    parts.push(`(default: ${JSON.stringify(def.default)})`);
  }
  return parts.join(' ');
}
