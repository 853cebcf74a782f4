import { TEST_INFRASTRUCTURE_PATTERN } from '../grading/index.ts';
import type { Workspace } from '../sandbox/index.ts';

/** mini-swe-agent v2's submission line: a command whose output starts with it (exit 0) submits the rest of its output. */
export const SUBMIT_SENTINEL = 'COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT';

/** The submitted text when a command's output is a submission, else null (as mini-swe-agent reads it). */
export function submissionOf(output: string, exitCode: number | null): string | null {
  if (exitCode !== 0) return null;
  const newline = output.indexOf('\n');
  const first = newline < 0 ? output : output.slice(0, newline);
  if (first.trim() !== SUBMIT_SENTINEL) return null;
  return newline < 0 ? '' : output.slice(newline + 1);
}

const TEST_FILE = new RegExp(TEST_INFRASTRUCTURE_PATTERN);

/**
 * The workspace's diff against the base without the files the agent made for itself, as
 * mini-swe-agent's prompt asks of a submission: a new file counts as source only inside a
 * directory below the top level that the base already has files in. New files at the top level
 * (`reproduce.py`), in new directory trees, and new test files anywhere are left out; changes to
 * files of the base are always kept.
 */
export async function sourceDiff(workspace: Workspace): Promise<{ ok: true; patch: string; excluded: string[] } | { ok: false; message: string }> {
  const whole = await workspace.diff();
  if (!whole.ok) return whole;
  const diff = whole.patch;
  if (!diff.trim()) return { ok: true, patch: diff, excluded: [] };
  const listed = await baseFileList(workspace);
  // Without the base's file list nothing can be told apart: the whole diff is kept.
  if (!listed) return { ok: true, patch: diff, excluded: [] };
  const sourceDirs = new Set<string>();
  for (const path of listed) {
    const slash = path.lastIndexOf('/');
    if (slash > 0) sourceDirs.add(path.slice(0, slash));
  }
  const kept: string[] = [];
  const excluded: string[] = [];
  for (const section of fileSections(diff)) {
    const created = /^new file mode /m.test(section.text);
    const dir = section.path.includes('/') ? section.path.slice(0, section.path.lastIndexOf('/')) : '';
    if (created && (dir === '' || !sourceDirs.has(dir) || TEST_FILE.test(section.path))) excluded.push(section.path);
    else kept.push(section.text);
  }
  return { ok: true, patch: kept.join(''), excluded };
}

/** The base commit's paths: from the host where the backend keeps the base there, else from git inside the workspace. */
async function baseFileList(workspace: Workspace): Promise<readonly string[] | undefined> {
  if (workspace.baseFiles) return workspace.baseFiles().catch(() => undefined);
  const listed = await workspace.exec(`git ls-tree -r --name-only -z ${workspace.baseCommit}`, { timeoutMs: 30_000 });
  return listed.exitCode === 0 ? listed.output.split('\0') : undefined;
}

/** A git diff cut at each `diff --git` header, with the path it changes. */
function fileSections(diff: string): { path: string; text: string }[] {
  const sections: { path: string; text: string }[] = [];
  const starts = [...diff.matchAll(/^diff --git a\/(.+?) b\/(.+)$/gm)];
  starts.forEach((match, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]!.index : diff.length;
    sections.push({ path: match[2]!, text: diff.slice(match.index, end) });
  });
  return sections;
}
