import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Store } from '../../src/store/index.ts';
import { BENCH_BIN, PROJECT_ROOT } from '../helpers/cli.ts';
import { addRun, recordOutcomes } from '../report/_fixture.ts';

/** The system Node, older than the 22.18 bench needs, so bin/bench.js hands over to the pinned one. */
const SYSTEM_NODE = ['/usr/bin/node', '/bin/node'].find((p) => existsSync(p));
const version = SYSTEM_NODE ? spawnSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
const old = SYSTEM_NODE !== undefined && (major! < 22 || (major === 22 && minor! < 18));
const why = SYSTEM_NODE ? `the system Node is ${version}, new enough that bin/bench.js runs bench itself` : 'no system Node at /usr/bin/node';

let work: string;
let db: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'bench-wrapper-'));
  db = join(work, 'bench.db');
  const store = Store.open(db);
  addRun(store, 'w', { a: 'x/a' });
  recordOutcomes(store, 'w', 'a', 'ru');
  store.close();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The pid of the wrapper's one child (the pinned Node), read from /proc. */
function childOf(pid: number): number | undefined {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children ? Number(children.split(/\s+/)[0]) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `bench view --open` under the system Node, in a process group of its own as a shell job would be; resolves once it serves. */
async function serving(): Promise<{ wrapper: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }>; stderr: () => string }> {
  const wrapper = spawn(SYSTEM_NODE!, [BENCH_BIN, 'view', 'w', '--open', '--db', db], {
    cwd: PROJECT_ROOT, env: { ...process.env, BENCH_RESULTS_DIR: join(work, 'results'), DISPLAY: '', WAYLAND_DISPLAY: '', BROWSER: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => wrapper.on('exit', (code, signal) => resolve({ code, signal })));
  let stdout = '';
  let stderr = '';
  wrapper.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    wrapper.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('serving http://127.0.0.1:')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`exited with ${code} before serving: ${stdout}${stderr}`)));
  });
  return { wrapper, exited, stderr: () => stderr };
}

describe('bin/bench.js under an older system Node', () => {
  test.skipIf(!old)(old ? `hands over to the pinned Node and exits with its code (system Node ${version})` : `SKIPPED: ${why}`, () => {
    const ok = spawnSync(SYSTEM_NODE!, [BENCH_BIN, '--version'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect([ok.status, ok.stdout.trim()]).toEqual([0, '0.1.0']);
    const bad = spawnSync(SYSTEM_NODE!, [BENCH_BIN, 'no-such-command'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown command `no-such-command`');
  });

  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    test.skipIf(!old)(old ? `a ${signal} sent to the wrapper reaches the real bench, which stops cleanly; the wrapper waits and exits with its code` : `SKIPPED: ${why}`, async () => {
      const { wrapper, exited, stderr } = await serving();
      const child = childOf(wrapper.pid!);
      expect(child).toBeDefined();
      expect(readFileSync(`/proc/${child}/cmdline`, 'utf8')).toContain('node_modules/node/bin/node');
      process.kill(wrapper.pid!, signal);
      expect(await exited).toEqual({ code: 130, signal: null });
      expect(stderr()).toContain('stopped serving.');
      expect(alive(child!)).toBe(false);
    }, 120_000);
  }

  test.skipIf(!old)(old ? 'Ctrl-C to the whole foreground group reaches the real bench once, not twice' : `SKIPPED: ${why}`, async () => {
    const { wrapper, exited, stderr } = await serving();
    const child = childOf(wrapper.pid!)!;
    // What a terminal does on Ctrl-C: SIGINT to every process of the foreground group.
    process.kill(-wrapper.pid!, 'SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
    expect(stderr()).toContain('stopped serving.');
    expect(alive(child)).toBe(false);
  }, 120_000);
});
