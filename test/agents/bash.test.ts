import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, runAgent, type AgentInput, type AgentResult } from '../../src/agents/index.ts';
import type { AgentSettings, LlmSettings } from '../../src/config/index.ts';
import { startLlmServer, type Reply, type LlmServer } from '../helpers/llm-server.ts';
import { LocalPacing } from '../../src/runner/index.ts';
import { API_KEY, agentSettings, clientOf, config, instanceOf, passingFailToPass, runTests, workspaces } from './_fixtures.ts';

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
/** A native answer: each command one `bash` tool call, in order. */
const calls = (...commands: string[]): Reply => ({
  kind: 'success', text: '', toolCalls: commands.map((command, i) => ({ id: `call_${i}_${command.length}`, name: 'bash', arguments: { command } })),
});
const SUBMIT = 'echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat patch.txt';
const FIX = `sed -i "s/const right = this.expression(power);/const right = this.expression(token.value === '^' ? power - 1 : power);/" src/parser.js`;
/** Text mode unless a test asks for native tool calls. */
const text = (settings: Partial<AgentSettings> = {}): Partial<AgentSettings> => ({ tool_mode: 'text', ...settings });

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
  it('runs one command per turn until the model submits patch.txt, and only the submission is the patch', async () => {
    const { result, server } = await run([
      say('grep -n "this.expression(power)" src/parser.js'),
      say(`cat > reproduce.mjs <<'EOF'\nimport('./src/index.js').then((m) => console.log(m.evaluate('2 ^ 3 ^ 2')))\nEOF`),
      say(FIX),
      say('node reproduce.mjs'),
      say('git diff -- src/parser.js > patch.txt && cat patch.txt'),
      say(SUBMIT),
    ], text());
    expect(result.exit).toBe('submitted');
    expect(result.submit).toBe('explicit');
    expect(result.malformedCount).toBe(0);
    expect(result.calls).toHaveLength(6);
    expect(result.patch).toContain("+      const right = this.expression(token.value === '^' ? power - 1 : power);");
    // The reproduction script and patch.txt stay out: the model chose the files.
    expect(result.patch).not.toContain('reproduce.mjs');
    expect(result.patch).not.toContain('patch.txt');

    const [system, user] = sent(server, 0);
    expect(system!.role).toBe('system');
    expect(user!.content).toContain('COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT');
    expect(user!.content).toContain('Chained powers are evaluated left to right');
    expect(user!.content).toContain(sandbox.sandboxKind === 'bwrap' ? '/workspace/repo' : 'repo');
    expect(server.requests[0]!.body.tools).toBeUndefined();
    expect(sent(server, 1).at(-1)!.content).toMatch(/<returncode>0<\/returncode>[\s\S]*this\.expression\(power\)/);
    expect(sent(server, 4).at(-1)!.content).toMatch(/<output>\n512\n/);

    const tests = await runTests(sandbox.create, instance, result.patch);
    expect(tests.exitCode).toBe(0);
    expect(passingFailToPass(instance, tests.output)).toHaveLength(instance.FAIL_TO_PASS.length);
  });

  it('tells the model about a format error and ends after max_format_errors in a row, with nothing submitted', async () => {
    const bad: Reply = { kind: 'success', text: 'I would look at the parser.' };
    const two: Reply = { kind: 'success', text: '```bash\nls\n```\n\n```bash\npwd\n```' };
    const { result, server } = await run([bad, two, say('echo x > x.txt'), bad, bad, bad], text({ max_format_errors: 3 }));
    expect(result.exit).toBe('format_errors');
    expect(result.malformedCount).toBe(5);
    expect(server.requests).toHaveLength(6);
    expect(sent(server, 1).at(-1)).toMatchObject({ role: 'user' });
    expect(sent(server, 1).at(-1)!.content).toMatch(/Format error: your answer had no ```bash block/);
    expect(sent(server, 2).at(-1)!.content).toMatch(/had 2 ```bash blocks/);
    expect(result.patch).toBe('');
  });

  it('at max_steps without a submission the patch is empty under explicit, and the source diff under autosubmit', async () => {
    // The same episode twice: a fix, a reproduction script at the top level, a new test file, a new source module; never a submission.
    const script = () => [
      say(FIX),
      say("echo 'console.log(1)' > reproduce.mjs && mkdir -p scratch && echo notes > scratch/notes.txt"),
      say("echo 'export const helper = 1;' > src/helper.js && echo 'test' > src/helper.test.js"),
    ];
    const explicit = await run(script(), text({ max_steps: 3 }));
    expect(explicit.result.exit).toBe('max_steps');
    expect(explicit.server.requests).toHaveLength(3);
    expect(explicit.result.patch).toBe('');
    expect(explicit.result.trajectory.at(-1)).toMatchObject({ kind: 'note', text: expect.stringContaining('nothing submitted') });

    const auto = await run(script(), text({ max_steps: 3, submit: 'autosubmit' }));
    expect(auto.result.exit).toBe('max_steps');
    expect(auto.result.submit).toBe('autosubmit');
    expect(auto.result.patch).toContain('+++ b/src/parser.js');
    expect(auto.result.patch).toContain('+++ b/src/helper.js');
    expect(auto.result.excluded?.sort()).toEqual(['reproduce.mjs', 'scratch/notes.txt', 'src/helper.test.js']);
    expect(auto.result.patch).not.toMatch(/reproduce\.mjs|scratch\/|helper\.test\.js/);
    const tests = await runTests(sandbox.create, instance, auto.result.patch);
    expect(tests.exitCode).toBe(0);
  });

  it('reports a command timeout to the model as an observation and goes on', async () => {
    const { result, server } = await run([say('echo started; sleep 10'), say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT')], text({ command_timeout: 1 }));
    expect(result.exit).toBe('submitted');
    const observation = sent(server, 1).at(-1)!.content!;
    expect(observation).toContain('timed out after 1 s');
    expect(observation).toContain('started');
    expect(result.trajectory.find((step) => step.kind === 'command')).toMatchObject({ timedOut: true });
  });

  it('a submission line that is not the first line of the output, or a failing submit command, does not submit', async () => {
    const { result, server } = await run(
      [say('echo before && echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT'), say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && false'), say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo done')],
      text(),
    );
    expect(server.requests).toHaveLength(3);
    expect(result.exit).toBe('submitted');
    expect(result.patch).toBe('done\n');
  });

  it('cuts a long output to its head and tail with a note of how much was elided', async () => {
    const { server } = await run([say('seq 1 5000'), say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT')], text({ max_output_chars: 200 }));
    const observation = sent(server, 1).at(-1)!.content!;
    expect(observation).toMatch(/<output>\n1\n2\n3\n/);
    expect(observation).toMatch(/4999\n5000\n\n<\/output>/);
    const total = Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join('').length;
    expect(observation).toContain(`[... ${total - 200} characters elided`);
    expect(observation.length).toBeLessThan(600);
  });

  it('stops at max_budget_per_task: nothing submitted under explicit, the diff so far under autosubmit', async () => {
    const usage = { input: 500, output: 0 };
    const script = () => [say('echo one > src/one.js', usage), say('echo two > src/two.js', usage), say('echo three > src/three.js', usage)];
    const llm = { input_cost_per_token: 0.001, output_cost_per_token: 0.002 };
    const explicit = await run(script(), text({ max_budget_per_task: 1 }), { llm });
    expect(explicit.result.exit).toBe('budget');
    expect(explicit.server.requests).toHaveLength(2);
    expect(costOf(explicit.result.calls)).toEqual({ usd: 1, unknown: false });
    expect(explicit.result.patch).toBe('');

    const auto = await run(script(), text({ max_budget_per_task: 1, submit: 'autosubmit' }), { llm });
    expect(auto.result.exit).toBe('budget');
    expect(auto.result.patch).toContain('+++ b/src/one.js');
    expect(auto.result.patch).toContain('+++ b/src/two.js');
    expect(auto.result.patch).not.toContain('three.js');
    expect(auto.result.trajectory.some((step) => step.kind === 'note' && step.text.includes('budget reached'))).toBe(true);
  });

  it('ends with model_error on an LlmError and keeps the error; nothing is submitted under explicit', async () => {
    const { result } = await run([say('echo kept > src/kept.js'), { kind: 'auth', echoKey: true }], text());
    expect(result.exit).toBe('model_error');
    expect(result.error).toMatch(/auth/);
    expect(result.error).not.toContain(API_KEY);
    expect(result.calls).toHaveLength(2);
    expect(result.calls[1]!.completion).toBeUndefined();
    expect(result.calls[1]!.error).toMatchObject({ errorClass: 'auth', tries: [{ status: 'error', httpStatus: 401 }] });
    expect(result.patch).toBe('');
  });

  it('speaks native tool calls by default: several calls in one answer run in order, each answered by its own tool message', async () => {
    const { result, server } = await run([
      calls('echo one > order.txt', 'echo two >> order.txt', 'cat order.txt'),
      { kind: 'success', text: '', toolCalls: [{ id: 'call_bad', name: 'bash', arguments: { cmd: 'oops' } }] },
      calls(FIX, 'git diff -- src/parser.js > patch.txt', SUBMIT),
    ]);
    expect(result.exit).toBe('submitted');
    expect(result.malformedCount).toBe(1);
    expect(server.requests[0]!.body.tools).toEqual([expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'bash' }) })]);
    const answered = sent(server, 1).slice(-3);
    expect(answered.map((m) => m.role)).toEqual(['tool', 'tool', 'tool']);
    const assistant = sent(server, 1).at(-4) as unknown as { tool_calls: { id: string }[] };
    expect(answered.map((m) => m.tool_call_id)).toEqual(assistant.tool_calls.map((c) => c.id));
    expect(answered[2]!.content).toMatch(/<output>\none\ntwo\n/);
    expect(sent(server, 2).at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_bad', content: expect.stringContaining('Format error') });
    expect(result.patch).toContain('+++ b/src/parser.js');
    expect(result.patch).not.toContain('order.txt');
  });

  it('native_tool_calling = false in the config switches the agent to text mode', async () => {
    const { server } = await run([say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT')], {}, { llm: { native_tool_calling: false } });
    expect(server.requests[0]!.body.tools).toBeUndefined();
    expect(sent(server, 0)[0]!.content).toContain('exactly ONE bash command');
  });

  it('stops at max_wall_time even while a command runs', async () => {
    const started = Date.now();
    const { result } = await run([say('echo early > early.txt && sleep 20')], text({ max_wall_time: 1.5, command_timeout: 60, submit: 'autosubmit' }));
    expect(result.exit).toBe('wall_time');
    expect(Date.now() - started).toBeLessThan(8_000);
    // Under autosubmit the diff is taken even then; early.txt is a top-level scratch file, so left out.
    expect(result.excluded).toEqual(['early.txt']);
  });

  it('a provider retry wait does not count against max_wall_time', async () => {
    const { result, server } = await run(
      [{ kind: 'rate_limit', retryAfter: '2' }, say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo fine')],
      text({ max_wall_time: 1.5 }),
      { llm: { num_retries: 1, retry_max_wait: 3 } },
    );
    expect(server.requests).toHaveLength(2);
    expect(result.exit).toBe('submitted');
    expect(result.patch).toBe('fine\n');
  });

  it('a wait on the rate-limit pacer (another config on the same key was told to wait) does not count against max_wall_time', async () => {
    // One provider account: the server answers the other config's call with 429 Retry-After: 3.
    const server = await startLlmServer((request) => (request.body.model === 'gpt-4o-mini'
      ? { kind: 'rate_limit', retryAfter: '3' }
      : say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo paced')));
    servers.push(server);
    const pacing = new LocalPacing();
    const env = {};
    const paced = (name: string, model: string) => clientOf(server, name, { model }, { env, pacer: pacing.pacerFor(config(server, name, { model }), env) });
    await expect(paced('other', 'openai/gpt-4o-mini').complete([{ role: 'user', content: 'hi' }])).rejects.toThrow(/rate_limit/);
    const started = Date.now();
    const workspace = await sandbox.create(instance);
    const result = await runAgent({ instance, workspace, settings: agentSettings('bash', text({ max_wall_time: 1.5 })), clients: { main: paced('main', 'openai/gpt-4o') } });
    // The episode's only call waited out the account's pause, longer than its whole wall time.
    expect(server.requests[1]!.receivedAt - started).toBeGreaterThan(1_500);
    expect(result.exit).toBe('submitted');
    expect(result.patch).toBe('paced\n');
  });

  it('stops promptly when the run is cancelled', async () => {
    const controller = new AbortController();
    const server = await startLlmServer([say('echo before > src/before.js'), say('sleep 30')]);
    servers.push(server);
    const workspace = await sandbox.create(instance);
    const running = runAgent({ instance, workspace, settings: agentSettings('bash', text({ submit: 'autosubmit' })), clients: { main: clientOf(server) }, signal: controller.signal });
    while (server.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cancelled = Date.now();
    controller.abort();
    const result = await running;
    expect(Date.now() - cancelled).toBeLessThan(2_000);
    expect(result.patch).toContain('+++ b/src/before.js');
    expect(result.trajectory.some((step) => step.kind === 'note' && step.text.includes('cancelled'))).toBe(true);
  });
});
