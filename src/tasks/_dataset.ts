import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { canonicalJson, sha256 } from './_hash.ts';
import { describeIssues, parseJsonText } from './_errors.ts';
import { filesAtCommit } from './_repo-files.ts';
import { instanceSchema, type Instance, type TaskSet } from './_schema.ts';
import { resolveTestCommand, type CommandOverrides } from './_test-command.ts';

const FORMATS = 'a SWE-bench .json list, .jsonl or Hugging Face .parquet file';

/**
 * Reads a dataset (.json list, .jsonl or .parquet, as Hugging Face serves them); repositories
 * come from local clones under reposDir. Each row's test command is resolved here, so a row
 * that cannot run is reported before anything is graded.
 */
export async function loadDataset(file: string, options: { reposDir?: string; overrides?: CommandOverrides }): Promise<TaskSet> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UserError(`Dataset file ${file} does not exist. Pass ${FORMATS} with --dataset, or a suite name with --suite.`);
  const records = await readRecords(path);
  const problems: string[] = [];
  const instances: Instance[] = [];
  const seen = new Set<string>();
  for (const { record, where: at } of records) {
    const where = `${file}${at}`;
    if (!record || typeof record !== 'object' || Array.isArray(record)) {
      problems.push(`${where}: expected an instance object, got ${JSON.stringify(record)?.slice(0, 40)}.`);
      continue;
    }
    const raw = withHarnessNames(withoutNulls(record as Record<string, unknown>));
    const id = typeof raw.instance_id === 'string' ? raw.instance_id : '(no instance_id)';
    const parsed = instanceSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(`${where} instance ${id}: ${describeIssues(parsed.error, raw)}`);
      continue;
    }
    const fields = parsed.data;
    if (!fields.base_commit) {
      problems.push(`${where} instance ${id}: field \`base_commit\` is missing; a dataset instance needs the commit its repository starts from.`);
      continue;
    }
    if (seen.has(fields.instance_id)) problems.push(`${where}: instance ${id} appears twice.`);
    seen.add(fields.instance_id);
    const cloneDir = findClone(fields.repo, options.reposDir);
    if (!cloneDir) {
      problems.push(`${where} instance ${id}: no local clone of ${fields.repo}. Clone it to ${join(options.reposDir ?? '<--repos-dir>', fields.repo.replace('/', '__'))} (or ${fields.repo}) and pass --repos-dir.`);
      continue;
    }
    const command = resolveTestCommand(fields, () => filesAtCommit(cloneDir, fields.base_commit!), options.overrides);
    if (typeof command === 'string') {
      problems.push(`${where} instance ${id}: ${command}`);
      continue;
    }
    const { rule, ...resolved } = command;
    const graded = { ...fields, ...resolved };
    instances.push({ ...graded, testCommandRule: rule, source: { kind: 'dataset', file: path, cloneDir }, contentHash: sha256(canonicalJson(graded)) });
  }
  if (problems.length) {
    throw new UserError(`Dataset ${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was graded:`, { details: problems });
  }
  instances.sort((a, b) => (a.instance_id < b.instance_id ? -1 : 1));
  return { name: basename(file).replace(/\.(jsonl?|parquet)$/, ''), instances, hash: sha256(instances.map((i) => `${i.instance_id}:${i.contentHash}`).join('\n')) };
}

type RawRecord = { record: unknown; where: string };

async function readRecords(path: string): Promise<RawRecord[]> {
  if (path.endsWith('.parquet')) return readParquet(path);
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.jsonl')) {
    return text.split('\n').flatMap((content, index) => {
      if (!content.trim()) return [];
      return [{ record: parseJsonText(content, path, index + 1), where: `:${index + 1}` }];
    });
  }
  const value = parseJsonText(text, path);
  if (!Array.isArray(value)) throw new UserError(`${path}: a .json dataset must hold a list of instances. Wrap the instances in [ ... ] or use .jsonl.`);
  return value.map((record, index) => ({ record, where: ` item ${index + 1}` }));
}

async function readParquet(path: string): Promise<RawRecord[]> {
  let rows: Record<string, unknown>[];
  try {
    // The parquet reader loads only for a parquet dataset.
    const [{ asyncBufferFromFile, parquetReadObjects }, { compressors }] = await Promise.all([import('hyparquet'), import('hyparquet-compressors')]);
    const file = await asyncBufferFromFile(path);
    rows = await parquetReadObjects({ file, compressors });
  } catch (error) {
    throw new UserError(`${path}: not a readable Parquet file (${(error as Error).message}). Pass the .parquet file as Hugging Face serves it, or convert the dataset to .jsonl.`);
  }
  return rows.map((record, index) => ({ record: plainValues(record), where: ` row ${index + 1}` }));
}

/** Parquet's typed values as JSON would hold them: timestamps as ISO text, 64-bit integers as numbers. */
function plainValues(record: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value instanceof Date) plain[key] = Number.isNaN(value.getTime()) ? undefined : value.toISOString();
    else if (typeof value === 'bigint') plain[key] = Number(value);
    else plain[key] = value;
  }
  return plain;
}

/** SWE-PolyBench's and Multi-SWE-bench's names for SWE-bench's fields (F2P, P2P, test_command). */
const FIELD_ALIASES: [alias: string, field: string][] = [['F2P', 'FAIL_TO_PASS'], ['P2P', 'PASS_TO_PASS'], ['test_command', 'test_cmd'], ['f2p', 'FAIL_TO_PASS'], ['p2p', 'PASS_TO_PASS']];

function withHarnessNames(record: Record<string, unknown>): Record<string, unknown> {
  const named = { ...record };
  for (const [alias, field] of FIELD_ALIASES) {
    if (named[field] === undefined && named[alias] !== undefined) named[field] = named[alias];
    delete named[alias];
  }
  return named;
}

/** Hugging Face exports write absent optional fields as null: read them as absent. */
function withoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null && value !== undefined));
}

function findClone(repo: string, reposDir?: string): string | undefined {
  if (!reposDir) return undefined;
  for (const candidate of [join(reposDir, repo.replace('/', '__')), join(reposDir, repo)]) {
    if (existsSync(join(candidate, '.git')) || existsSync(join(candidate, 'HEAD'))) return resolve(candidate);
  }
  return undefined;
}
