import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { channelFor } from '../../src/grading/_channel.ts';
import { PROJECT_ROOT } from '../helpers/cli.ts';

const scratch = mkdtempSync(join(tmpdir(), 'bench-channel-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const repo = join(scratch, 'csvkit');
cpSync(join(PROJECT_ROOT, 'tasks', 'builtin', 'repos', 'benchlab__csvkit'), repo, { recursive: true });

/** A test command run as the grading script runs it (`bash -c`), the channel's settings applied, descriptor 3 a pipe we read. */
async function run(testCmd: string) {
  const channel = channelFor('node-junit', testCmd)!;
  const result = await execa('bash', ['--norc', '--noprofile', '-c', channel.command ?? testCmd], {
    cwd: repo, reject: false, extendEnv: false, env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ...channel.env },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const report = String(result.stdio[3] ?? '');
  return { channel, stdout: String(result.stdout), report, read: channel.read(report, repo) };
}

describe("node:test's report channel", () => {
  it("takes the place of a command's only reporter when it is junit on stdout, writing the same report to both", async () => {
    for (const testCmd of ['node --test --test-reporter=junit test/parse.test.js', 'node --test --test-reporter junit "test/parse.test.js"', `bash -c "node --test --test-reporter=junit test/parse.test.js"`]) {
      const { channel, stdout, report, read } = await run(testCmd);
      expect(channel.env, testCmd).toEqual({});
      expect(channel.command, testCmd).not.toContain('--test-reporter=junit');
      expect(read.kind, testCmd).toBe('report');
      if (read.kind !== 'report') continue;
      expect(read.log.tests.get('test/parse.test.js::parse::splits simple rows')).toBe('PASSED');
      // The log shows what the command's own reporter would have printed.
      expect(stdout.trim()).toBe(report.trim());
      expect(stdout).toMatch(/^<\?xml[\s\S]*<\/testsuites>\s*$/);
    }
  });

  it('is added beside the reporters of any other command, which keep printing what they printed', async () => {
    const cases = [
      { testCmd: 'node --test --test-reporter=tap test/parse.test.js', stdout: /^TAP version 13/m },
      { testCmd: 'node --test --test-reporter=junit --test-reporter-destination=stdout test/parse.test.js', stdout: /^<\?xml/ },
      { testCmd: 'node --test test/parse.test.js', stdout: /✔ splits simple rows/ },
    ];
    for (const { testCmd, stdout: printed } of cases) {
      const { channel, stdout, read } = await run(testCmd);
      expect(channel.command, testCmd).toBeUndefined();
      expect(channel.env.NODE_OPTIONS, testCmd).toContain('--test-reporter=data:');
      expect(stdout, testCmd).toMatch(printed);
      expect(read.kind, testCmd).toBe('report');
      if (read.kind === 'report') expect(read.log.tests.get('test/parse.test.js::parse::splits simple rows')).toBe('PASSED');
    }
  });
});
