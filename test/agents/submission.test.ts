import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { bench } from '../helpers/cli.ts';
import { startOracleModel } from '../helpers/oracle-model.ts';

const dirs: string[] = [];
const servers: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the submission convention of a run', () => {
  it('at the step limit without a submission, explicit grades an empty patch and autosubmit the diff; show, report and export say which ran', async () => {
    // The oracle applies the gold fix on its first turn and would submit on its second: max_steps = 1 stops it in between.
    const oracle = await startOracleModel({ usage: { input: 500, output: 40 } });
    servers.push(oracle);
    const dir = mkdtempSync(join(tmpdir(), 'bench-submit-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'config.toml'), `[llm]\nmodel = "gpt-4o"\n\n[agent.mini-limit]\ntype = "bash"\nmax_steps = 1\n\n[agent.swe-limit]\ntype = "bash"\nsubmit = "autosubmit"\nmax_steps = 1\n`);
    const db = join(dir, 'bench.db');
    const env = { LLM_BASE_URL: oracle.openaiUrl, LLM_API_KEY: 'sk-submit-0123456789', LLM_NUM_RETRIES: '0', BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), CI: '1' };
    const instance = 'benchlab__exprcalc-1';
    const expected = { 'mini-limit': ['explicit', 'empty_patch'], 'swe-limit': ['autosubmit', 'resolved'] } as const;
    for (const agent of Object.keys(expected) as (keyof typeof expected)[]) {
      const run = await bench(['run', '--agent', agent, '--configs', 'llm', '--instances', instance, '--run-id', agent, '--db', db], { cwd: dir, env });
      expect(run.exitCode, run.stderr).toBe(0);
    }

    const raw = new Database(db, { readonly: true });
    const attempts = raw.prepare('SELECT id, run_id, outcome, exit_reason, patch FROM attempts ORDER BY id').all() as any[];
    raw.close();
    expect(attempts.map((a) => [a.run_id, a.exit_reason, a.outcome])).toEqual([['mini-limit', 'max_steps', 'empty_patch'], ['swe-limit', 'max_steps', 'resolved']]);
    expect(attempts[0].patch ?? '').toBe('');
    expect(attempts[1].patch).toContain('diff --git a/src/parser.js');

    for (const [i, agent] of (Object.keys(expected) as (keyof typeof expected)[]).entries()) {
      const [submit] = expected[agent];
      const show = await bench(['show', String(attempts[i].id), '--db', db], { cwd: dir, env });
      expect(show.stdout).toContain(`submission: ${submit}`);
      const report = JSON.parse((await bench(['report', agent, '--format', 'json', '--db', db], { cwd: dir, env })).stdout);
      expect(report.configs[0]).toMatchObject({ config: 'llm', agent, submit });
      const out = join(dir, `export-${agent}`);
      const exported = await bench(['export', agent, '--config', 'llm', '--trajectories', '--out', out, '--db', db], { cwd: dir, env });
      expect(exported.exitCode, exported.stderr).toBe(0);
      const results = JSON.parse(readFileSync(join(out, readdirSync(out).find((name) => name.endsWith('.json'))!), 'utf8'));
      expect(results.agent).toMatchObject({ name: agent, settings: { submit } });
      const trajDir = readdirSync(out).find((name) => name.endsWith('.trajs'))!;
      const traj = JSON.parse(readFileSync(join(out, trajDir, `${instance}.traj.json`), 'utf8'));
      expect(traj.info).toMatchObject({ exit_status: 'LimitsExceeded', bench: { submit } });
    }
  }, 240_000);
});
