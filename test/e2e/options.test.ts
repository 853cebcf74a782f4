import { describe, expect, test } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bench } from '../helpers/cli.ts';

// Every bad option is one paragraph on stderr, exit 2, and nothing written (no database is created).
async function refused(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-options-'));
  const result = await bench([...args], { env: { BENCH_DB: join(dir, 'bench.db') } });
  expect(result.exitCode, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: bench \w+: /);
  return lines[0]!;
}

describe('one option layer for every command', () => {
  test('an unknown option names the nearest known one', async () => {
    expect(await refused(['run', '--jbos', '3'])).toMatch(/unknown option `--jbos`\. Did you mean `--jobs`\? Run `bench run --help`/);
    expect(await refused(['report', '--fromat', 'md'])).toMatch(/unknown option `--fromat`\. Did you mean `--format`\?/);
    expect(await refused(['runs', '--jsno'])).toMatch(/Did you mean `--json`\?/);
  }, 180_000);

  test('an unknown short option lists the command\'s short options', async () => {
    expect(await refused(['eval', '-x'])).toMatch(/unknown option `-x`; its short options are -j \(--jobs\), -h \(--help\)/);
  }, 180_000);

  test('a bad integer says what was given and what is expected', async () => {
    expect(await refused(['run', '-j', 'two'])).toMatch(/--jobs must be an integer >= 1, got `two`/);
    expect(await refused(['run', '--runs', '2.5'])).toMatch(/--runs must be an integer >= 1, got `2\.5`/);
    expect(await refused(['run', '--fail-fast', '-1'])).toMatch(/--fail-fast must be an integer >= 0, got `-1`/);
    expect(await refused(['view', '--port', '70000'])).toMatch(/--port must be an integer from 1 to 65535, got `70000`/);
    expect(await refused(['show', 'run', 'inst', 'cfg', '--repeat', 'first'])).toMatch(/--repeat must be an integer >= 0, got `first`/);
  }, 180_000);

  test('a bad number says what was given', async () => {
    expect(await refused(['run', '--max-cost', '$5'])).toMatch(/--max-cost must be a number >= 0, got `\$5`/);
  }, 180_000);

  test('a value outside a stage\'s registry lists the choices and the nearest', async () => {
    expect(await refused(['report', '--format', 'htlm'])).toMatch(/--format must be one of table, md, json, csv, html, got `htlm`\. Did you mean `html`\?/);
    expect(await refused(['run', '--sandbox', 'bwarp'])).toMatch(/--sandbox must be one of bwrap, local, docker, podman, got `bwarp`\. Did you mean `bwrap`\?/);
    expect(await refused(['tasks', 'validate', '--derive', '--naming', 'swe'])).toMatch(/--naming must be one of bench, swebench, polybench/);
    expect(await refused(['images', 'check', '--sandbox', 'bwrap'])).toMatch(/--sandbox must be one of docker, podman, got `bwrap`/);
  }, 180_000);

  test('a missing value and a value given to a switch are told apart', async () => {
    expect(await refused(['run', '--configs'])).toMatch(/--configs needs a value \(a,b\)/);
    expect(await refused(['run', '-j'])).toMatch(/--jobs needs a value \(N\)/);
    expect(await refused(['run', '--json=yes'])).toMatch(/--json is a switch and takes no value/);
  }, 180_000);

  test('a required option that is missing is named with the usage', async () => {
    expect(await refused(['eval'])).toMatch(/--predictions FILE\|gold is required: .*Usage: bench eval --predictions/);
    expect(await refused(['export', 'some-run'])).toMatch(/--configs NAME is required: the config \(column\) of run some-run/);
    expect(await refused(['worker'])).toMatch(/--queue redis:\/\/HOST:PORT\[\/DB\] is required/);
  }, 180_000);

  test('help shows each option\'s default and a typed value is accepted in both spellings', async () => {
    const help = await bench(['run', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/-j, --jobs N +Attempts in flight at once.*\(default 4\)/);
    expect(help.stdout).toMatch(/--fail-fast N +.*\(default 5\)/);
    const listed = await bench(['tasks', 'list', '--json', '--jobs=3', '--instances=benchlab__csvkit-1']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ instance_id: 'benchlab__csvkit-1' })]);
  }, 180_000);
});
