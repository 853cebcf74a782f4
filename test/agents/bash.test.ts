import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, runAgent, type AgentInput, type AgentResult } from '../../src/agents/index.ts';
import type { AgentSettings, LlmSettings } from '../../src/config/index.ts';
import { startLlmServer, type Reply, type LlmServer } from '../helpers/llm-server.ts';
import { API_KEY, agentSettings, clientOf, instanceOf, passingFailToPass, runTests, workspaces } from './_fixtures.ts';

const instance = instanceOf('benchlab__exprcalc-1');
let sandbox: Awaited<ReturnType<typeof workspaces>>;
const servers: LlmServer[] = [];

beforeAll(async () => {
  sandbox = await workspaces();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await sandbox.cleanup();
});

const say = (command: string, usage?: { input?: number; output?: number }): Reply => ({
  kind: 'success', text: `Next step.\n\n\`\`\`bash\n${command}\n\`\`\``, ...(usage ? { usage } : {}),
});

/** The bash agent against a scripted server, in a fresh workspace of exprcalc-1. */
async function run(
  replies: Reply[],
  settings: Partial<AgentSettings> = {},
  options: { llm?: Partial<LlmSettings>; input?: Partial<AgentInput> } = {},
): Promise<{ result: AgentResult; server: LlmServer }> {
  const server = await startLlmServer(replies);
  servers.push(server);
  const workspace = await sandbox.create(instance);
  const result = await runAgent({
    instance, workspace, settings: agentSettings('bash', settings), clients: { main: clientOf(server, 'main', options.llm) }, ...options.input,
  });
  return { result, server };
}

/** The messages of the n-th request the server received. */
const sent = (server: LlmServer, n: number): { role: string; content: string | null; tool_call_id?: string }[] => server.requests[n]!.body.messages;

describe('bash agent', () => {
  it('runs one command per turn until the sentinel, and its diff fixes the instance', async () => {
    const { result, server } = await run([
      say('grep -n "this.expression(power)" src/parser.js'),
      say(`sed -i "s/const right = this.expression(power);/const right = this.expression(token.value === '^' ? power - 1 : power);/" src/parser.js`),
      say(`node -e "import('./src/index.js').then((m) => console.log(m.evaluate('2 ^ 3 ^ 2')))"`),
      say('echo BENCH_SUBMIT'),
    ]);
    expect(result.exit).toBe('submitted');
    expect(result.malformedCount).toBe(0);
    expect(result.calls.map((call) => [call.role, call.configName])).toEqual([['main', 'main'], ['main', 'main'], ['main', 'main'], ['main', 'main']]);
    expect(result.patch).toContain("+      const right = this.expression(token.value === '^' ? power - 1 : power);");

    const [system, user] = sent(server, 0);
    expect(system!.role).toBe('system');
    expect(system!.content).toContain('echo BENCH_SUBMIT');
    expect(user!.content).toContain('Chained powers are evaluated left to right');
    expect(user!.content).toContain(sandbox.sandboxKind === 'bwrap' ? '/workspace/repo' : 'repo');
    // Each observation goes back to the model: the grep found the line, the check printed 512.
    expect(sent(server, 1).at(-1)!.content).toMatch(/<returncode>0<\/returncode>[\s\S]*this\.expression\(power\)/);
    expect(sent(server, 3).at(-1)!.content).toMatch(/<output>\n512\n/);
    expect(result.trajectory.filter((step) => step.kind === 'command')).toHaveLength(3);

    const tests = await runTests(sandbox.create, instance, result.patch);
    expect(tests.exitCode).toBe(0);
    expect(passingFailToPass(instance, tests.output)).toHaveLength(instance.FAIL_TO_PASS.length);
  });

  it('tells the model about a format error and ends after max_format_errors in a row', async () => {
    const bad: Reply = { kind: 'success', text: 'I would look at the parser.' };
    const two: Reply = { kind: 'success', text: '```bash\nls\n```\n\n```bash\npwd\n```' };
    const { result, server } = await run([bad, two, say('true'), bad, bad, bad], { max_format_errors: 3 });
    expect(result.exit).toBe('format_errors');
    expect(result.malformedCount).toBe(5);
    expect(server.requests).toHaveLength(6);
    expect(sent(server, 1).at(-1)).toMatchObject({ role: 'user' });
    expect(sent(server, 1).at(-1)!.content).toMatch(/Format error: your answer had no ```bash block/);
    expect(sent(server, 2).at(-1)!.content).toMatch(/had 2 ```bash blocks/);
    expect(result.patch).toBe('');
  });

  it('stops after max_steps model turns and submits the diff so far', async () => {
    const { result, server } = await run([say('echo step >> steps.txt')], { max_steps: 3 });
    expect(result.exit).toBe('max_steps');
    expect(server.requests).toHaveLength(3);
    expect(result.patch).toContain('+++ b/steps.txt');
    expect(result.patch).toContain('+step\n+step\n+step');
  });

  it('reports a command timeout to the model as an observation and goes on', async () => {
    const { result, server } = await run([say('echo started; sleep 10'), say('echo BENCH_SUBMIT')], { command_timeout: 1 });
    expect(result.exit).toBe('submitted');
    const observation = sent(server, 1).at(-1)!.content!;
    expect(observation).toContain('timed out after 1 s');
    expect(observation).toContain('started');
    expect(result.trajectory.find((step) => step.kind === 'command')).toMatchObject({ timedOut: true });
  });

  it('cuts a long output to its head and tail with a note of how much was elided', async () => {
    const { server } = await run([say('seq 1 5000'), say('echo BENCH_SUBMIT')], { max_output_chars: 200 });
    const observation = sent(server, 1).at(-1)!.content!;
    expect(observation).toMatch(/<output>\n1\n2\n3\n/);
    expect(observation).toMatch(/4999\n5000\n\n<\/output>/);
    const total = Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join('').length;
    expect(observation).toContain(`[... ${total - 200} characters elided`);
    expect(observation.length).toBeLessThan(600);
  });

  it('stops at max_budget_per_task and submits the diff made so far', async () => {
    const usage = { input: 500, output: 0 };
    const { result, server } = await run(
      [say('echo one > one.txt', usage), say('echo two > two.txt', usage), say('echo three > three.txt', usage)],
      { max_budget_per_task: 1 },
      { llm: { input_cost_per_token: 0.001, output_cost_per_token: 0.002 } },
    );
    expect(result.exit).toBe('budget');
    expect(server.requests).toHaveLength(2);
    expect(costOf(result.calls)).toEqual({ usd: 1, unknown: false });
    expect(result.patch).toContain('+++ b/one.txt');
    expect(result.patch).toContain('+++ b/two.txt');
    expect(result.patch).not.toContain('three.txt');
    expect(result.trajectory.at(-1)).toMatchObject({ kind: 'note', text: expect.stringContaining('budget reached') });
  });

  it('ends with model_error on an LlmError, keeps the error and the diff so far', async () => {
    const { result } = await run([say('echo kept > kept.txt'), { kind: 'auth', echoKey: true }]);
    expect(result.exit).toBe('model_error');
    expect(result.error).toMatch(/auth/);
    expect(result.error).not.toContain(API_KEY);
    expect(result.calls).toHaveLength(2);
    expect(result.calls[1]!.completion).toBeUndefined();
    expect(result.calls[1]!.error).toMatchObject({ errorClass: 'auth', tries: [{ status: 'error', httpStatus: 401 }] });
    expect(result.patch).toContain('+++ b/kept.txt');
  });

  it('uses native tool calls when the config has native_tool_calling, answering each with a tool message', async () => {
    const { result, server } = await run(
      [
        { kind: 'success', text: '', toolCalls: [{ id: 'call_a', name: 'bash', arguments: { command: 'echo hi > hi.txt && cat hi.txt' } }] },
        { kind: 'success', text: '', toolCalls: [{ id: 'call_b', name: 'bash', arguments: { cmd: 'oops' } }] },
        { kind: 'success', text: 'Done.', toolCalls: [{ id: 'call_c', name: 'bash', arguments: { command: 'echo BENCH_SUBMIT' } }] },
      ],
      {},
      { input: { nativeToolCalling: true } },
    );
    expect(result.exit).toBe('submitted');
    expect(result.malformedCount).toBe(1);
    expect(server.requests[0]!.body.tools).toEqual([expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'bash' }) })]);
    expect(sent(server, 1).at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_a', content: expect.stringMatching(/<returncode>0<\/returncode>\n<output>\nhi\n/) });
    expect(sent(server, 2).at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_b', content: expect.stringContaining('Format error') });
    expect(result.patch).toContain('+++ b/hi.txt');
  });

  it('stops at max_wall_time even while a command runs, and returns the diff', async () => {
    const started = Date.now();
    const { result } = await run([say('echo early > early.txt && sleep 20')], { max_wall_time: 1.5, command_timeout: 60 });
    expect(result.exit).toBe('wall_time');
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.patch).toContain('+++ b/early.txt');
  });

  it('stops promptly when the run is cancelled and still returns the diff', async () => {
    const controller = new AbortController();
    const server = await startLlmServer([say('echo before > before.txt'), say('sleep 30')]);
    servers.push(server);
    const workspace = await sandbox.create(instance);
    const running = runAgent({ instance, workspace, settings: agentSettings('bash'), clients: { main: clientOf(server) }, signal: controller.signal });
    while (server.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cancelled = Date.now();
    controller.abort();
    const result = await running;
    expect(Date.now() - cancelled).toBeLessThan(2_000);
    expect(result.patch).toContain('+++ b/before.txt');
    expect(result.trajectory.at(-1)).toMatchObject({ kind: 'note', text: expect.stringContaining('cancelled') });
  });
});
