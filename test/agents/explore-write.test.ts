import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent, toMiniTrajectory } from '../../src/agents/index.ts';
import { PROJECT_ROOT, bench } from '../helpers/cli.ts';
import { startLlmServer, type LlmServer, type Reply } from '../helpers/llm-server.ts';
import { startOracleModel } from '../helpers/oracle-model.ts';
import { agentSettings, clientOf, instanceOf, passingFailToPass, runTests, workspaces } from './_fixtures.ts';

const instance = instanceOf('benchlab__exprcalc-1');
let sandbox: Awaited<ReturnType<typeof workspaces>>;
const servers: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  sandbox = await workspaces();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await sandbox.cleanup();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function serve(script: Reply[]): Promise<LlmServer> {
  const server = await startLlmServer(script);
  servers.push(server);
  return server;
}

const call = (command: string, id: string): Reply => ({ kind: 'success', text: '', toolCalls: [{ id, name: 'bash', arguments: { command } }] });
const FIX = `sed -i "s/const right = this.expression(power);/const right = this.expression(token.value === '^' ? power - 1 : power);/" src/parser.js`;

describe('explore-then-write', () => {
  it('the explorer reads with its config and hands locations to the writer, whose config writes the fix; what the explorer wrote is undone', async () => {
    const explorer = await serve([
      call('echo junk > src/junk.js && grep -n "this.expression(power)" src/parser.js', 'call_e1'),
      call("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo 'src/parser.js:40 - the right operand of ^ groups from the left'", 'call_e2'),
    ]);
    const writer = await serve([
      call(`${FIX} && git diff -- src/parser.js > patch.txt`, 'call_w1'),
      call('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat patch.txt', 'call_w2'),
    ]);
    const workspace = await sandbox.create(instance);
    const result = await runAgent({
      instance, workspace, settings: agentSettings('explore-then-write'),
      clients: { explorer: clientOf(explorer, 'scout', { model: 'openai/gpt-4o-mini' }), main: clientOf(writer, 'coder') },
    });
    expect(result.exit).toBe('submitted');
    expect(result.calls.map((c) => [c.role, c.configName])).toEqual([['explorer', 'scout'], ['explorer', 'scout'], ['writer', 'coder'], ['writer', 'coder']]);
    expect(explorer.requests[0]!.body.messages[0].content).toContain('You only read');
    const handed = writer.requests[0]!.body.messages[1].content as string;
    expect(handed).toMatch(/<exploration_notes>\nsrc\/parser\.js:40 - the right operand/);
    expect(result.patch).not.toContain('junk.js');
    expect(result.trajectory.some((step) => step.kind === 'note' && /undone before the writer starts: src\/junk\.js/.test(step.text))).toBe(true);
    const tests = await runTests(sandbox.create, instance, result.patch);
    expect(passingFailToPass(instance, tests.output)).toHaveLength(instance.FAIL_TO_PASS.length);

    // The same attempt as a mini-swe-agent trajectory: its messages in order, each with the role that had it.
    const traj = toMiniTrajectory({
      instanceId: instance.instance_id, agent: 'pipeline', configName: 'scout+coder', trajectory: result.trajectory, patch: result.patch,
      exitReason: result.exit, costUsd: 0.01, calls: result.calls.length, agentSettings: { type: 'explore-then-write', submit: 'explicit' },
      models: { scout: 'openai/gpt-4o-mini', coder: 'openai/gpt-4o' }, harnessVersion: '0.1.0',
    }) as any;
    expect(traj).toMatchObject({ trajectory_format: 'mini-swe-agent-1.1', instance_id: instance.instance_id, info: { exit_status: 'Submitted', submission: result.patch, model_stats: { api_calls: 4 }, bench: { submit: 'explicit' } } });
    expect(traj.messages.map((m: any) => `${m.extra.bench_role}:${m.role}`)).toEqual([
      'explorer:system', 'explorer:user', 'explorer:assistant', 'explorer:tool', 'explorer:assistant',
      'writer:system', 'writer:user', 'writer:assistant', 'writer:tool', 'writer:assistant',
    ]);
    expect(traj.messages[2].tool_calls[0]).toMatchObject({ id: 'call_e1', type: 'function', function: { name: 'bash' } });
    expect(traj.messages[3]).toMatchObject({ tool_call_id: 'call_e1' });
  });

  it('the seed\'s example pasted as it is runs as one explorer-then-writer attempt whose report names both configs and their models', async () => {
    const oracle = await startOracleModel({ usage: { input: 1000, output: 50 } });
    servers.push(oracle);
    const dir = mkdtempSync(join(tmpdir(), 'bench-seed-'));
    dirs.push(dir);
    // OpenHands' example of named configurations and agents, unchanged.
    writeFileSync(join(dir, 'config.toml'), `[llm]
model = "gpt-4"
api_key = "your-api-key"
temperature = 0.0

[llm.gpt3]
model = "gpt-3.5-turbo"
api_key = "your-api-key"
temperature = 0.2

[llm.high-creativity]
temperature = 0.8
top_p = 0.95

[agent.RepoExplorerAgent]
# Example: use a cheaper model for repository exploration
llm_config = 'gpt3'

[agent.CodeWriterAgent]
# Example: use high creativity for code writing
llm_config = 'high-creativity'
`);
    const db = join(dir, 'bench.db');
    const env = { LLM_BASE_URL: oracle.openaiUrl, LLM_NUM_RETRIES: '0', BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), CI: '1' };
    const run = await bench(['run', '--instances', instance.instance_id, '--run-id', 'seed', '--db', db], { cwd: dir, env });
    expect(run.exitCode, run.stderr).toBe(0);

    const raw = new Database(db, { readonly: true });
    const attempts = raw.prepare('SELECT id, config_name, agent, outcome, exit_reason FROM attempts').all() as any[];
    const calls = raw.prepare('SELECT role, config_name, model, cost_usd FROM llm_calls ORDER BY seq').all() as any[];
    raw.close();
    expect(attempts).toEqual([{ id: expect.any(Number), config_name: 'gpt3+high-creativity', agent: 'RepoExplorerAgent+CodeWriterAgent', outcome: 'resolved', exit_reason: 'submitted' }]);
    expect(calls.map((c) => [c.role, c.config_name, c.model])).toEqual([
      ['explorer', 'gpt3', 'gpt-3.5-turbo'], ['explorer', 'gpt3', 'gpt-3.5-turbo'], ['writer', 'high-creativity', 'gpt-4'], ['writer', 'high-creativity', 'gpt-4'],
    ]);
    for (const c of calls) expect(c.cost_usd).toBeGreaterThan(0);
    // Each role's requests carried its own config's sampling parameters.
    const sent = oracle.requests.map((r) => [oracle.read(r).role, r.body.model, r.body.temperature, r.body.top_p]);
    expect(sent).toEqual([['scout', 'gpt-3.5-turbo', 0.2, undefined], ['scout', 'gpt-3.5-turbo', 0.2, undefined], ['bash', 'gpt-4', 0.8, 0.95], ['bash', 'gpt-4', 0.8, 0.95]]);

    const report = await bench(['report', 'seed', '--format', 'json', '--db', db], { cwd: dir, env });
    expect(report.exitCode, report.stderr).toBe(0);
    const row = JSON.parse(report.stdout).configs[0];
    expect(row).toMatchObject({ config: 'gpt3+high-creativity', model: 'gpt-3.5-turbo+gpt-4', submit: 'explicit' });
    const explorerCost = calls[0].cost_usd + calls[1].cost_usd;
    const writerCost = calls[2].cost_usd + calls[3].cost_usd;
    expect(row.costByRole).toEqual([
      { role: 'explorer', config: 'gpt3', model: 'gpt-3.5-turbo', calls: 2, knownCost: expect.closeTo(explorerCost, 12), costUnknown: false, unknownCalls: 0 },
      { role: 'writer', config: 'high-creativity', model: 'gpt-4', calls: 2, knownCost: expect.closeTo(writerCost, 12), costUnknown: false, unknownCalls: 0 },
    ]);
    expect(row.totalCost).toBeCloseTo(explorerCost + writerCost, 12);
    const figure = /explorer gpt3 \$0\.\d+ · writer high-creativity \$0\.\d+/;
    const table = await bench(['report', 'seed', '--db', db], { cwd: dir, env: { ...env, COLUMNS: '100' } });
    expect(table.stdout).toMatch(figure);
    const csv = await bench(['report', 'seed', '--format', 'csv', '--db', db], { cwd: dir, env });
    expect(csv.stdout).toMatch(figure);
    const show = await bench(['show', String(attempts[0].id), '--db', db], { cwd: dir, env });
    expect(show.stdout).toMatch(/submission: explicit/);
    expect(show.stdout).toMatch(/explorer gpt3 gpt-3\.5-turbo/);
    expect(show.stdout).toMatch(/writer high-creativity gpt-4/);
    expect(show.stdout).toMatch(/cost by role: explorer gpt3 \$0\.\d+ · writer high-creativity \$0\.\d+/);

    const out = join(dir, 'exported');
    const exported = await bench(['export', 'seed', '--config', 'gpt3+high-creativity', '--trajectories', '--out', out, '--db', db], { cwd: dir, env });
    expect(exported.exitCode, exported.stderr).toBe(0);
    const trajDir = readdirSync(out).find((name) => name.endsWith('.trajs'))!;
    const traj = JSON.parse(readFileSync(join(out, trajDir, `${instance.instance_id}.traj.json`), 'utf8'));
    expect(traj).toMatchObject({ trajectory_format: 'mini-swe-agent-1.1', info: { exit_status: 'Submitted', bench: { submit: 'explicit' }, model_stats: { api_calls: 4 } } });
    expect(traj.info.submission).toContain('diff --git');
    const results = JSON.parse(readFileSync(join(out, readdirSync(out).find((name) => name.endsWith('.json'))!), 'utf8'));
    expect(results.agent.settings).toMatchObject({ type: 'explore-then-write', submit: 'explicit' });
    expect(results.instances[0].cost_by_role.map((r: any) => [r.role, r.config, r.model])).toEqual([['explorer', 'gpt3', 'gpt-3.5-turbo'], ['writer', 'high-creativity', 'gpt-4']]);
  }, 180_000);

  it('config.example.toml and the README\'s configuration example, pasted as they are, run the pipeline and the report names both configs; so does its explicit explore-then-write section', async () => {
    const oracle = await startOracleModel({ usage: { input: 1000, output: 50 } });
    servers.push(oracle);
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const readmeExample = /## Configuration[\s\S]*?```toml\n([\s\S]*?)```/.exec(readme)![1]!;
    for (const [name, text] of [['config.example.toml', readFileSync(join(PROJECT_ROOT, 'config.example.toml'), 'utf8')], ['README', readmeExample]] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-example-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'config.toml'), text);
      const db = join(dir, 'bench.db');
      const env = { LLM_BASE_URL: oracle.openaiUrl, LLM_API_KEY: 'sk-example-0123456789', LLM_NUM_RETRIES: '0', BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), CI: '1' };
      const run = await bench(['run', '--instances', instance.instance_id, '--run-id', 'example', '--db', db], { cwd: dir, env });
      expect(run.exitCode, `${name}: ${run.stderr}`).toBe(0);
      const report = JSON.parse((await bench(['report', 'example', '--format', 'json', '--db', db], { cwd: dir, env })).stdout);
      expect(report.configs.map((c: any) => [c.config, c.agent, c.model, c.resolved, c.costByRole.map((r: any) => `${r.role} ${r.config}`)]), name).toEqual([
        ['gpt3+high-creativity', 'RepoExplorerAgent+CodeWriterAgent', 'gpt-3.5-turbo+gpt-4o', 1, ['explorer gpt3', 'writer high-creativity']],
      ]);
    }
    // The same pipeline named outright: [agent.scout-and-write] type = "explore-then-write".
    const dir = dirs[dirs.length - 2]!;
    const db = join(dir, 'bench.db');
    const env = { LLM_BASE_URL: oracle.openaiUrl, LLM_API_KEY: 'sk-example-0123456789', LLM_NUM_RETRIES: '0', BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), CI: '1' };
    const named = await bench(['run', '--agent', 'scout-and-write', '--instances', instance.instance_id, '--run-id', 'named', '--db', db], { cwd: dir, env });
    expect(named.exitCode, named.stderr).toBe(0);
    const report = JSON.parse((await bench(['report', 'named', '--format', 'json', '--db', db], { cwd: dir, env })).stdout);
    expect(report.configs.map((c: any) => [c.config, c.agent, c.resolved, c.costByRole.map((r: any) => `${r.role} ${r.config}`)])).toEqual([
      ['gpt3+high-creativity', 'scout-and-write', 1, ['explorer gpt3', 'writer high-creativity']],
    ]);
  }, 240_000);

  it('--configs with an agent whose section fixes its config is a clear error, and --configs beside the seed\'s pair says the pair is not run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-fixed-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'config.toml'), `[llm]\nmodel = "gpt-4o"\napi_key = "k"\n\n[llm.cheap]\nmodel = "gpt-4o-mini"\n\n[agent.mine]\nllm_config = 'cheap'\nmax_files = 3\n`);
    const result = await bench(['run', '--agent', 'mine', '--configs', 'llm', '--db', join(dir, 'x.db')], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/fixes llm_config = 'cheap'/);
    expect(result.stderr).toMatch(/Drop --configs/);
    // The registry knows which keys each agent reads: the bash agent never reads max_files.
    expect(result.stderr).toMatch(/\[agent\.mine\] \(bash agent\) sets max_files, which the bash agent does not read/);

    // --configs without --agent beside the seed's pair runs the bash agent, and says the pair is not run.
    writeFileSync(join(dir, 'config.toml'), `[llm]\nmodel = "gpt-4o"\napi_key = "k"\n\n[llm.gpt3]\nmodel = "gpt-3.5-turbo"\n\n[agent.RepoExplorerAgent]\nllm_config = 'gpt3'\n\n[agent.CodeWriterAgent]\nllm_config = 'llm'\n`);
    const unpaired = await bench(['run', '--configs', 'gpt3', '--instances', 'no-such-instance', '--db', join(dir, 'x.db')], { cwd: dir });
    expect(unpaired.exitCode).toBe(2);
    expect(unpaired.stderr).toMatch(/warning: --configs gpt3 without --agent runs the bash agent with each config; the explorer and writer pair RepoExplorerAgent\+CodeWriterAgent in the config is not run/);
  });
});
