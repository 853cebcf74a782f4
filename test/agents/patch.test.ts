import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, runAgent, type AgentInput, type AgentResult } from '../../src/agents/index.ts';
import type { AgentSettings, LlmSettings } from '../../src/config/index.ts';
import type { Instance } from '../../src/tasks/index.ts';
import type { Workspace } from '../../src/sandbox/index.ts';
import { startLlmServer, type LlmServer, type Reply } from '../helpers/llm-server.ts';
import { agentSettings, clientOf, instanceOf, passingFailToPass, runTests, workspaces } from './_fixtures.ts';

let sandbox: Awaited<ReturnType<typeof workspaces>>;
const servers: LlmServer[] = [];
beforeAll(async () => {
  sandbox = await workspaces();
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await sandbox.cleanup();
});

async function serve(script: Reply[] | ((request: any) => Reply)): Promise<LlmServer> {
  const server = await startLlmServer(script);
  servers.push(server);
  return server;
}

async function run(
  instance: Instance,
  answer: string,
  settings: Partial<AgentSettings> = {},
  extra: Partial<AgentInput> & { prepare?: (workspace: Workspace) => Promise<void>; llm?: Partial<LlmSettings> } = {},
): Promise<{ result: AgentResult; server: LlmServer }> {
  const server = await serve([{ kind: 'success', text: answer }]);
  const workspace = await sandbox.create(instance);
  const { prepare, llm, ...input } = extra;
  await prepare?.(workspace);
  const result = await runAgent({ instance, workspace, settings: agentSettings('patch', settings), clients: { main: clientOf(server, 'main', llm) }, ...input });
  return { result, server };
}

/** The file paths whose full content the prompt shows: a path line, then the content in a fence. */
function shownFiles(prompt: string): string[] {
  const section = prompt.slice(prompt.indexOf('The most relevant files'), prompt.indexOf('All files of the repository'));
  return [...section.matchAll(/^(\S+)\n(`{3,})\n[\s\S]*?^\2$/gm)].map((match) => match[1]!);
}

const exprcalc = instanceOf('benchlab__exprcalc-1');
const FIX = [
  'Power must group from the right, so the right operand of ^ may hold another ^.',
  '',
  'src/parser.js',
  '```js',
  '<<<<<<< SEARCH',
  '      const right = this.expression(power);',
  '=======',
  "      const right = this.expression(token.value === '^' ? power - 1 : power);",
  '>>>>>>> REPLACE',
  '```',
].join('\n');

describe('patch agent', () => {
  it('applies a search/replace answer whose diff fixes the instance', async () => {
    const { result, server } = await run(exprcalc, FIX);
    expect(result.exit).toBe('submitted');
    expect(result.malformedCount).toBe(0);
    expect(server.requests).toHaveLength(1);
    const [system, user] = server.requests[0]!.body.messages;
    expect(system.content).toContain('<<<<<<< SEARCH');
    expect(user.content).toContain('Chained powers are evaluated left to right');
    expect(shownFiles(user.content)).toContain('src/parser.js');
    const tests = await runTests(sandbox.create, exprcalc, result.patch);
    expect(tests.exitCode).toBe(0);
    expect(passingFailToPass(exprcalc, tests.output)).toHaveLength(exprcalc.FAIL_TO_PASS.length);
  });

  it('matches a SEARCH part that differs only in whitespace, keeping the file indentation', async () => {
    const loose = FIX.replace('      const right = this.expression(power);', 'const right  =  this.expression(power);')
      .replace("      const right = this.expression(token.value", "const right = this.expression(token.value");
    const { result } = await run(exprcalc, loose);
    expect(result.exit).toBe('submitted');
    expect(result.patch).toContain("+      const right = this.expression(token.value === '^' ? power - 1 : power);");
  });

  it('reads the file name from a sentence or above a fence, and reuses it for the next block', async () => {
    const answer = [
      'In `src/parser.js`:',
      '```js',
      '<<<<<<< SEARCH',
      '      const right = this.expression(power);',
      '=======',
      "      const right = this.expression(token.value === '^' ? power - 1 : power);",
      '>>>>>>> REPLACE',
      '```',
      '',
      '```js',
      '<<<<<<< SEARCH',
      "const PREFIX_POWER = 9;",
      '=======',
      "const PREFIX_POWER = 9; // tighter than any infix operator",
      '>>>>>>> REPLACE',
      '```',
    ].join('\n');
    const { result } = await run(exprcalc, answer);
    expect(result).toMatchObject({ exit: 'submitted', malformedCount: 0 });
    expect(result.patch).toContain('power - 1');
    expect(result.patch).toContain('+const PREFIX_POWER = 9; // tighter than any infix operator');
  });

  it('applies a unified diff answer, recounting hunks a model miscounted', async () => {
    const semver = instanceOf('benchlab__semverlite-3');
    const diff = semver.patch
      .split('\n')
      .filter((line) => !line.startsWith('diff --git') && !line.startsWith('index '))
      .map((line) => line.replace('--- a/src/range.js', '--- src/range.js').replace('+++ b/src/range.js', '+++ src/range.js').replace('@@ -70,9 +70,14 @@', '@@ -70,7 +70,9 @@'))
      .join('\n');
    const { result, server } = await run(semver, `Here is the fix.\n\n\`\`\`diff\n${diff}\`\`\`\n`, { edit_format: 'udiff' });
    expect(server.requests[0]!.body.messages[0].content).toContain('```diff');
    expect(result.exit).toBe('submitted');
    const applies = result.trajectory.filter((step) => step.kind === 'command');
    expect(applies.map((step) => step.kind === 'command' && step.exitCode === 0)).toEqual([false, true]);
    const tests = await runTests(sandbox.create, semver, result.patch);
    expect(tests.exitCode).toBe(0);
    expect(passingFailToPass(semver, tests.output)).toHaveLength(semver.FAIL_TO_PASS.length);
  });

  it('falls back to patch --fuzz=3 when git apply refuses a diff whose context is slightly off', async () => {
    const diff = [
      '```diff', '--- a/src/parser.js', '+++ b/src/parser.js', '@@ -72,7 +72,7 @@',
      '       const power = INFIX_POWER[token.value];',
      '       if (power === undefined || power <= minPower) break; // context the file does not have',
      '       this.next();',
      '-      const right = this.expression(power);',
      "+      const right = this.expression(token.value === '^' ? power - 1 : power);",
      '       left = { type: \'binary\', operator: token.value, left, right, position: left.position };',
      '     }', '     return left;', '```',
    ].join('\n');
    const { result } = await run(exprcalc, diff);
    expect(result.exit).toBe('submitted');
    const applies = result.trajectory.flatMap((step) => (step.kind === 'command' ? [[step.command.split(' ')[0], step.exitCode]] : []));
    expect(applies).toEqual([['git', 1], ['git', 1], ['f=$(mktemp)', 0]]);
    expect(result.patch).toContain("+      const right = this.expression(token.value === '^' ? power - 1 : power);");
    expect(result.patch).not.toContain('.orig');
  });

  it('counts an answer with no edit at all as malformed', async () => {
    const { result } = await run(exprcalc, 'The bug is in the parser: power should be right-associative.', { max_repair_turns: 0 });
    expect(result).toMatchObject({ exit: 'malformed', malformedCount: 1, patch: '' });
  });

  it('counts every block whose SEARCH text is not in the file, and keeps the blocks that apply', async () => {
    const missing = (text: string) => `src/parser.js\n<<<<<<< SEARCH\n${text}\n=======\nreplaced\n>>>>>>> REPLACE\n`;
    const bad = await run(exprcalc, `${missing('no such line')}\n${missing('nor this one')}`, { max_repair_turns: 0 });
    expect(bad.result).toMatchObject({ exit: 'malformed', malformedCount: 2, patch: '' });
    expect(bad.result.trajectory.some((step) => step.kind === 'note' && step.text.includes('SEARCH text was not found in src/parser.js'))).toBe(true);

    const mixed = await run(exprcalc, `${missing('no such line')}\n${FIX}\nsrc/parser.js\n<<<<<<< SEARCH\nunterminated`, { max_repair_turns: 0 });
    expect(mixed.result.exit).toBe('submitted');
    expect(mixed.result.malformedCount).toBe(2);
    expect(mixed.result.patch).toContain('power - 1');
  });

  it('refuses paths that escape the repository: .., absolute, through a symlink, in a diff', async () => {
    const outside = join(sandbox.scratch, 'outside');
    await mkdir(outside, { recursive: true });
    const create = (path: string) => `${path}\n<<<<<<< SEARCH\n=======\nescaped\n>>>>>>> REPLACE\n`;
    const escapingDiff = '```diff\n--- a/../diff-escape.txt\n+++ b/../diff-escape.txt\n@@ -0,0 +1 @@\n+escaped\n```\n';
    const answer = [create('../escape.txt'), create(join(outside, 'absolute.txt')), create('link/through.txt'), escapingDiff].join('\n');
    let repoDir = '';
    const { result } = await run(exprcalc, answer, { max_repair_turns: 0, submit: 'autosubmit' }, {
      prepare: async (workspace) => {
        repoDir = workspace.dir;
        await symlink(outside, join(workspace.dir, 'link'));
      },
    });
    expect(result.exit).toBe('malformed');
    expect(result.malformedCount).toBe(4);
    for (const name of ['absolute.txt', 'through.txt']) expect(existsSync(join(outside, name))).toBe(false);
    for (const name of ['escape.txt', 'diff-escape.txt']) expect(existsSync(join(repoDir, '..', name))).toBe(false);
    // Nothing escaped; the symlink the test itself made is a new top-level file, left out of the diff.
    expect(result.patch).toBe('');
    expect(result.excluded).toEqual(['link']);
    const notes = result.trajectory.filter((step) => step.kind === 'note').map((step) => step.kind === 'note' ? step.text : '').join('\n');
    expect(notes).toMatch(/\.\.\/escape\.txt leaves the repository/);
    expect(notes).toMatch(/absolute path/);
    expect(notes).toMatch(/symbolic link link/);
    expect(notes).toMatch(/diff-escape\.txt leaves the repository/);
  });

  it('asks the explorer config which files matter first, and attributes each call to its role', async () => {
    const server = await serve((request) => {
      const system: string = request.body.messages[0].content;
      return system.includes('locate')
        ? { kind: 'success', text: '- `src/lexer.js`\n- not/a/file.js\n', usage: { input: 1000, output: 10 } }
        : { kind: 'success', text: FIX, usage: { input: 1000, output: 100 } };
    });
    const explorer = clientOf(server, 'cheap', { model: 'openai/gpt-4o-mini', input_cost_per_token: 1e-7, output_cost_per_token: 1e-7 });
    const main = clientOf(server, 'main', { input_cost_per_token: 1e-5, output_cost_per_token: 1e-5 });
    const workspace = await sandbox.create(exprcalc);
    const result = await runAgent({ instance: exprcalc, workspace, settings: agentSettings('patch', { max_files: 2 }), clients: { main, explorer } });

    expect(result.exit).toBe('submitted');
    expect(result.calls.map((call) => [call.role, call.configName, call.completion?.cost])).toEqual([
      ['explorer', 'cheap', expect.closeTo(1010e-7, 12)],
      ['main', 'main', expect.closeTo(1100e-5, 12)],
    ]);
    expect(costOf(result.calls).usd).toBeCloseTo(1010e-7 + 1100e-5, 12);
    const candidates: string = server.requests[0]!.body.messages[1].content;
    expect(candidates).toContain('src/parser.js\n');
    expect(candidates).toContain('    // ');
    // The explorer's known choice comes first; its unknown path is ignored and the ranking fills in.
    expect(shownFiles(server.requests[1]!.body.messages[1].content)[0]).toBe('src/lexer.js');
    expect(shownFiles(server.requests[1]!.body.messages[1].content)).toHaveLength(2);
    expect(result.trajectory.some((step) => step.kind === 'note' && step.text.includes('unknown paths ignored: not/a/file.js'))).toBe(true);
  });

  it('goes on with the lexical ranking when the explorer call fails', async () => {
    const server = await serve((request) => request.body.messages[0].content.includes('locate') ? { kind: 'auth' } : { kind: 'success', text: FIX });
    const workspace = await sandbox.create(exprcalc);
    const result = await runAgent({
      instance: exprcalc, workspace, settings: agentSettings('patch'), clients: { main: clientOf(server), explorer: clientOf(server, 'cheap') },
    });
    expect(result.exit).toBe('submitted');
    expect(result.calls.map((call) => [call.role, call.error?.errorClass ?? 'ok'])).toEqual([['explorer', 'auth'], ['main', 'ok']]);
  });

  it('ends with model_error when the main call fails', async () => {
    const server = await serve([{ kind: 'server_error', status: 503 }]);
    const workspace = await sandbox.create(exprcalc);
    const result = await runAgent({ instance: exprcalc, workspace, settings: agentSettings('patch'), clients: { main: clientOf(server) } });
    expect(result).toMatchObject({ exit: 'model_error', patch: '', calls: [{ role: 'main', error: { errorClass: 'server_error' } }] });
    expect(result.error).toMatch(/server_error/);
  });

  it.each([
    ['benchlab__exprcalc-1', 'src/parser.js'],
    ['benchlab__semverlite-3', 'src/range.js'],
    ['benchlab__datekit-2', 'src/calendar.js'],
    ['benchlab__flagparse-4', 'src/spec.js'],
    ['benchlab__iniconf-5', 'iniconf/writer.py'],
    ['benchlab__csvkit-1', 'src/stringify.js'],
  ])('the lexical ranking puts the file the gold patch of %s touches into a two-file prompt', async (id, goldFile) => {
    expect(instanceOf(id).patch).toContain(`+++ b/${goldFile}`);
    const { server } = await run(instanceOf(id), 'no edit', { max_files: 2, max_repair_turns: 0 });
    expect(shownFiles(server.requests[0]!.body.messages[1].content)).toContain(goldFile);
  });

  it('gives a malformed or unappliable edit repair turns, telling the model why, and keeps what applied', async () => {
    const wrong = `src/parser.js\n<<<<<<< SEARCH\n      const right = this.expression(powr);\n=======\nx\n>>>>>>> REPLACE\n`;
    const server = await serve([{ kind: 'success', text: wrong }, { kind: 'success', text: 'Sorry:\n\nsrc/parser.js\n<<<<<<< SEARCH\nunterminated' }, { kind: 'success', text: FIX }]);
    const workspace = await sandbox.create(exprcalc);
    const result = await runAgent({ instance: exprcalc, workspace, settings: agentSettings('patch'), clients: { main: clientOf(server) } });
    expect(server.requests).toHaveLength(3);
    expect(result.exit).toBe('submitted');
    expect(result.malformedCount).toBe(2);
    const repair: string = server.requests[1]!.body.messages.at(-1).content;
    expect(repair).toMatch(/SEARCH text was not found in src\/parser\.js/);
    expect(repair).toContain('No edit was applied');
    expect(server.requests[2]!.body.messages.at(-1).content).toMatch(/malformed edit block/);
    const tests = await runTests(sandbox.create, exprcalc, result.patch);
    expect(passingFailToPass(exprcalc, tests.output)).toHaveLength(exprcalc.FAIL_TO_PASS.length);
  });

  it('stops after max_repair_turns (3 by default, as Aider)', async () => {
    const server = await serve([{ kind: 'success', text: 'no edit here' }]);
    const workspace = await sandbox.create(exprcalc);
    const result = await runAgent({ instance: exprcalc, workspace, settings: agentSettings('patch'), clients: { main: clientOf(server) } });
    expect(server.requests).toHaveLength(4);
    expect(result).toMatchObject({ exit: 'malformed', malformedCount: 4, patch: '' });
  });

  it('shows a file too big for the budget as windows around the lines the issue is about, and an edit in a window applies', async () => {
    const filler = Array.from({ length: 3000 }, (_, i) => `// filler line ${i}`).join('\n');
    const { result, server } = await run(exprcalc, FIX, { max_files: 2 }, {
      llm: { max_input_tokens: 4_000 },
      prepare: async (workspace) => {
        const path = join(workspace.dir, 'src', 'parser.js');
        await writeFile(path, `${await readFile(path, 'utf8')}\n${filler}\n`);
      },
    });
    const prompt: string = server.requests[0]!.body.messages[1].content;
    expect(prompt.length).toBeLessThanOrEqual(4_000 * 4);
    expect(prompt).toMatch(/src\/parser\.js lines \d+-\d+ of 3\d{3}/);
    expect(prompt).toContain('const right = this.expression(power);');
    expect(prompt).not.toContain('filler line 2999');
    expect(result.exit).toBe('submitted');
    expect(result.patch).toContain("+      const right = this.expression(token.value === '^' ? power - 1 : power);");
  });

  it('sizes its prompt from the model\'s known context window when max_input_tokens is not set', async () => {
    const { result } = await run(exprcalc, FIX, {}, { llm: { model: 'openai/gpt-4' } });
    // gpt-4's window is 8,192 tokens: the budget leaves room for the answer.
    expect(result.trajectory.find((step) => step.kind === 'note' && step.text.startsWith('prompt budget'))).toMatchObject({ text: expect.stringMatching(/prompt budget: 6144 tokens \(from max_input_tokens\)/) });
  });

  it('shows no more than fits in max_input_tokens', async () => {
    const { server } = await run(exprcalc, 'no edit', { max_repair_turns: 0 }, { llm: { max_input_tokens: 2_500 } });
    const prompt: string = server.requests[0]!.body.messages[1].content;
    expect(prompt.length + server.requests[0]!.body.messages[0].content.length).toBeLessThanOrEqual(2_500 * 4);
    expect(shownFiles(prompt).length).toBeGreaterThan(0);
    expect(shownFiles(prompt).length).toBeLessThan(5);
  });
});
