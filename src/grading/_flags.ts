import { TEST_INFRASTRUCTURE_PATTERN } from './_patch-files.ts';

/**
 * Facts about a patch a reviewer wants to see before trusting its grade. They decide nothing:
 * a fix may well use `atexit` or `ctypes`; the grade stays what the tests say, and reports list
 * the flagged attempts so a person can look.
 */
export type PatchFlag = 'test_infrastructure' | 'exit_or_io_hooks' | 'framework_internals' | 'native_or_syscalls';

export const PATCH_FLAGS: readonly PatchFlag[] = ['test_infrastructure', 'exit_or_io_hooks', 'framework_internals', 'native_or_syscalls'];

const CODE_RULES: [PatchFlag, RegExp][] = [
  ['exit_or_io_hooks', /\bos\._exit\b|\batexit\b|\bsys\.exit\b|\bsys\.(std(out|err|in)|__std(out|err)__)\s*=|\bos\.(dup2?|write|close|fdopen|kill|killpg)\s*\(|\bsignal\.signal\s*\(|\bfaulthandler\b/],
  ['exit_or_io_hooks', /\bprocess\.(on|once|prependListener|addListener)\(\s*['"](exit|beforeExit|uncaughtException|unhandledRejection|SIG\w+)['"]|\bprocess\.(exit|reallyExit|abort|kill|_exit)\b|\bprocess\.(stdout|stderr)\.(write|_write)\s*=|\bprocess\.(stdout|stderr)\s*=|\bprocess\.exitCode\s*=|\bprocess\.send\b|\bwriteSync\(\s*[12]\b/],
  ['framework_internals', /\bunittest\.(TestCase|TestResult|TextTestResult|TextTestRunner|TestProgram|main|result|runner|case|loader|suite)\b\.\w+\s*=|\bTestCase\.(run|__call__|debug|assert\w*)\s*=|\b_pytest\b|\bpytest_\w+\s*\(|\bpluggy\b|\bsys\.modules\[|\bbuiltins\.|__import__\s*\(|\bimportlib\b|\bsys\.(meta_path|path_hooks|settrace|setprofile|addaudithook)\b/],
  ['framework_internals', /['"]node:(test|assert)(\/[\w/]*)?['"]|\bfrom\s+['"](assert|chai|vitest|jest|mocha|@jest\/[\w-]+)['"]|\brequire\(\s*['"](assert|chai|vitest|jest|mocha|@jest\/[\w-]+)['"]|\bModule\._(load|resolveFilename|compile|extensions)\b|\bregisterHooks\(|\bmodule\.register\(|\bglobalThis\.(describe|it|test|expect)\s*=|\bprocess\.(binding|_linkedBinding)\b|\binternalBinding\b|\bv8\.(serialize|deserialize|setFlagsFromString)\b/],
  ['native_or_syscalls', /\bctypes\b|\bcffi\b|\blibc\b|\bsyscall\b|\bptrace\b|\bprctl\b|\bmmap\b|\/proc\/(self|\d+|\$|\{)|\bprocess\.dlopen\b|\bffi-napi\b|\bnode-gyp\b|\bworker_threads\b|\bchild_process\b|\bsubprocess\b|\bos\.(system|exec\w*|fork|spawn\w*|posix_spawn\w*)\b/],
];

const infrastructure = new RegExp(TEST_INFRASTRUCTURE_PATTERN);

/**
 * The flags of one patch, read from the paths it touches and the lines it adds. Test files the
 * patch changes count as test infrastructure (they are put back before the tests run, but the
 * intent is worth seeing); the code rules read added lines of every file.
 */
export function patchFlags(patch: string | null | undefined, revertedFiles: readonly string[] = []): PatchFlag[] {
  if (!patch) return [];
  const flags = new Set<PatchFlag>();
  if (revertedFiles.length > 0) flags.add('test_infrastructure');
  for (const line of patch.split('\n')) {
    const header = /^(?:\+\+\+|---) (?:[ab]\/)?(.+)$/.exec(line);
    if (header) {
      if (header[1] !== '/dev/null' && infrastructure.test(header[1]!.trim())) flags.add('test_infrastructure');
      continue;
    }
    if (!line.startsWith('+')) continue;
    for (const [flag, rule] of CODE_RULES) if (!flags.has(flag) && rule.test(line)) flags.add(flag);
  }
  return PATCH_FLAGS.filter((flag) => flags.has(flag));
}
