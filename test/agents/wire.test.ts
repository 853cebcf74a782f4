import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, runAgent } from '../../src/agents/index.ts';
import { startLlmServer, type LlmServer } from '../helpers/llm-server.ts';
import { chatBody, startMockLlm, type MockLlm } from '../llm/_mock-llm.ts';
import { agentSettings, clientOf, instanceOf, passingFailToPass, runTests, workspaces } from './_fixtures.ts';

const instance = instanceOf('benchlab__exprcalc-1');
const FIX = `sed -i "s/const right = this.expression(power);/const right = this.expression(token.value === '^' ? power - 1 : power);/" src/parser.js`;
let sandbox: Awaited<ReturnType<typeof workspaces>>;
const servers: (LlmServer | MockLlm)[] = [];
beforeAll(async () => {
  sandbox = await workspaces();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await sandbox.cleanup();
});

describe('bash agent episodes over each wire format', () => {
  it('a Responses-API episode: parallel tool calls, reasoning items carried to the next turn, the submission graded', async () => {
    const server = await startLlmServer([
      { kind: 'success', reasoning: 'fix the grouping of ^', toolCalls: [{ id: 'c1', name: 'bash', arguments: { command: FIX } }, { id: 'c2', name: 'bash', arguments: { command: 'git diff -- src/parser.js > patch.txt' } }] },
      { kind: 'success', reasoning: 'submit it', toolCalls: [{ id: 'c3', name: 'bash', arguments: { command: 'echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat patch.txt' } }] },
    ]);
    servers.push(server);
    const workspace = await sandbox.create(instance);
    const result = await runAgent({ instance, workspace, settings: agentSettings('bash'), clients: { main: clientOf(server, 'codex', { model: 'openai/gpt-5-codex' }) } });
    expect(result.exit).toBe('submitted');
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/responses', '/v1/responses']);
    const input = server.requests[1]!.body.input as { type?: string; call_id?: string; encrypted_content?: string }[];
    expect(input.map((item) => item.type ?? 'message')).toEqual(['message', 'reasoning', 'function_call', 'function_call', 'function_call_output', 'function_call_output']);
    expect(input[1]!.encrypted_content).toBeTruthy();
    expect(input.filter((item) => item.type === 'function_call_output').map((item) => item.call_id)).toEqual(['c1', 'c2']);
    expect(result.calls.every((call) => call.completion?.wireApi === 'responses')).toBe(true);
    const tests = await runTests(sandbox.create, instance, result.patch);
    expect(passingFailToPass(instance, tests.output)).toHaveLength(instance.FAIL_TO_PASS.length);
  });

  it('an episode against a third-party OpenAI-compatible server that sends no usage: the fix stands, its cost is unknown', async () => {
    const say = (command: string) => chatBody({ content: `Next.\n\n\`\`\`bash\n${command}\n\`\`\`` });
    const mock = await startMockLlm([
      { path: '/v1/chat/completions', sequence: 0, response: { status: 200, content: say(`${FIX} && git diff -- src/parser.js > patch.txt`) } },
      { path: '/v1/chat/completions', sequence: 1, response: { status: 200, content: say('echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat patch.txt') } },
    ]);
    servers.push(mock);
    const workspace = await sandbox.create(instance);
    const result = await runAgent({
      instance, workspace, settings: agentSettings('bash', { tool_mode: 'text' }),
      clients: { main: clientOf({ openaiUrl: mock.openaiUrl } as LlmServer, 'mock', { model: 'openai/gpt-4o-mini' }) },
    });
    expect(result.exit).toBe('submitted');
    expect(result.patch).toContain('power - 1');
    expect(result.calls.map((call) => call.completion?.usageKnown)).toEqual([false, false]);
    expect(costOf(result.calls)).toEqual({ usd: null, unknown: true });
  });
});
