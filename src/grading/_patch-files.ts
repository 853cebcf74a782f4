/** Every path a unified diff touches, both sides of a rename included (all of them must be put back to the base). */
export function patchPaths(patch: string): string[] {
  const paths = new Set<string>();
  for (const line of patch.split('\n')) {
    const header = /^diff --git a\/(.+?) b\/(.+)$/.exec(line) ?? /^rename (?:from|to) (.+)$/.exec(line);
    if (header) {
      paths.add(header[header.length - 1]!);
      if (header.length === 3) paths.add(header[1]!);
      continue;
    }
    // A plain unified diff without git headers.
    const side = /^(?:\+\+\+|---) (?:[ab]\/)?([^\t\n]+)/.exec(line);
    if (side && side[1] !== '/dev/null') paths.add(side[1]!);
  }
  return [...paths];
}

/** Files pytest reads a section of (`[tool.pytest.ini_options]`, `[tool.pytest]`, `[tool:pytest]`): a changed section is put back. */
export const PYTEST_CONFIG_FILES = ['pyproject.toml', 'setup.cfg'] as const;

/**
 * Paths that steer how tests run or are reported, rather than what the code does: a model patch
 * may not change them (a planted conftest.py or sitecustomize.py can force every test green).
 * One POSIX extended regular expression, so the grading script's bash `[[ =~ ]]` and this module agree.
 */
export const TEST_INFRASTRUCTURE_PATTERN = [
  '(^|/)([Tt][Ee][Ss][Tt][Ss]?|__tests__|[Tt]esting|[Ss]pec)/',
  '(^|/)(conftest\\.py|sitecustomize\\.py|usercustomize\\.py|\\.?pytest\\.(ini|toml)|tox\\.ini|noxfile\\.py|\\.noderc|node\\.config\\.json)$',
  // Import-path machinery: start-up hooks and installed-distribution metadata (entry points load pytest plugins).
  '\\.(pth|egg-link)$',
  '(^|/)[^/]*\\.(dist-info|egg-info)(/|$)',
  // Installed packages: no fix ships them, and a planted one shadows what the runner loads.
  '(^|/)(node_modules|site-packages)(/|$)',
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
