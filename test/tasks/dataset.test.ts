import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { baseFiles, loadDataset } from '../../src/tasks/index.ts';
import { bench } from '../helpers/cli.ts';
import { cloneFixture, writeDataset, type Row } from '../grading/e2e/_datasets.ts';

let dir: string;
let reposDir: string;
let rows: Row[];
let jsonl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-dataset-test-'));
  reposDir = join(dir, 'repos');
  await mkdir(reposDir);
  rows = [...(await cloneFixture('mocha-nested', reposDir)), ...(await cloneFixture('pytest-params', reposDir))];
  jsonl = await writeDataset(join(dir, 'rows.jsonl'), rows);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The rows as a Hugging Face parquet file: every field a string column, absent ones null. */
async function writeParquet(path: string, list: Row[]): Promise<string> {
  const names = [...new Set(list.flatMap((row) => Object.keys(row)))];
  const columnData = names.map((name) => ({ name, type: 'STRING' as const, nullable: true, data: list.map((row) => (row[name] === undefined ? null : String(row[name]))) }));
  await writeFile(path, Buffer.from(parquetWriteBuffer({ columnData })));
  return path;
}

describe('datasets as users get them', () => {
  it('reads a Hugging Face .parquet file as it reads the same rows in .jsonl, nulls as absent fields', async () => {
    const parquet = await writeParquet(join(dir, 'rows.parquet'), rows);
    const fromParquet = await loadDataset(parquet, { reposDir });
    const fromJsonl = await loadDataset(jsonl, { reposDir });
    expect(fromParquet.instances.map((i) => i.instance_id)).toEqual(fromJsonl.instances.map((i) => i.instance_id));
    expect(fromParquet.hash).toBe(fromJsonl.hash);
    expect(fromParquet.name).toBe('rows');
    // The mocha rows with a command of their own carry an install; the others had null there.
    expect(fromParquet.instances.find((i) => i.instance_id.endsWith('-bench-cmd'))?.install).toBe('npm install --no-audit --no-fund');
  });

  it('reads a .json list', async () => {
    const list = join(dir, 'rows.json');
    await writeFile(list, JSON.stringify(rows));
    expect((await loadDataset(list, { reposDir })).hash).toBe((await loadDataset(jsonl, { reposDir })).hash);
  });

  it('reads rows in SWE-PolyBench\'s shape: F2P / P2P as Python lists, test_command', async () => {
    const original = rows.find((row) => row.instance_id === 'fixtures__slugger-1-polybench')!;
    const { FAIL_TO_PASS, PASS_TO_PASS, ...rest } = original;
    const toPython = (list: string) => `[${(JSON.parse(list) as string[]).map((name) => `'${name}'`).join(', ')}]`;
    const poly = await writeDataset(join(dir, 'poly.jsonl'), [{ ...rest, F2P: toPython(FAIL_TO_PASS as string), P2P: toPython(PASS_TO_PASS as string), test_command: 'npx mocha --require test/setup.js --reporter json test/' }]);
    const [instance] = (await loadDataset(poly, { reposDir })).instances;
    expect(instance!.FAIL_TO_PASS).toEqual(JSON.parse(FAIL_TO_PASS as string));
    expect(instance!.PASS_TO_PASS).toEqual(JSON.parse(PASS_TO_PASS as string));
    expect(instance).toMatchObject({ test_cmd: 'npx mocha --require test/setup.js --reporter json test/', log_parser: 'mocha-json', install: 'npm ci --no-audit --no-fund' });
  });

  it('rejects a file that is not Parquet with a user error naming it', async () => {
    const fake = join(dir, 'fake.parquet');
    await writeFile(fake, 'not parquet at all');
    await expect(loadDataset(fake, { reposDir })).rejects.toThrow(/fake\.parquet: not a readable Parquet file/);
  });

  it('checks the base commit out of a clone that has moved on, without its history, tags, remotes or later files', async () => {
    const set = await loadDataset(jsonl, { reposDir });
    const instance = set.instances.find((i) => i.repo === 'fixtures/slugger')!;
    const cacheDir = join(dir, 'cache');
    const files = await baseFiles(instance, cacheDir);
    expect(existsSync(join(files, '.git'))).toBe(false);
    expect(await readFile(join(files, 'lib/slug.js'), 'utf8')).not.toContain("normalize('NFKD')");
    const clone = join(reposDir, 'fixtures__slugger');
    // The clone itself is as it was: HEAD at the fix, nothing staged.
    expect((await execa('git', ['-C', clone, 'log', '-1', '--format=%s'])).stdout).toBe('THE-FUTURE-FIX');
    expect((await execa('git', ['-C', clone, 'status', '--porcelain'])).stdout).toBe('');
  });

  it('says which rule chose each command', async () => {
    const detected = await bench(['tasks', 'show', 'fixtures__slugger-1-polybench', '--dataset', jsonl, '--repos-dir', reposDir]);
    expect(detected.exitCode, detected.stderr).toBe(0);
    expect(detected.stdout).toContain('test_cmd: export PATH="$PWD/node_modules/.bin:$PATH"; mocha --require test/setup.js --timeout 5000 --reporter json test/slug.spec.js');
    expect(detected.stdout).toContain("chosen by: detected: mocha as package.json's scripts.test runs it, on the test patch's file");
    const own = await bench(['tasks', 'show', 'fixtures__slugger-1-bench-cmd', '--dataset', jsonl, '--repos-dir', reposDir]);
    expect(own.stdout).toContain("chosen by: the row's test_cmd and log_parser");
    const flagged = await bench(['tasks', 'show', 'fixtures__textwrapx-1-swebench', '--dataset', jsonl, '--repos-dir', reposDir, '--test-cmd', 'python3 -m pytest -rA tests', '--log-parser', 'parse_log_pytest']);
    expect(flagged.stdout).toContain('test_cmd: python3 -m pytest -rA tests');
    expect(flagged.stdout).toContain('log_parser: pytest');
    expect(flagged.stdout).toContain('chosen by: --test-cmd; parser from --log-parser');
  });

  it('refuses a row whose runner cannot be detected: exit 2, the instance, the files looked at, the flags that fix it', async () => {
    const clone = join(reposDir, 'acme__plain');
    await mkdir(clone);
    await writeFile(join(clone, 'README.md'), 'no tests here\n');
    await writeFile(join(clone, 'Makefile'), 'check:\n\ttrue\n');
    await execa('git', ['init', '-q'], { cwd: clone });
    await execa('git', ['add', '-A'], { cwd: clone });
    await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base'], { cwd: clone });
    const base = (await execa('git', ['rev-parse', 'HEAD'], { cwd: clone })).stdout;
    const bad = await writeDataset(join(dir, 'bad.jsonl'), [{ ...rows[0]!, instance_id: 'acme__plain-1', repo: 'acme/plain', base_commit: base }]);
    const run = await bench(['tasks', 'list', '--dataset', bad, '--repos-dir', reposDir]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('instance acme__plain-1: no test command');
    expect(run.stderr).toMatch(/Looked at: package\.json \(absent\); pyproject\.toml \(absent\); setup\.cfg \(absent\); tox\.ini \(absent\); pytest\.ini \(absent\); setup\.py \(absent\); a tests folder \(absent\)/);
    expect(run.stderr).toContain('--test-cmd CMD and --log-parser NAME');
    await expect(loadDataset(bad, { reposDir })).rejects.toBeInstanceOf(UserError);
  });
});
