import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, prepareEnvironment, type Workspace } from '../../src/sandbox/index.ts';
import { runCommand, runProcess } from '../../src/sandbox/_process.ts';
import { processHelper } from '../../src/sandbox/_spawner.ts';
import { repoWithFuture, scratchDir, smallRepoFiles } from './_fixtures.ts';

const helper = processHelper();
const env = { PATH: '/usr/bin:/bin' };
const spec = (script: string, extra: Partial<Parameters<typeof runProcess>[0]> = {}) => ({
  file: '/bin/bash', args: ['--norc', '--noprofile', '-c', script], cwd: '/', env, timeoutMs: 10_000, maxOutputBytes: 64 * 1024, hardCapBytes: 512 * 1024, ...extra,
});

let scratch: Awaited<ReturnType<typeof scratchDir>>;
beforeAll(async () => {
  scratch = await scratchDir('spawner-test');
});
afterAll(async () => {
  await scratch.cleanup();
});

describe.skipIf(!helper)('processes started by the process helper', () => {
  it('leaves no wall-time timer behind when a gate opens as soon as its marker is seen', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    for (let i = 0; i < 10; i++) {
      const run = await runProcess(spec('echo gate-mark-9c1; IFS= read -r go; echo "went $go"', { timeoutMs: 30_000, gate: { marker: 'gate-mark-9c1', open: async () => {} } }));
      expect(run.output).toContain('went');
    }
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('writes any text to stdin as the harness encodes it, a lone surrogate included, and keeps serving', async () => {
    // A patch from a predictions file may hold anything JSON can: here half a surrogate pair.
    const text = 'before \ud800 after\n';
    const counted = await runCommand('wc', ['-c'], { env, input: text });
    expect(counted.stdout.trim()).toBe(String(Buffer.byteLength(text)));
    const echoed = await runCommand('cat', [], { env, input: text });
    expect(Buffer.from(echoed.stdout)).toEqual(Buffer.from(text));
    const after = await runProcess(spec('echo still here'));
    expect(after).toMatchObject({ exitCode: 0 });
    expect(after.output).toContain('still here');
  });

  it('gives the exit code, stdout and stderr, and stdin', async () => {
    const result = await runProcess(spec('read line; echo "got $line"; echo oops >&2; exit 7', { stdin: 'hello\n' }));
    expect(result).toMatchObject({ exitCode: 7, signal: null, timedOut: false, outputLimited: false });
    expect(result.output).toContain('got hello');
    expect(result.output).toContain('oops');
  });

  it('reports a signal that ended the process by its name', async () => {
    const result = await runProcess(spec('kill -TERM $$'));
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
  });

  it('on a timeout kills the whole process group, what the command left in the background included', async () => {
    const marker = join(scratch.path, 'background.pid');
    const result = await runProcess(spec(`sleep 30 & echo $! > ${marker}; sleep 30`, { timeoutMs: 300 }));
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    const pid = Number((await readFile(marker, 'utf8')).trim());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(existsSync(`/proc/${pid}`) && !(await readFile(`/proc/${pid}/stat`, 'utf8')).includes(') Z ')).toBe(false);
  });

  it('hands the given descriptors over as 3, 4, ... and the report channel after them, nothing else', async () => {
    const file = join(scratch.path, 'handed.txt');
    await writeFile(file, 'from the harness\n');
    const fd = openSync(file, 'r');
    try {
      const result = await runProcess(spec('cat <&3; echo reported >&4; ls /proc/self/fd', { extraFds: [fd], reportChannel: true }));
      expect(result.exitCode).toBe(0);
      expect(result.output).toContain('from the harness');
      expect(result.report).toBe('reported\n');
      // ls's own directory descriptor is the fifth.
      const listed = result.output.split('\n').filter((line) => /^\d+$/.test(line)).map(Number);
      expect(listed.filter((n) => n > 5)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('cuts the output at its budget and kills a process printing past the hard cap', async () => {
    const result = await runProcess(spec('yes 0123456789', { maxOutputBytes: 1000, hardCapBytes: 8000 }));
    expect(result.outputLimited).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    expect(result.output).toContain('bytes of output omitted');
  });

  it('says a program that cannot be started could not be started', async () => {
    await expect(runProcess({ ...spec(''), file: '/nonexistent/program' })).rejects.toThrow(/could not start \/nonexistent\/program/);
  });

  it('runs short commands with their whole output, a timeout and an output bound', async () => {
    expect(await runCommand('bash', ['-c', 'printf out; printf err >&2; exit 3'], { env })).toMatchObject({ exitCode: 3, stdout: 'out', stderr: 'err' });
    expect(await runCommand('sleep', ['30'], { env, timeoutMs: 200 })).toMatchObject({ timedOut: true, exitCode: undefined });
    const big = await runCommand('yes', [], { env, maxBuffer: 1000 });
    expect(big.isMaxBuffer).toBe(true);
    expect(big.stdout).toHaveLength(1000);
  });

  /** The same process started by a harness without the helper. */
  const startedByHarness = (processSpec: Parameters<typeof runProcess>[0]) => {
    const direct = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { runProcess } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/sandbox/_process.ts'))});
      const result = await runProcess(${JSON.stringify(processSpec)});
      process.stdout.write(JSON.stringify(result));
    `], { env: { ...process.env, BENCH_SPAWNER: '0' }, encoding: 'utf8' });
    return { ...(JSON.parse(direct.stdout) as Awaited<ReturnType<typeof runProcess>>), durationMs: 0 };
  };

  it('gives what a process started by the harness itself gives', async () => {
    const script = 'echo out; echo err >&2; echo out again; read -r line; printf "%s" "$line"; kill -HUP $$';
    const here = await runProcess(spec(script, { stdin: 'in\n' }));
    // Stderr is merged where it is written: the lines keep their order.
    expect(here.output).toBe('out\nerr\nout again\nin');
    expect(startedByHarness(spec(script, { stdin: 'in\n' }))).toEqual({ ...here, durationMs: 0 });
  });

  it('starts a child the same way whether it takes limits first or not: its own session, its folder, no signal ignored or blocked', async () => {
    const script = `[ "$(awk '{ print $6 }' /proc/$$/stat)" = "$$" ] && echo own session; pwd; grep -E '^Sig(Ign|Blk):' /proc/$$/status`;
    const plain = await runProcess(spec(script, { cwd: scratch.path }));
    expect(plain.output).toBe(`own session\n${scratch.path}\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n`);
    const limited = await runProcess(spec(script, { cwd: scratch.path, confinement: { cgroupProcs: [], rlimits: [{ resource: 'core', value: 0 }] } }));
    expect(limited.output).toBe(plain.output);
    expect(startedByHarness(spec(script, { cwd: scratch.path })).output).toBe(plain.output);
    // A folder that is not there is a start that failed, as it is for the harness itself.
    await expect(runProcess(spec('true', { cwd: join(scratch.path, 'missing') }))).rejects.toThrow(/could not start/);
  });

  it('sets the limits, soft and hard, before the command runs, as a harness starting it itself does', async () => {
    const limited = spec('ulimit -f; ulimit -Hf; ulimit -c; ulimit -d; head -c 3000000 /dev/zero > /dev/null; echo wrote', {
      confinement: { cgroupProcs: [], rlimits: [{ resource: 'fsize', value: 2 * 1024 * 1024 }, { resource: 'core', value: 0 }, { resource: 'data', value: 1024 * 1024 * 1024 }] },
    });
    const here = await runProcess(limited);
    expect(here.output.split('\n').slice(0, 4)).toEqual(['2048', '2048', '0', '1048576']);
    expect(startedByHarness(limited)).toEqual({ ...here, durationMs: 0 });
    // Past the file size limit the write is refused (SIGXFSZ is at its default: it ends the writer).
    const past = await runProcess(spec(`head -c 3000000 /dev/zero > ${join(scratch.path, 'big')}; echo "head: $?"`, { confinement: limited.confinement }));
    expect(past.output).toMatch(/head: (153|1)\b/);
  });

  it('does not run a command that cannot join its cgroup, and says why', async () => {
    const marker = join(scratch.path, 'ran-outside');
    const refused = spec(`touch ${marker}`, { confinement: { cgroupProcs: [join(scratch.path, 'no-such-cgroup', 'cgroup.procs')], rlimits: [] } });
    const here = await runProcess(refused);
    expect(here.exitCode).toBe(125);
    expect(here.output).toContain(`sandbox: cannot join cgroup ${join(scratch.path, 'no-such-cgroup', 'cgroup.procs')}`);
    expect(existsSync(marker)).toBe(false);
    expect(startedByHarness(refused).exitCode).toBe(125);
  });
});

describe('applying a patch from the host', () => {
  let workspace: Workspace;
  beforeAll(async () => {
    const repoDir = join(scratch.path, 'repo');
    await repoWithFuture(repoDir, smallRepoFiles(5));
    const environment = await prepareEnvironment({ repoDir, key: 'apply@base' }, { cacheDir: join(scratch.path, 'cache') });
    workspace = await createSandbox('local', { workDir: join(scratch.path, 'work') }).createWorkspace(environment);
  });
  afterAll(async () => {
    await workspace?.destroy();
  });

  const newFile = (path: string) => `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+written\n`;

  it('reads nothing of the workspace\'s own .git: a work tree it names elsewhere is not where the patch goes', async () => {
    const elsewhere = join(scratch.path, 'elsewhere');
    await mkdir(elsewhere, { recursive: true });
    await writeFile(join(workspace.dir, '.git', 'config'), `[core]\n\tworktree = ${elsewhere}\n\tbare = false\n`);
    const result = await workspace.applyPatch!(newFile('added.txt'), { timeoutMs: 10_000 });
    expect(result.exitCode).toBe(0);
    expect(await readFile(join(workspace.dir, 'added.txt'), 'utf8')).toBe('written\n');
    expect(existsSync(join(elsewhere, 'added.txt'))).toBe(false);
  });

  it('refuses a path beyond a symbolic link in the tree', async () => {
    const outside = join(scratch.path, 'outside');
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(workspace.dir, 'link'));
    const result = await workspace.applyPatch!(newFile('link/escaped.txt'), { timeoutMs: 10_000 });
    expect(result.exitCode).not.toBe(0);
    expect(existsSync(join(outside, 'escaped.txt'))).toBe(false);
  });
});
