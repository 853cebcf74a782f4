import Table from 'cli-table3';
import { defineCommand, printJson } from './_command.ts';
import { JSON_OPTION } from './_options.ts';
import { UserError } from '../errors.ts';
import { SANDBOXES, SANDBOX_NAMES, DEFAULT_SANDBOX, type SandboxBackend } from '../sandbox/index.ts';

const COLLECTED = SANDBOX_NAMES.filter((n) => (SANDBOXES[n] as SandboxBackend).leftovers);

export default defineCommand(
  {
    name: 'sandbox',
    summary: 'List the sandbox backends and whether each can run here; remove containers a killed run left behind.',
    usage: 'bench sandbox list | gc [--sandbox NAME] [--run ID] [--all] [--json]',
    options: {
      sandbox: { type: 'choice', choices: COLLECTED, value: COLLECTED.join('|'), description: `gc: only this backend (default every backend that can leave something: ${COLLECTED.join(', ')})` },
      run: { type: 'string', value: 'ID', description: 'gc: only the containers of this run, running or not' },
      all: { type: 'boolean', description: 'gc: also the containers of bench processes still running' },
      ...JSON_OPTION,
    },
    positionals: { min: 1, max: 1, names: 'list|gc' },
  },
  async ({ values, positionals }) => {
    const [action] = positionals;
    if (action === 'list') {
      const rows = await Promise.all(SANDBOX_NAMES.map(async (name) => {
        const backend: SandboxBackend = SANDBOXES[name];
        const missing = await backend.unavailable();
        return { name, default: name === DEFAULT_SANDBOX, isolates: backend.isolates, images: Boolean(backend.images), available: !missing, why: missing };
      }));
      if (values.json) printJson(rows);
      else {
        const table = new Table({ head: ['sandbox', 'isolates', 'images', 'available', ''], style: { head: [], border: [] }, colWidths: [null, null, null, null, 70], wordWrap: true });
        for (const row of rows) table.push([`${row.name}${row.default ? ' (default)' : ''}`, row.isolates ? 'yes' : 'no', row.images ? 'yes' : 'no', row.available ? 'yes' : 'no', row.why ?? SANDBOXES[row.name].summary]);
        process.stdout.write(`${table.toString()}\n`);
      }
      return 0;
    }
    if (action !== 'gc') throw new UserError(`bench sandbox: unknown action \`${action}\`; use \`list\` or \`gc\`.`);
    const names = values.sandbox ? [values.sandbox] : COLLECTED;
    const results: Record<string, { removed: string[]; kept: string[] }> = {};
    for (const name of names) {
      const backend: SandboxBackend = SANDBOXES[name];
      if (!backend.leftovers) continue;
      // An engine that is not installed has nothing of ours to remove, unless it was named.
      if (!values.sandbox && (await backend.unavailable())) continue;
      results[name] = await backend.leftovers({ run: values.run, all: values.all });
    }
    if (values.json) printJson(results);
    else {
      for (const [name, { removed, kept }] of Object.entries(results)) {
        process.stdout.write(`${name}: removed ${removed.length} container${removed.length === 1 ? '' : 's'}${removed.length ? ` (${removed.join(', ')})` : ''}` +
          `${kept.length ? `; kept ${kept.length} of running bench processes (--all removes them too)` : ''}\n`);
      }
      if (Object.keys(results).length === 0) process.stdout.write('no container engine here: nothing to collect\n');
    }
    return 0;
  },
);
