import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Canaries } from './_canary.ts';
import type { Channel } from './_channel.ts';
import { PLAIN_CHARACTERS, shellQuote, shellWord } from '../shell.ts';
import { PYTEST_CONFIG_FILES, TEST_INFRASTRUCTURE_PATTERN } from './_patch-files.ts';

export const APPLY_CHAIN = [
  'git apply --verbose',
  'git apply --verbose --3way',
  'git apply --verbose --reject',
  'patch --batch --forward --fuzz=5 -p1',
];
export const PATCH_FAILED = 97;
export const TEST_PATCH_FAILED = 98;

/** Test runners' own modules, standing in when there is no python3 to ask. */
const RUNNER_MODULES = ['pytest', '_pytest', 'pluggy', 'py', 'iniconfig', 'unittest', 'doctest', 'site', 'sitecustomize', 'usercustomize'];

// Imports what a unittest or pytest run imports before any test, then lists every top-level module
// now loaded: whatever the runner itself depends on, computed rather than listed by hand.
const RUNNER_IMPORTS = `
import sys
import unittest, unittest.mock, doctest
try:
    import pytest, _pytest.config, _pytest.main, _pytest.runner, _pytest.python, _pytest.unittest, _pytest.junitxml, _pytest.terminal
except Exception:
    pass
names = {name.split(".")[0] for name in sys.modules} | set(sys.stdlib_module_names)
print("\\n".join(sorted(name for name in names if name != "__main__")))
`;

let runnerModules: string[] | undefined;
let asking: Promise<readonly string[]> | undefined;

const withListed = (listed: string) => [...new Set([...RUNNER_MODULES, ...listed.split('\n').filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))])];

/**
 * Top-level module names a patch may not shadow: Python's standard library and every module the
 * test runners load, read once per process from the machine's python3 (the sandbox runs the same
 * /usr). Asking python3 takes about half a second, so the answer is kept in the cache folder,
 * keyed by the interpreter's path, size and modification time.
 */
export function runnerModuleNames(): readonly string[] {
  if (runnerModules === undefined) {
    try {
      runnerModules = withListed(execFileSync('python3', ['-I', '-c', RUNNER_IMPORTS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }));
    } catch {
      // No python3 here: the runner modules alone.
      runnerModules = RUNNER_MODULES;
    }
  }
  return runnerModules;
}

/** runnerModuleNames without blocking: from the cache folder when this python3 and its packages were asked before, else asked in the background. */
export function runnerModulesReady(cacheDir: string): Promise<readonly string[]> {
  if (runnerModules) return Promise.resolve(runnerModules);
  asking ??= (async () => {
    const key = await pythonKey();
    const file = key && join(cacheDir, `runner-modules-${createHash('sha256').update(key).digest('hex').slice(0, 16)}.txt`);
    if (file) {
      try {
        runnerModules ??= withListed(readFileSync(file, 'utf8'));
        return runnerModules;
      } catch {
        // Not asked with these packages yet.
      }
    }
    const listed = await askPython(RUNNER_IMPORTS, 20_000);
    // No answer in time: the runner modules alone, never a second, blocking, question on the event loop.
    if (listed === undefined) return (runnerModules ??= RUNNER_MODULES);
    runnerModules ??= withListed(listed);
    if (file) {
      try {
        mkdirSync(cacheDir, { recursive: true });
        writeFileSync(`${file}.${process.pid}`, listed);
        renameSync(`${file}.${process.pid}`, file);
      } catch {
        // A cache folder that cannot be written only means asking again next time.
      }
    }
    return runnerModules;
  })();
  return asking;
}

function askPython(code: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('python3', ['-I', '-c', code], { encoding: 'utf8', timeout: timeoutMs }, (error, stdout) => resolve(error ? undefined : stdout));
  });
}

/**
 * What the runner-module list depends on, as a cache key: the question asked, the interpreter
 * (real path, size, modification time) and every folder on its import path with its modification
 * time, which an installed, upgraded or removed package changes. A python3 start, not the ~0.5 s
 * of importing the runners.
 */
async function pythonKey(): Promise<string | undefined> {
  const listed = await askPython('import sys; print(sys.executable); print("\\n".join(sys.path))', 10_000);
  if (!listed) return undefined;
  const parts = [RUNNER_IMPORTS];
  for (const path of listed.split('\n').filter(Boolean)) {
    try {
      const stat = statSync(realpathSync(path));
      parts.push(`${path}:${stat.size}:${stat.mtimeMs}`);
    } catch {
      parts.push(`${path}:absent`);
    }
  }
  return parts.join('\n');
}

/**
 * `shadows PATH` succeeds for a changed path that Python would import in a runner module's place:
 * a module file, a compiled module or a package's __init__ at an import root, named like a module
 * the runner loads. The names are one string, each between slashes (which no module name holds),
 * looked up as a quoted substring: one word for bash to read, where a table of them costs it a
 * millisecond and a half to build on every grading.
 */
function shadowingCheck(): string[] {
  return [
    `runner_modules=${shellQuote(`/${runnerModuleNames().join('/')}/`)}`,
    `module_at_root=${shellQuote('^([^/.]+)(/__init__)?(\\.(py|pyc|pyo|pyd|so)|\\.[^/]*\\.so)$')}`,
    'shadows() {',
    '  local p="${1#src/}"',
    '  [[ $p =~ $module_at_root ]] && [[ $runner_modules == *"/${BASH_REMATCH[1]}/"* ]]',
    '}',
  ];
}

/** The grading script and what it reads from its stdin before the gate: the patches, byte-counted (none with a `gitDir`). */
export type GradingScript = { script: string; stdin: string; readyMarker: string };

export type ScriptParts = {
  nonce: string;
  patch: string | null;
  testPatch: string;
  testCmd: string;
  testFiles: string[];
  sharedDirs: string[];
  canaries?: Canaries;
  channel?: Channel;
  /**
   * The harness's own git directory for this grading, as the command sees it (see
   * Workspace.gradingGit), holding the patches (gradingPayloads) in its `grading` folder.
   * Without one, the workspace's `.git` is moved out of the tree and the patches come on stdin.
   */
  gitDir?: string;
  /**
   * With `gitDir`: the git the script runs refuses `.git` paths and paths beyond symbolic links in
   * `git apply` (hostGitGuardsPaths), so the tree is searched for a `.git` made or written only
   * when `patch` applied the patch.
   */
  gitGuardsPaths?: boolean;
};

/** The files the script reads its patches from, by name: what comes on stdin without a git directory. */
function patchPayloads(parts: Pick<ScriptParts, 'patch' | 'testPatch'>): Record<string, string> {
  return { 'test.patch': parts.testPatch, ...(parts.patch === null ? {} : { 'model.patch': parts.patch }) };
}

/** The folder of the git directory's `grading` folder that holds the report channel's files. */
const CHANNEL_FOLDER = 'channel';

/**
 * What Workspace.gradingGit is given: the patches, and the report channel's files in a folder of
 * their own there, written by the harness before the sandbox starts (the script then starts no
 * `mktemp` and writes nothing for them).
 */
export function gradingPayloads(parts: Pick<ScriptParts, 'patch' | 'testPatch' | 'channel'>): Record<string, string> {
  const channelFiles = Object.entries(parts.channel?.files ?? {}).map(([name, text]) => [`${CHANNEL_FOLDER}/${name}`, text]);
  return { ...patchPayloads(parts), ...Object.fromEntries(channelFiles) };
}

/**
 * The grading script. Git works on a git directory out of the work tree's reach, so nothing the
 * patch writes (a `.git/config` with hooks or filters, say) reaches the git commands that follow:
 * the harness's own (`gitDir`), or else the workspace's `.git`, moved out first and put back for
 * the tests. Then: apply chain with resets; every changed test-infrastructure path, every
 * test-patch file and every new top-level module nothing imports put back to the base; the test
 * patch; the canaries. The script then prints `readyMarker` and waits for a line on stdin (the
 * harness holds it there until a test slot is free: nothing of the patch has run yet); then our
 * status line, and bash `exec`s the tests last, with the report channel's settings (a command of
 * plain words as those words, anything else through `bash -c`).
 */
export function gradingScript(parts: ScriptParts): GradingScript {
  const say = (text: string) => `printf '%s\\n' "${parts.nonce} ${text}"`;
  const payloads = Object.entries(patchPayloads(parts));
  const gitVariables = 'GIT_WORK_TREE="$PWD" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null';
  const lines = ['set -u'];
  if (parts.gitDir !== undefined) {
    lines.push(`scratch=${shellQuote(`${parts.gitDir}/grading`)}`, `export GIT_DIR=${shellQuote(parts.gitDir)} ${gitVariables}`);
  } else {
    lines.push(
      // A private scratch folder (a container's /tmp): the git directory is moved there, out of the patch's reach.
      'scratch=$(mktemp -d) || exit 1',
      // The patches come on stdin, each read to its exact length (head -c reads no further), so the script stays small.
      ...payloads.map(([name, text]) => `head -c ${Buffer.byteLength(text)} > "$scratch/${name}" || exit 1`),
      'mv .git "$scratch/git" || exit 1',
      `export GIT_DIR="$scratch/git" ${gitVariables}`,
    );
  }
  lines.push(
    // Logs the patch can influence are indented, so no line of theirs can look like ours.
    'quote() { sed "s/^/| /" "$1" | tail -c 2000; }',
    // Clears a path (and any parent the patch turned into a file or link) and queues it to be put back from the base.
    // Walked from the top: the first folder the patch made a link or a file is removed, and nothing is followed through it.
    'restore() {',
    '  local rest="$1" d=""',
    '  while [[ "$rest" == */* ]]; do',
    '    d="${d:+$d/}${rest%%/*}"; rest="${rest#*/}"',
    '    if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then rm -f -- "$d"; break; fi',
    '  done',
    '  rm -rf -- "$1"',
    `  printf '%s\\0' "$1" >> "$scratch/restore"`,
    '}',
  );
  if (parts.patch !== null) {
    lines.push(...modelPatchSteps(parts));
    // A test-patch file comes back from the base when the patch touched it, a folder above it or anything under it
    // (with no model patch the tree is the base's already).
    for (const path of new Set(parts.testFiles)) lines.push(`if touches ${shellQuote(path)}; then restore ${shellQuote(path)}; fi`);
  } else lines.push('applied=none');
  // One checkout for everything queued: what the base has comes back, what it lacks stays removed.
  lines.push(
    'if [ -s "$scratch/restore" ]; then',
    '  xargs -0 git ls-tree -r -z --name-only HEAD -- < "$scratch/restore" > "$scratch/in-base" || exit 1',
    '  if [ -s "$scratch/in-base" ]; then xargs -0 git checkout -q HEAD -- < "$scratch/in-base" || exit 1; fi',
    'fi',
  );
  lines.push(`git apply --verbose "$scratch/test.patch" > "$scratch/tp.log" 2>&1 || { quote "$scratch/tp.log"; exit ${TEST_PATCH_FAILED}; }`);
  for (const { path, text } of parts.canaries?.appends ?? []) {
    lines.push(`if [ -f ${shellQuote(path)} ] && [ ! -L ${shellQuote(path)} ]; then printf '%s' ${shellQuote(text)} >> ${shellQuote(path)}; fi`);
  }
  // The tests see the repository as it was: the workspace's own git directory in place, git's variables gone.
  if (parts.gitDir === undefined) lines.push('rm -rf .git && mv "$scratch/git" .git || exit 1', 'rm -rf "$scratch"');
  lines.push('unset GIT_DIR GIT_WORK_TREE GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL', ...channelSteps(parts.channel, parts.gitDir !== undefined));
  // Held here until the harness lets the tests start; a closed stdin means it gave up.
  const readyMarker = `${parts.nonce} ready`;
  lines.push(`printf '%s\\n' ${shellQuote(readyMarker)}`, 'IFS= read -r go || exit 1');
  // The clock in microseconds (bash 5); `date` where bash is older.
  lines.push('now=${EPOCHREALTIME:-}; now=${now/[.,]/}; [ -n "$now" ] || now=$(( $(date +%s%3N) * 1000 ))');
  lines.push(say('applied $applied $now'));
  // The harness bounds the tests alone (ExecGate.timeoutMs): its clock starts when it lets them go.
  const command = parts.channel?.command ?? parts.testCmd;
  const words = plainWords(command);
  lines.push(`exec ${words ? words.map(shellWord).join(' ') : `bash -c ${shellQuote(command)}`} < /dev/null 2>&1`);
  return { script: `${lines.join('\n')}\n`, stdin: parts.gitDir === undefined ? payloads.map(([, text]) => text).join('') : '', readyMarker };
}

function modelPatchSteps(parts: ScriptParts): string[] {
  const lines = ['applied=""'];
  // Between tries, everything but the shared dependency folders goes, ignored leftovers included.
  const keep = parts.sharedDirs.map((dir) => ` -e ${shellQuote(`/${dir}`)}`).join('');
  const reset = `git reset --hard --quiet && git clean -ffdxq${keep}`;
  APPLY_CHAIN.forEach((command, index) => {
    const input = command.startsWith('patch') ? '-i "$scratch/model.patch"' : '"$scratch/model.patch"';
    lines.push(`if [ -z "$applied" ]; then`, `  if ${command} ${input} > "$scratch/apply.log" 2>&1; then applied=${index}; else ${reset} > /dev/null 2>&1; fi`, 'fi');
  });
  lines.push(`if [ -z "$applied" ]; then quote "$scratch/apply.log"; exit ${PATCH_FAILED}; fi`);
  const prune = parts.sharedDirs.map((dir) => ` -path ${shellQuote(`./${dir}`)} -prune -o`).join('');
  const excluded = parts.sharedDirs.map((dir) => ` ${shellQuote(`:(exclude)${dir}`)}`).join('');
  const grepExcluded = parts.sharedDirs.map((dir) => ` --exclude-dir=${shellQuote(dir)}`).join('');
  lines.push(
    // A .git anywhere in the tree hides what is under it from git itself; no fix creates one. With the harness's own git
    // directory the workspace's .git stays at the top for the tests: no fix writes into it either (git apply refuses it;
    // `patch` would not), and what did (a hook, an fsmonitor or an alias the tests' git would run) is caught by its
    // change time, later than the patch file the harness wrote before the sandbox started; a .git removed is caught too.
    // (Into a file rather than through $(...): one process, not a subshell and a process.)
    // A git that guards its paths leaves only `patch` to search after: one process and one walk of the tree fewer.
    ...(parts.gitDir === undefined
      ? [`find .${prune} -name .git -print -quit > "$scratch/dot-git" 2>/dev/null`]
      : [
        `[ -d .git ] && [ ! -L .git ] || { echo '| the patch removes or replaces .git'; exit ${PATCH_FAILED}; }`,
        ...(parts.gitGuardsPaths ? [`if [ "$applied" = ${APPLY_CHAIN.findIndex((command) => command.startsWith('patch '))} ]; then`] : []),
        // Everything in the workspace's .git is looked at (a file written deep inside changes only its own change time).
        `find . \\( -path ./.git -o -path './.git/*' \\) \\( -cnewer "$scratch/model.patch" -print -quit -o -true \\) -o${prune} -name .git -print -quit > "$scratch/dot-git" 2>/dev/null`,
        ...(parts.gitGuardsPaths ? ['fi'] : []),
      ]),
    `if [ -s "$scratch/dot-git" ]; then echo '| the patch creates or writes a .git'; exit ${PATCH_FAILED}; fi`,
    // What the patch really changed, read from the tree rather than from the diff's headers (NUL-separated: names may hold
    // newlines), in one `git status`: every changed tracked file, and every file HEAD lacks, ignored ones included (new: `??`
    // and `!!`, and what `git apply --3way` put in the index, `A`). Renames are never paired, so a file moved away
    // (conftest.py → other.py) is listed as deleted too. Tracked files changed inside a shared folder (a base that
    // tracks one) are asked of `git diff`. A git before 2.18 (an old image) knows neither option: the same lists come
    // from `ls-files` and `diff`. A listing that fails ends the grading, with git's words: nothing may go unchecked.
    ': > "$scratch/new"; : > "$scratch/changed"',
    `if git status --porcelain -z --no-renames --untracked-files=all --ignored=traditional -- .${excluded} > "$scratch/status" 2> "$scratch/list.log"; then`,
    ...(parts.sharedDirs.length
      ? [`  git diff --name-only --no-renames -z HEAD --${parts.sharedDirs.map((dir) => ` ${shellQuote(dir)}`).join('')} > "$scratch/changed" 2> "$scratch/list.log" || { quote "$scratch/list.log"; exit 1; }`]
      : []),
    `  while IFS= read -r -d '' entry; do`,
    `    printf '%s\\0' "\${entry:3}" >> "$scratch/changed"`,
    `    case \${entry:0:2} in '??'|'!!'|A?) printf '%s\\0' "\${entry:3}" >> "$scratch/new" ;; esac`,
    `  done < "$scratch/status"`,
    'else',
    `  { git ls-files --others -z -- .${excluded} && git diff --name-only --no-renames --diff-filter=A -z HEAD -- .${excluded}; } > "$scratch/new" 2> "$scratch/list.log" || { quote "$scratch/list.log"; exit 1; }`,
    `  { git diff --name-only --no-renames -z HEAD && cat "$scratch/new"; } > "$scratch/changed" 2> "$scratch/list.log" || { quote "$scratch/list.log"; exit 1; }`,
    'fi',
    ...shadowingCheck(),
    `infrastructure=${shellQuote(TEST_INFRASTRUCTURE_PATTERN)}`,
    `pytest_config=${shellQuote(`(^|/)(${PYTEST_CONFIG_FILES.join('|').replaceAll('.', '\\.')})$`)}`,
    // pytest reads its options from a section of these files: a changed section is a reconfigured runner.
    `pytest_section() { awk '/^[[:space:]]*\\[/ { on = ($0 ~ /pytest/) } on' "$@" 2>/dev/null; }`,
    // One pass over the changed paths, in bash: test infrastructure, a top-level module named like one the
    // runner imports (unittest.py or .pyc, pluggy/, say) that would run in its place, a changed pytest section.
    // Every changed path, and every folder above one, for `touches`.
    'declare -A touched=() above=()',
    'touches() {',
    '  local d="$1"',
    '  [[ -n "${touched[$d]:-}${above[$d]:-}" ]] && return 0',
    '  while [[ "$d" == */* ]]; do d="${d%/*}"; [[ -n "${touched[$d]:-}" ]] && return 0; done',
    '  return 1',
    '}',
    `while IFS= read -r -d '' path; do`,
    '  touched["$path"]=1; d="$path"; while [[ "$d" == */* ]]; do d="${d%/*}"; above["$d"]=1; done',
    '  if [[ $path =~ $infrastructure ]] || shadows "$path"; then printf \'%s\\0\' "$path" >> "$scratch/revert"',
    '  elif [[ $path =~ $pytest_config ]] && [ "$(git show "HEAD:$path" 2>/dev/null | pytest_section)" != "$(pytest_section "$path")" ]; then',
    `    printf '%s\\0' "$path" >> "$scratch/revert"`,
    '  fi',
    `done < "$scratch/changed"`,
    // A new top-level Python module or package (whatever its alphabet) runs only if something imports it: discovery or
    // start-up would import it with nothing asking for it. Kept when an existing file, another new file or the test
    // patch imports it by name.
    'declare -A new_top=()',
    `module_file=${shellQuote('^(src/)?([^/]+)(\\.py|/.*\\.py)$')}`,
    `while IFS= read -r -d '' path; do`,
    `  if [[ $path =~ $module_file ]]; then new_top["\${BASH_REMATCH[1]}\${BASH_REMATCH[2]}"]=1; fi`,
    `done < "$scratch/new"`,
    // Guarded: under `set -u`, bash before 4.4 (old container images) calls an empty array unbound.
    'for top in ${new_top[@]+"${!new_top[@]}"}; do',
    '  name="${top#src/}"',
    `  importers=$(grep -rlE --include='*.py'${grepExcluded} --exclude-dir=.git "^[+[:space:]]*(from[[:space:]]+$name([.[:space:]])|import[[:space:]]+([^#]*,[[:space:]]*)?$name([.,[:space:]]|$))" . "$scratch/test.patch" 2>/dev/null | grep -v -e "^\\./$top/" -e "^\\./$top\\.py$" | head -1)`,
    `  if [ -z "$importers" ]; then while IFS= read -r -d '' path; do if [[ $path == "$top.py" || $path == "$top"/* ]]; then printf '%s\\0' "$path" >> "$scratch/revert"; fi; done < "$scratch/new"; fi`,
    'done',
    `if [ -s "$scratch/revert" ]; then sort -zu "$scratch/revert" | while IFS= read -r -d '' path; do`,
    `  restore "$path"; printf '%s reverted %q\\n' "${parts.nonce}" "$path"`,
    'done; fi',
  );
  return lines;
}

/**
 * The report channel's files in a private folder, and its variables, just before the tests start:
 * with the harness's git directory, the folder gradingPayloads put there; without one, a fresh
 * folder in the sandbox's home, written here.
 */
function channelSteps(channel: Channel | undefined, inGitDir: boolean): string[] {
  if (!channel) return [];
  const lines: string[] = [];
  const files = Object.entries(channel.files);
  if (files.length && inGitDir) lines.push(`BENCH_CHANNEL_DIR="$scratch/${CHANNEL_FOLDER}"`);
  else if (files.length) {
    lines.push('BENCH_CHANNEL_DIR=$(mktemp -d -p "${HOME:-/tmp}") || exit 1');
    for (const [name, text] of files) lines.push(`printf '%s' ${shellQuote(text)} > "$BENCH_CHANNEL_DIR"/${shellQuote(name)}`);
  }
  if (files.length) lines.push('export PYTHONPATH="$BENCH_CHANNEL_DIR${PYTHONPATH:+:$PYTHONPATH}"');
  for (const [name, value] of Object.entries(channel.env)) lines.push(`export ${name}=${shellQuote(value)}`);
  return lines;
}

/** Bash's reserved words and builtins: a first word that is one of these needs bash to run it. */
const BASH_OWN = new Set(
  ('! [[ ]] { } case do done elif else esac fi for function if in select then time until while coproc ' +
    '. : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo enable ' +
    'eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd printf pushd pwd ' +
    'read readarray readonly return set shift shopt source suspend test times trap true type typeset ulimit umask unalias ' +
    'unset wait').split(' '),
);

// A run of blanks, of plain characters, a single-quoted or a double-quoted piece, or any other character (which ends it).
const WORD_PIECE = new RegExp(`([ \\t]+)|([${PLAIN_CHARACTERS}]+)|'([^']*)'|"([^"$\`\\\\!]*)"|[^]`, 'gy');

/**
 * The words of a command that is only words, or undefined. Only words: each made of the characters
 * bash gives no meaning to outside quotes, single-quoted text, and double-quoted text with nothing
 * bash expands there; separated by spaces or tabs; the first an external program (no assignment,
 * no reserved word or builtin). Such a command runs the same `exec`ed as its words as under
 * `bash -c`, one bash fewer; anything else (a pipe, a variable, a glob, `&&`) goes to `bash -c`.
 */
export function plainWords(command: string): string[] | undefined {
  const words: string[] = [];
  const token = new RegExp(WORD_PIECE);
  let word: string | undefined;
  for (let match = token.exec(command); match; match = token.exec(command)) {
    const [, blanks, bare, single, double] = match;
    const piece = bare ?? single ?? double;
    if (blanks !== undefined) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (piece !== undefined) word = (word ?? '') + piece;
    else return undefined;
  }
  if (word !== undefined) words.push(word);
  const first = words[0];
  if (first === undefined || first.includes('=') || BASH_OWN.has(first)) return undefined;
  return words;
}

