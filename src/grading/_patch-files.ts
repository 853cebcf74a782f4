/** Files a unified diff touches, and which of them it creates or deletes. */
export type PatchFile = { path: string; created: boolean; deleted: boolean };

export function patchFiles(patch: string): PatchFile[] {
  const files: PatchFile[] = [];
  let current: PatchFile | undefined;
  for (const line of patch.split('\n')) {
    const header = /^diff --git a\/(.+?) b\/(.+)$/.exec(line);
    if (header) {
      current = { path: header[2]!, created: false, deleted: false };
      files.push(current);
      continue;
    }
    if (!current) {
      // A plain unified diff without git headers.
      const plus = /^\+\+\+ (?:b\/)?([^\t\n]+)/.exec(line);
      if (plus && plus[1] !== '/dev/null') files.push({ path: plus[1]!, created: false, deleted: false });
      continue;
    }
    if (line.startsWith('new file mode')) current.created = true;
    else if (line.startsWith('deleted file mode')) current.deleted = true;
    else if (line.startsWith('rename to ')) current.path = line.slice('rename to '.length);
  }
  return files;
}

/**
 * Paths that steer how tests run or are reported, rather than what the code does: a model patch
 * may not change them (a planted conftest.py or sitecustomize.py can force every test green).
 * One POSIX extended regular expression, so the grading script's `grep -E` and this module agree.
 */
export const TEST_INFRASTRUCTURE_PATTERN = [
  '(^|/)([Tt][Ee][Ss][Tt][Ss]?|__tests__|[Tt]esting|[Ss]pec)/',
  '(^|/)(conftest\\.py|sitecustomize\\.py|usercustomize\\.py|pytest\\.ini|tox\\.ini|noxfile\\.py|\\.noderc|node\\.config\\.json)$',
  '\\.pth$',
  '(^|/)(jest|vitest|vite|mocha|ava|karma)\\.config\\.[cm]?[jt]s$',
  '(^|/)\\.mocharc(\\.[a-z]+)?$',
  // unittest discovers test*.py (no underscore needed) in every package it walks.
  '(^|/)test[^/]*\\.py$',
  '_test\\.py$',
  '\\.(test|spec)\\.[cm]?[jt]sx?$',
  // Compiled files run in place of their source; no source fix ships them.
  '\\.(pyc|pyo|so)$',
  '(^|/)__pycache__/',
].join('|');

const testInfrastructure = new RegExp(TEST_INFRASTRUCTURE_PATTERN);

export function isTestInfrastructure(path: string): boolean {
  return testInfrastructure.test(path);
}
