import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { UserError } from '../errors.ts';
import type { Grader } from '../grading/index.ts';
import { canonicalJson, loadTaskSet, sha256 } from '../tasks/index.ts';
import { HARNESS_VERSION, gitCommit } from '../version.ts';
import { NOT_GRADED, summarize } from './_export.ts';
import { writeFileAtomic } from './_files.ts';
import { resultsFileSchema, type ResultsFile } from './_results-file.ts';

export type Mismatch = { instanceId: string; repeat: number; claimed: string; found: string };

/** Reads and validates a contributed results file. */
export function readResultsFile(path: string): ResultsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UserError(`${path} is not a readable JSON results file (${(error as Error).message}). Produce one with \`bench export RUN_ID --config NAME\`.`);
  }
  const parsed = resultsFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(`${path} is not a bench results file:`, { details: parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`) });
  }
  return parsed.data;
}

/**
 * Re-grades every patch of a results file in fresh sandboxes against the local suite and
 * compares each claimed outcome; also checks the suite hash, patch hashes and the summary.
 */
export async function verifyResults(file: ResultsFile, grader: Grader, options: { jobs: number }): Promise<{ mismatches: Mismatch[]; problems: string[]; skipped: number }> {
  const problems: string[] = [];
  const suite = await loadTaskSet({ suite: file.suite.name });
  if (suite.hash !== file.suite.hash) {
    problems.push(`suite ${file.suite.name}: the file was made on content hash ${file.suite.hash.slice(0, 12)}, the local suite is ${suite.hash.slice(0, 12)}; update the suite (git pull) or re-run on this one`);
  }
  const claimedSummary = JSON.stringify(file.summary);
  if (JSON.stringify(summarize(file.instances)) !== claimedSummary) problems.push('the summary does not follow from the instances listed');
  const byId = new Map(suite.instances.map((i) => [i.instance_id, i]));
  const mismatches: Mismatch[] = [];
  const limit = pLimit(options.jobs);
  const ungraded = file.instances.filter((claim) => claim.grade_outcome === NOT_GRADED || claim.grade_outcome === 'infra_error');
  await Promise.all(file.instances.filter((claim) => !ungraded.includes(claim)).map((claim) => limit(async () => {
    const instance = byId.get(claim.instance_id);
    if (!instance) {
      mismatches.push({ instanceId: claim.instance_id, repeat: claim.repeat, claimed: claim.grade_outcome, found: 'not in the local suite' });
      return;
    }
    if (claim.patch !== null && claim.patch_hash !== null && sha256(claim.patch) !== claim.patch_hash) {
      mismatches.push({ instanceId: claim.instance_id, repeat: claim.repeat, claimed: `patch ${claim.patch_hash.slice(0, 12)}`, found: `patch ${sha256(claim.patch).slice(0, 12)}` });
      return;
    }
    const grade = await grader.grade(instance, claim.patch);
    if (grade.outcome !== claim.grade_outcome || grade.resolved !== claim.resolved) {
      mismatches.push({ instanceId: claim.instance_id, repeat: claim.repeat, claimed: `${claim.grade_outcome}${claim.resolved ? ' (resolved)' : ''}`, found: `${grade.outcome}${grade.resolved ? ' (resolved)' : ''}` });
    }
  })));
  mismatches.sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
  return { mismatches, problems, skipped: ungraded.length };
}

/** sha256 of everything a results file claims (all but its verifications), independent of key order and layout. */
export function contentDigest(file: ResultsFile): string {
  const { verifications: _verifications, ...content } = file;
  return sha256(canonicalJson(content));
}

/** `verify --record`: adds a matched verification, with the digest of the content it verified, to the file in place. */
export function recordVerification(path: string, file: ResultsFile, sandbox: string): void {
  file.verifications.push({ date: new Date().toISOString(), harness_version: HARNESS_VERSION, git_commit: gitCommit(), sandbox, matched: true, digest: contentDigest(file) });
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}
