/**
 * The files a test patch leaves behind, by the new side of each `diff --git` header (as SWE-bench
 * reads its directives). With `dropDeleted`, files the patch deletes are left out: they cannot be run.
 */
export function patchPaths(patch: string, options: { dropDeleted?: boolean } = {}): string[] {
  const paths: string[] = [];
  let current: string | undefined;
  for (const line of patch.split('\n')) {
    const header = /^diff --git a\/.* b\/(.*)$/.exec(line);
    if (header) {
      current = header[1]!;
      paths.push(current);
    } else if (options.dropDeleted && current && /^(\+\+\+ \/dev\/null|deleted file mode )/.test(line)) {
      paths.splice(paths.lastIndexOf(current), 1);
      current = undefined;
    }
  }
  return [...new Set(paths)];
}
