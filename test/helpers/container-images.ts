/**
 * Images for the container tests, built here because none can be pulled: a toolchain image
 * imported from a root filesystem of this machine's own programs, and a SWE-bench-layout image
 * built on it (a repository with history at /testbed, a `testbed` conda environment behind
 * /opt/miniconda3/bin/activate). Both are named localhost/bench-test-* with a hash of what went
 * into them, so later test runs reuse them.
 *
 *   const engine = await testEngine();            // null, with the reason logged, when podman cannot run
 *   const image = await toolchainImage(engine);   // localhost/bench-test-toolchain:<hash>
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { containerUnavailable } from '../../src/sandbox/container/_sandbox.ts';
import { locateEngine, type Engine } from '../../src/sandbox/container/_engine.ts';
import { PROJECT_ROOT } from './cli.ts';

const ROOTFS_SCRIPT = join(PROJECT_ROOT, 'test/helpers/rootfs.sh');
const NODE = join(PROJECT_ROOT, 'node_modules/node/bin/node');

let available: Promise<{ engine: Engine | null; reason: string | null }> | undefined;

/** Podman as the tests drive it, or null with why not (the suite then skips, naming the reason). */
export function testEngine(): Promise<{ engine: Engine | null; reason: string | null }> {
  available ??= (async () => {
    const reason = await containerUnavailable('podman');
    return reason ? { engine: null, reason } : { engine: locateEngine('podman'), reason: null };
  })();
  return available;
}

export async function podman(e: Engine, args: string[], options: { input?: string; cwd?: string } = {}) {
  return execa(e.path, [...e.globalArgs, ...args], { reject: false, ...options });
}

async function exists(e: Engine, image: string): Promise<boolean> {
  return (await podman(e, ['image', 'exists', image])).exitCode === 0;
}

function hash(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const part of parts) h.update(part).update('\0');
  return h.digest('hex').slice(0, 12);
}

const building = new Map<string, Promise<string>>();

function once(key: string, build: () => Promise<string>): Promise<string> {
  let pending = building.get(key);
  if (!pending) {
    pending = build();
    building.set(key, pending);
  }
  return pending;
}

/** Node 24 (the project's own), python3, git, patch, bash and coreutils; working directory /testbed. */
export function toolchainImage(e: Engine): Promise<string> {
  return once('toolchain', async () => {
    const node = await execa(NODE, ['--version']);
    const tag = hash(await readFile(ROOTFS_SCRIPT), node.stdout);
    const image = `localhost/bench-test-toolchain:${tag}`;
    if (await exists(e, image)) return image;
    const scratch = await mkdtemp(join(tmpdir(), 'bench-test-rootfs-'));
    try {
      const tarball = join(scratch, 'rootfs.tar');
      await execa('bash', [ROOTFS_SCRIPT, tarball, NODE]);
      const imported = await podman(e, ['import', '--change', 'WORKDIR /testbed', '--change', 'ENV PATH=/usr/local/bin:/usr/bin:/bin', tarball, image]);
      if (imported.exitCode !== 0) throw new Error(`podman import failed: ${imported.stderr}`);
      return image;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
}

/** A conda stand-in where SWE-bench's images have one: `conda activate testbed` puts `python` on PATH. */
const ACTIVATE = `# SWE-bench images source this before every command.
conda() {
  if [ "$1" = activate ] && [ -d "/opt/miniconda3/envs/$2/bin" ]; then
    export PATH="/opt/miniconda3/envs/$2/bin:$PATH" CONDA_DEFAULT_ENV="$2"
  else
    echo "conda: cannot $*" >&2; return 1
  fi
}
`;

/**
 * An image in SWE-bench's layout built on the toolchain image: `repoDir` (a git repository, its
 * history included) at /testbed, and /opt/miniconda3 whose testbed environment alone has `python`.
 */
export function swebenchLayoutImage(e: Engine, name: string, repoDir: string): Promise<string> {
  return once(`swebench:${name}`, async () => {
    const base = await toolchainImage(e);
    // Its refs name every commit's content, history and dates: equal refs, equal repository.
    const refs = await execa('git', ['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: repoDir });
    const head = await execa('git', ['rev-parse', 'HEAD'], { cwd: repoDir });
    const image = `localhost/bench-test-${name}:${hash(base, ACTIVATE, refs.stdout, head.stdout)}`;
    if (await exists(e, image)) return image;
    const context = await mkdtemp(join(tmpdir(), 'bench-test-swebench-'));
    try {
      await execa('cp', ['-a', `${repoDir}/.`, join(context, 'testbed')]);
      await mkdir(join(context, 'miniconda3/bin'), { recursive: true });
      await mkdir(join(context, 'miniconda3/envs/testbed/bin'), { recursive: true });
      await writeFile(join(context, 'miniconda3/bin/activate'), ACTIVATE);
      await execa('ln', ['-s', '/usr/bin/python3', join(context, 'miniconda3/envs/testbed/bin/python')]);
      await chmod(join(context, 'miniconda3/bin/activate'), 0o755);
      await writeFile(join(context, 'Containerfile'), `FROM ${base}\nCOPY testbed /testbed\nCOPY miniconda3 /opt/miniconda3\nWORKDIR /testbed\n`);
      const built = await podman(e, ['build', '-q', '-t', image, '-f', join(context, 'Containerfile'), context]);
      if (built.exitCode !== 0) throw new Error(`podman build failed: ${built.stderr}`);
      return image;
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  });
}

/** Containers bench left with a label, optionally only those naming one run. */
export async function benchContainers(e: Engine, run?: string): Promise<string[]> {
  const filter = run ? `label=bench.run=${run}` : 'label=bench.sandbox';
  const listed = await podman(e, ['ps', '-a', '-q', '--filter', filter]);
  return listed.stdout.split('\n').filter(Boolean);
}
