import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_DEFAULTS, LLM_DEFAULTS, type AgentSettings, type LlmSettings } from '../../src/config/index.ts';
import { createLlmClient, type LlmClient, type LlmClientOptions } from '../../src/llm/index.ts';
import { bwrapAvailable, createSandbox, prepareEnvironment, type Sandbox, type Workspace } from '../../src/sandbox/index.ts';
import { environmentSpec, loadSuite, type Instance } from '../../src/tasks/index.ts';
import type { LlmServer } from '../helpers/llm-server.ts';

export const API_KEY = 'sk-agents-test-key-0123456789';

/** A client of the scripted server that never waits between tries. */
export function clientOf(server: LlmServer, name = 'main', settings: Partial<LlmSettings> = {}, options: LlmClientOptions = {}): LlmClient {
  return createLlmClient(config(server, name, settings), options);
}

/** The resolved config `clientOf` builds its client from. */
export function config(server: LlmServer, name = 'main', settings: Partial<LlmSettings> = {}) {
  return {
    name,
    settings: {
      ...LLM_DEFAULTS, model: 'openai/gpt-4o', base_url: server.openaiUrl, api_key: API_KEY,
      num_retries: 0, retry_min_wait: 0, retry_max_wait: 0, ...settings,
    },
    sources: {},
  };
}

export function agentSettings(type: AgentSettings['type'], overrides: Partial<AgentSettings> = {}): AgentSettings {
  return { type, llm_config: 'main', explorer_llm_config: 'explorer', ...AGENT_DEFAULTS, ...overrides };
}

const suite = loadSuite();

export function instanceOf(id: string): Instance {
  const found = suite.instances.find((instance) => instance.instance_id === id);
  if (!found) throw new Error(`no built-in instance ${id}`);
  return found;
}

/** Fresh workspaces of built-in instances in the bwrap sandbox (local only where bwrap cannot run). */
export async function workspaces(): Promise<{
  sandboxKind: 'bwrap' | 'local';
  create: (instance: Instance) => Promise<Workspace>;
  scratch: string;
  cleanup: () => Promise<void>;
}> {
  const scratch = await mkdtemp(join(tmpdir(), 'bench-agents-'));
  const sandboxKind = (await bwrapAvailable()) ? 'bwrap' : 'local';
  const sandbox: Sandbox = createSandbox(sandboxKind, { workDir: join(scratch, 'work') });
  const created: Workspace[] = [];
  return {
    sandboxKind,
    scratch,
    async create(instance) {
      const cacheDir = join(scratch, 'cache');
      const environment = await prepareEnvironment(await environmentSpec(instance, cacheDir), { cacheDir });
      const workspace = await sandbox.createWorkspace(environment);
      created.push(workspace);
      return workspace;
    },
    async cleanup() {
      await Promise.all(created.map((workspace) => workspace.destroy()));
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * The instance's tests in a fresh workspace with `patch` and the test patch applied, as the
 * grader does: exit code and output of its test_cmd.
 */
export async function runTests(create: (instance: Instance) => Promise<Workspace>, instance: Instance, patch: string): Promise<{ exitCode: number | null; output: string }> {
  const workspace = await create(instance);
  if (patch) {
    const applied = await workspace.exec('git apply -', { timeoutMs: 30_000, stdin: patch });
    if (applied.exitCode !== 0) throw new Error(`patch does not apply: ${applied.output}`);
  }
  const tests = await workspace.exec('git apply -', { timeoutMs: 30_000, stdin: instance.test_patch });
  if (tests.exitCode !== 0) throw new Error(`test patch does not apply: ${tests.output}`);
  const run = await workspace.exec(instance.test_cmd, { timeoutMs: instance.timeout * 1000 });
  return { exitCode: run.exitCode, output: run.output };
}

/** The test names (last part of each FAIL_TO_PASS id) that the output shows passing in a JUnit report. */
export function passingFailToPass(instance: Instance, output: string): string[] {
  return instance.FAIL_TO_PASS.map((id) => id.split('::').at(-1)!).filter((title) => {
    const testcase = new RegExp(`<testcase name="${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*?(/>|>([\\s\\S]*?)</testcase>)`).exec(output);
    return testcase !== null && !/<failure|<error|<skipped/.test(testcase[2] ?? '');
  });
}
