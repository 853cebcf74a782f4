import { lstatSync } from 'node:fs';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { diffPaths, withPrefixes } from './_edits.ts';
import type { Episode } from './_episode.ts';

/** A host path inside the repository for a path a model wrote, or why it is refused. */
export async function safeTarget(dir: string, root: string, written: string): Promise<{ path: string } | { refused: string }> {
  let path = written.trim().replace(/\\/g, '/');
  // The repository root as commands see it is the same place as the host copy.
  if (path.startsWith(`${root}/`)) path = path.slice(root.length + 1);
  if (!path || path.includes('\0')) return { refused: `the path ${JSON.stringify(written)} is empty or invalid` };
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path) || path.startsWith('~')) return { refused: `${written} is an absolute path; paths must be relative to the repository root` };
  const parts = path.split('/').filter((part) => part && part !== '.');
  if (parts.includes('..')) return { refused: `${written} leaves the repository (it contains ..)` };
  if (parts.length === 0) return { refused: `${written} names no file` };
  if (parts[0] === '.git') return { refused: `${written} is inside .git` };
  for (let i = 1; i <= parts.length; i++) {
    // Synchronous: one metadata lookup costs less than the thread pool's round trip for it.
    const found = lstatSync(join(dir, ...parts.slice(0, i)), { throwIfNoEntry: false });
    if (!found) break;
    if (found.isSymbolicLink()) return { refused: `${written} goes through the symbolic link ${parts.slice(0, i).join('/')}` };
    if (i < parts.length && !found.isDirectory()) return { refused: `${parts.slice(0, i).join('/')} in ${written} is not a directory` };
  }
  return { path: join(dir, ...parts) };
}

/** Applies one search/replace block to the host copy; null when done, else why not. */
export async function applyReplace(dir: string, root: string, edit: { path: string; search: string; replace: string }): Promise<string | null> {
  const target = await safeTarget(dir, root, edit.path);
  if ('refused' in target) return target.refused;
  const found = await lstat(target.path).catch(() => undefined);
  if (found && !found.isFile()) return `${edit.path} is not a regular file`;
  const replaceLines = edit.replace === '' ? [] : edit.replace.split('\n');
  if (!found) {
    if (edit.search.trim()) return `${edit.path} does not exist (an empty SEARCH part creates a new file)`;
    await mkdir(dirname(target.path), { recursive: true });
    await writeFile(target.path, joinLines(replaceLines));
    return null;
  }
  const original = await readFile(target.path, 'utf8');
  const crlf = original.includes('\r\n');
  const content = crlf ? original.replace(/\r\n/g, '\n') : original;
  let updated: string | null;
  if (!edit.search.trim()) {
    // Aider appends when an empty SEARCH names an existing file.
    updated = `${content}${content === '' || content.endsWith('\n') ? '' : '\n'}${joinLines(replaceLines)}`;
  } else {
    updated = replaceExact(content, edit.search.split('\n'), replaceLines) ?? replaceLoose(content, edit.search.split('\n'), replaceLines);
  }
  if (updated === null) return `the SEARCH text was not found in ${edit.path} (it must match existing lines exactly)`;
  await writeFile(target.path, crlf ? updated.replace(/\n/g, '\r\n') : updated);
  return null;
}

function joinLines(lines: string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The first occurrence of the search lines as whole lines, replaced. */
function replaceExact(content: string, search: string[], replace: string[]): string | null {
  const padded = content.endsWith('\n') ? content : `${content}\n`;
  const needle = joinLines(search);
  for (let index = padded.indexOf(needle); index >= 0; index = padded.indexOf(needle, index + 1)) {
    if (index === 0 || padded[index - 1] === '\n') {
      const result = padded.slice(0, index) + joinLines(replace) + padded.slice(index + needle.length);
      return content.endsWith('\n') ? result : result.replace(/\n$/, '');
    }
  }
  return null;
}

const normalise = (line: string) => line.trim().replace(/\s+/g, ' ');

/** Lines equal but for whitespace; the replacement is shifted by the indentation the file has and the search lacked. */
function replaceLoose(content: string, search: string[], replace: string[]): string | null {
  const wanted = trimBlankEnds(search);
  if (wanted.length === 0) return null;
  const lines = content.split('\n');
  const key = wanted.map(normalise);
  for (let start = 0; start + key.length <= lines.length; start++) {
    if (!key.every((line, k) => normalise(lines[start + k]!) === line)) continue;
    const first = wanted.findIndex((line) => line.trim());
    const fileIndent = indentOf(lines[start + first]!);
    const searchIndent = indentOf(wanted[first]!);
    const shifted = replace.map((line) => {
      if (!line.trim()) return line;
      if (fileIndent.startsWith(searchIndent)) return fileIndent.slice(searchIndent.length) + line;
      const extra = searchIndent.slice(fileIndent.length);
      return searchIndent.startsWith(fileIndent) && line.startsWith(extra) ? line.slice(extra.length) : line;
    });
    return [...lines.slice(0, start), ...shifted, ...lines.slice(start + key.length)].join('\n');
  }
  return null;
}

function trimBlankEnds(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && !lines[start]!.trim()) start++;
  while (end > start && !lines[end - 1]!.trim()) end--;
  return lines.slice(start, end);
}

function indentOf(line: string): string {
  return /^\s*/.exec(line)![0];
}

/** Every path the diff touches is checked first (in `dir`, the workspace's host view); then git apply, git apply --recount, patch --fuzz=3, in the workspace. */
export async function applyDiff(episode: Episode, diff: string, dir: string): Promise<string | null> {
  const { workspace } = episode;
  const paths = diffPaths(diff);
  if (paths.length === 0) return 'the diff names no file (it needs --- a/path and +++ b/path headers)';
  for (const path of paths) {
    const target = await safeTarget(dir, workspace.root, path);
    if ('refused' in target) return target.refused;
  }
  const patch = withPrefixes(diff);
  const tries: { command: string; recount?: boolean }[] = [
    { command: 'git apply --whitespace=nowarn -' },
    { command: 'git apply --whitespace=nowarn --recount -', recount: true },
    // Dry run first: patch would otherwise leave the hunks it could apply when others fail.
    { command: 'f=$(mktemp) && cat > "$f" && patch -p1 --fuzz=3 --batch --forward --dry-run --quiet -i "$f" && ' +
      'patch -p1 --fuzz=3 --batch --forward --no-backup-if-mismatch --reject-file=- --quiet -i "$f"; status=$?; rm -f "$f"; exit $status' },
  ];
  let last = '';
  for (const { command, recount } of tries) {
    const timeoutMs = episode.limits.commandTimeoutMs;
    // git apply needs no sandbox where the workspace can apply from the host; patch (which may follow links) always runs inside.
    const result = workspace.applyPatch && command.startsWith('git apply')
      ? await episode.within(timeoutMs, (limit) => workspace.applyPatch!(patch, { recount, timeoutMs: limit }))
      : await episode.exec(command, { timeoutMs, stdin: patch });
    if (!result) return 'the run was stopped';
    episode.trajectory.push({ kind: 'command', command, exitCode: result.exitCode, timedOut: result.timedOut, output: result.output.slice(0, 4000), durationMs: result.durationMs });
    if (result.exitCode === 0) return null;
    last = result.output.trim().split('\n').slice(0, 5).join(' ');
  }
  return `the diff does not apply: ${last}`;
}
