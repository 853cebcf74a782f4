import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapAvailable, createSandbox, prepareEnvironment } from '../../src/sandbox/index.ts';
import type { PreparedEnvironment, SandboxKind, Workspace } from '../../src/sandbox/index.ts';
import { BACKGROUND_GRACE_MS, cgroupParents, FOREGROUND_SHARES } from '../../src/sandbox/_cgroup.ts';
import { repoWithFuture, scratchDir, smallRepoFiles } from './_fixtures.ts';

const kinds: SandboxKind[] = (await bwrapAvailable()) ? ['local', 'bwrap'] : ['local'];
const MARK = 'held-here-7f3a';

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let environment: PreparedEnvironment;

beforeAll(async () => {
  scratch = await scratchDir('gate-test');
  await repoWithFuture(join(scratch.path, 'repo'), smallRepoFiles(3));
  environment = await prepareEnvironment({ repoDir: join(scratch.path, 'repo'), key: 'gate@base' }, { cacheDir: join(scratch.path, 'cache') });
});

afterAll(async () => {
  await scratch.cleanup();
});

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe.each(kinds)('an exec held at its gate (%s)', (kind) => {
  let workspace: Workspace;
  beforeAll(async () => {
    workspace = await createSandbox(kind, { workDir: join(scratch.path, 'work') }).createWorkspace(environment);
  });
  afterAll(async () => {
    await workspace.destroy();
  });

  it('reads its stdin content first, waits at the marker until the gate opens, then goes on; the wait is off its clock', async () => {
    let openedAt = 0;
    const started = performance.now();
    const run = await workspace.exec(`head -c 5 > /tmp/got-${kind}; echo before; echo ${MARK}; IFS= read -r go; echo "after $go $(cat /tmp/got-${kind})"`, {
      stdin: 'hello', timeoutMs: 1500,
      gate: { marker: MARK, open: async () => { await pause(2000); openedAt = performance.now(); } },
    });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(0);
    expect(run.output).toBe(`before\n${MARK}\nafter go hello\n`);
    // Held for the whole pause, longer than its own time limit.
    expect(openedAt - started).toBeGreaterThanOrEqual(2000);
  });

  it('still has its time limit after the gate', async () => {
    const run = await workspace.exec(`echo ${MARK}; read -r go; sleep 30`, { timeoutMs: 800, gate: { marker: MARK, open: async () => {} } });
    expect(run.timedOut).toBe(true);
  });

  it("with a time limit of the gate's own, has that long once the gate opens, however long the setup took", async () => {
    // The setup (0.6 s) outlasts the gate's limit; the limit is counted from the opening.
    const setupDone = await workspace.exec(`sleep 0.6; echo ${MARK}; read -r go; sleep 0.2; echo went`, {
      timeoutMs: 5000, gate: { marker: MARK, open: async () => {}, timeoutMs: 400 },
    });
    expect(setupDone.timedOut).toBe(false);
    expect(setupDone.output).toBe(`${MARK}\nwent\n`);
    const started = performance.now();
    const run = await workspace.exec(`echo ${MARK}; read -r go; sleep 30`, { timeoutMs: 20_000, gate: { marker: MARK, open: async () => {}, timeoutMs: 400 } });
    expect(run.timedOut).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('never asks the gate when the command ends before the marker', async () => {
    let asked = false;
    const run = await workspace.exec('echo no marker here; exit 3', { timeoutMs: 5000, gate: { marker: MARK, open: async () => void (asked = true) } });
    expect(run.exitCode).toBe(3);
    expect(asked).toBe(false);
  });

  it('finds a marker split across output chunks', async () => {
    const run = await workspace.exec(`printf '%s' ${MARK.slice(0, 5)}; sleep 0.2; printf '%s\\n' ${MARK.slice(5)}; read -r go; echo "went $go"`, {
      timeoutMs: 5000, gate: { marker: MARK, open: async () => {} },
    });
    expect(run.output).toBe(`${MARK}\nwent go\n`);
  });
});

const cpuParent = (await cgroupParents())?.cpu;

describe.skipIf(!cpuParent || !kinds.includes('bwrap'))('the CPU weight of a command held at its gate', () => {
  /** cpu.shares of each of our cgroups that holds a process now. */
  const weights = () => readdirSync(cpuParent!)
    .filter((name) => name.startsWith(`bench-${process.pid}-`))
    .filter((name) => readFileSync(join(cpuParent!, name, 'cgroup.procs'), 'utf8').trim() !== '')
    .map((name) => readFileSync(join(cpuParent!, name, 'cpu.shares'), 'utf8').trim());

  it('is low until the gate opens, then the default weight per core; a command without a gate gets none', async () => {
    const workspace = await createSandbox('bwrap', { workDir: join(scratch.path, 'work') }).createWorkspace(environment);
    try {
      let atGate: string[] = [];
      let after: string[] = [];
      const run = workspace.exec(`echo ${MARK}; IFS= read -r go; sleep 1; echo done`, {
        timeoutMs: 10_000,
        gate: { marker: MARK, open: async () => { atGate = weights(); setTimeout(() => void (after = weights()), 400); } },
      });
      expect((await run).output).toBe(`${MARK}\ndone\n`);
      expect(atGate).toEqual(['2']);
      // Raised in place: its processes weigh as much together as one process per core would.
      expect(after).toEqual([FOREGROUND_SHARES]);
      // Never below a single process's default weight, whatever the core count.
      expect(Number(after[0])).toBeGreaterThanOrEqual(1024);
      let during: string[] = ['unread'];
      const plain = workspace.exec('sleep 0.5', { timeoutMs: 10_000 });
      await pause(250);
      during = weights();
      await plain;
      expect(during).toEqual([]);
    } finally {
      await workspace.destroy();
    }
  });

  it('gets the default weight when its setup is still short of the gate after the grace', async () => {
    const workspace = await createSandbox('bwrap', { workDir: join(scratch.path, 'work') }).createWorkspace(environment);
    try {
      let early: string[] = [];
      let late: string[] = [];
      const checks = [pause(1000).then(() => void (early = weights())), pause(BACKGROUND_GRACE_MS + 700).then(() => void (late = weights()))];
      const run = await workspace.exec(`sleep ${(BACKGROUND_GRACE_MS + 1500) / 1000}; echo ${MARK}; IFS= read -r go`, { timeoutMs: 20_000, gate: { marker: MARK, open: async () => {} } });
      await Promise.all(checks);
      expect(run.exitCode).toBe(0);
      expect(early).toEqual(['2']);
      expect(late).toEqual(['1024']);
    } finally {
      await workspace.destroy();
    }
  }, 30_000);
});
