import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../../src/agents/index.ts';
import { startLlmServer, type LlmServer, type Reply } from '../helpers/llm-server.ts';
import { agentSettings, clientOf, instanceOf, workspaces } from '../agents/_fixtures.ts';

const say = (command: string): Reply => ({ kind: 'success', text: `Next step.\n\n\`\`\`bash\n${command}\n\`\`\`` });

describe('an agent that leaves a huge workspace', () => {
  let sandbox: Awaited<ReturnType<typeof workspaces>>;
  let server: LlmServer;

  beforeAll(async () => {
    sandbox = await workspaces();
  });
  afterAll(async () => {
    await server?.close();
    await sandbox?.cleanup();
  });

  it('ends with no patch and the reason as its own error, the harness memory untouched', async () => {
    const instance = instanceOf('benchlab__exprcalc-1');
    server = await startLlmServer([
      say('for i in 1 2 3 4 5 6 7 8; do head -c 104857600 /dev/zero > "dump$i.bin"; done; du -sm . | cut -f1'),
      say('echo "// tweak" >> src/parser.js'),
    ]);
    const workspace = await sandbox.create(instance);
    const rssBefore = process.memoryUsage().rss;
    // autosubmit: the workspace's diff is taken at the step limit, whatever the model submitted.
    const settings = agentSettings('bash', { tool_mode: 'text', submit: 'autosubmit', max_steps: 2 });
    const result = await runAgent({ instance, workspace, settings, clients: { main: clientOf(server) } });
    const growth = process.memoryUsage().rss - rssBefore;
    expect(result.exit).toBe('max_steps');
    expect(result.patch).toBe('');
    expect(result.error).toMatch(/too large to grade: at least \d+ MB changed/);
    expect(result.trajectory.some((step) => step.kind === 'note' && step.text.includes('no patch'))).toBe(true);
    expect(growth).toBeLessThan(150 * 1024 * 1024);
    console.log(`agent leaving 800 MB: rss +${Math.round(growth / 1e6)} MB, error ${JSON.stringify(result.error)}`);
  });
});
