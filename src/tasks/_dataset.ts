import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { canonicalJson, sha256 } from './_hash.ts';
import { describeIssues, parseJsonText } from './_errors.ts';
import { instanceSchema, type Instance, type TaskSet } from './_schema.ts';

/** Reads a SWE-bench dataset (.json list or .jsonl); repositories come from local clones under reposDir. */
export function loadDataset(file: string, options: { reposDir?: string }): TaskSet {
  const path = resolve(file);
  if (!existsSync(path)) throw new UserError(`Dataset file ${file} does not exist. Pass a SWE-bench .json or .jsonl file with --dataset, or a suite name with --suite.`);
  const records = readRecords(path);
  const problems: string[] = [];
  const instances: Instance[] = [];
  const seen = new Set<string>();
  for (const { record, line } of records) {
    const where = `${file}${line ? `:${line}` : ''}`;
    if (!record || typeof record !== 'object' || Array.isArray(record)) {
      problems.push(`${where}: expected an instance object, got ${JSON.stringify(record)?.slice(0, 40)}.`);
      continue;
    }
    const raw = record as Record<string, unknown>;
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
    instances.push({ ...fields, source: { kind: 'dataset', file: path, cloneDir }, contentHash: sha256(canonicalJson(fields)) });
  }
  if (problems.length) {
    throw new UserError(`Dataset ${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was graded:`, { details: problems });
  }
  instances.sort((a, b) => (a.instance_id < b.instance_id ? -1 : 1));
  return { name: basename(file).replace(/\.jsonl?$/, ''), instances, hash: sha256(instances.map((i) => `${i.instance_id}:${i.contentHash}`).join('\n')) };
}

function readRecords(path: string): { record: unknown; line?: number }[] {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.jsonl')) {
    return text.split('\n').flatMap((content, index) => {
      if (!content.trim()) return [];
      return [{ record: parseJsonText(content, path, index + 1), line: index + 1 }];
    });
  }
  const value = parseJsonText(text, path);
  if (!Array.isArray(value)) throw new UserError(`${path}: a .json dataset must hold a list of instances. Wrap the instances in [ ... ] or use .jsonl.`);
  return value.map((record) => ({ record }));
}

function findClone(repo: string, reposDir?: string): string | undefined {
  if (!reposDir) return undefined;
  for (const candidate of [join(reposDir, repo.replace('/', '__')), join(reposDir, repo)]) {
    if (existsSync(join(candidate, '.git')) || existsSync(join(candidate, 'HEAD'))) return resolve(candidate);
  }
  return undefined;
}
