import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, didYouMean } from '../errors.ts';
import { canonicalJson, hashTree, sha256 } from './_hash.ts';
import { instanceSchema, type Instance, type TaskSet } from './_schema.ts';
import { describeIssues, parseJsonText } from './_errors.ts';
import { filesInDir } from './_repo-files.ts';
import { resolveTestCommand, type CommandOverrides } from './_test-command.ts';

export const TASKS_DIR = fileURLToPath(new URL('../../tasks', import.meta.url));
export const DEFAULT_SUITE = 'builtin';

/** A suite name under tasks/, or a path to a suite folder. */
export function resolveSuiteDir(nameOrPath: string = DEFAULT_SUITE): string {
  const named = join(TASKS_DIR, nameOrPath);
  if (!nameOrPath.includes('/') && existsSync(join(named, 'suite.json'))) return named;
  const path = resolve(nameOrPath);
  if (existsSync(join(path, 'suite.json'))) return path;
  const suites = existsSync(TASKS_DIR) ? readdirSync(TASKS_DIR).filter((d) => existsSync(join(TASKS_DIR, d, 'suite.json'))) : [];
  throw new UserError(
    `No task suite \`${nameOrPath}\`: neither ${relative(process.cwd(), named) || named} nor ${path} holds a suite.json.${didYouMean(nameOrPath, suites)} Suites available: ${suites.join(', ') || 'none'}.`,
  );
}

/** Reads a suite folder: suite.json, repos/<owner>__<name>/, instances/<id>/{instance.json,problem.md,gold.patch,test.patch}. */
export function loadSuite(nameOrPath?: string, overrides?: CommandOverrides): TaskSet {
  const dir = resolveSuiteDir(nameOrPath);
  const suiteFile = join(dir, 'suite.json');
  const suite = parseJsonText(readFileSync(suiteFile, 'utf8'), suiteFile) as { name?: string };
  const name = suite.name ?? basename(dir);
  const instancesDir = join(dir, 'instances');
  if (!existsSync(instancesDir)) throw new UserError(`Suite ${dir} has no instances/ folder. Add one folder per instance under ${instancesDir}.`);
  const repoHashes = new Map<string, string>();
  const instances: Instance[] = [];
  const problems: string[] = [];
  for (const id of readdirSync(instancesDir).sort()) {
    const folder = join(instancesDir, id);
    if (!statSync(folder).isDirectory()) continue;
    try {
      instances.push(loadSuiteInstance(dir, name, folder, repoHashes, overrides));
    } catch (error) {
      if (error instanceof UserError) problems.push(error.message);
      else throw error;
    }
  }
  if (problems.length) {
    throw new UserError(`Suite ${name} has ${problems.length} broken task${problems.length === 1 ? '' : 's'}; nothing was run. Fix each file below:`, { details: problems });
  }
  return { name, instances, hash: sha256(instances.map((i) => `${i.instance_id}:${i.contentHash}`).join('\n')) };
}

function loadSuiteInstance(suiteDir: string, suite: string, folder: string, repoHashes: Map<string, string>, overrides?: CommandOverrides): Instance {
  const file = join(folder, 'instance.json');
  const read = (name: string) => {
    const path = join(folder, name);
    if (!existsSync(path)) throw new UserError(`${path} is missing: every instance folder needs instance.json, problem.md, gold.patch and test.patch.`);
    return readFileSync(path, 'utf8');
  };
  const raw = parseJsonText(read('instance.json'), file) as Record<string, unknown>;
  const parsed = instanceSchema.safeParse({
    problem_statement: read('problem.md'),
    patch: read('gold.patch'),
    test_patch: read('test.patch'),
    ...raw,
  });
  if (!parsed.success) throw new UserError(`${file}: ${describeIssues(parsed.error, raw)}`);
  const fields = parsed.data;
  if (fields.instance_id !== basename(folder)) {
    throw new UserError(`${file}: instance_id "${fields.instance_id}" does not match its folder name "${basename(folder)}". Rename one so they agree.`);
  }
  const repoDir = join(suiteDir, 'repos', fields.repo.replace('/', '__'));
  if (!existsSync(repoDir)) throw new UserError(`${file}: repository ${fields.repo} has no folder ${repoDir}. Add the repository's base files there.`);
  let repoHash = repoHashes.get(repoDir);
  if (!repoHash) repoHashes.set(repoDir, (repoHash = hashTree(repoDir)));
  const command = resolveTestCommand(fields, () => filesInDir(repoDir), overrides);
  if (typeof command === 'string') throw new UserError(`${file}: ${command}`);
  const { rule, ...resolved } = command;
  const graded = { ...fields, ...resolved };
  return {
    ...graded,
    testCommandRule: rule,
    source: { kind: 'suite', suite, repoDir, treeHash: repoHash },
    contentHash: sha256(canonicalJson({ ...graded, repo_tree: repoHash })),
  };
}
