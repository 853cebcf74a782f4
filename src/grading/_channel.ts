import type { LogParserName } from '../tasks/index.ts';
import { parseTestLog } from './_parsers.ts';
import { emptyLog, recordTest } from './_parse-shared.ts';
import type { ParsedLog, TestStatus } from './_parse-types.ts';

/**
 * The report channel: the test runner writes its structured report to file descriptor 3, a
 * socket only the harness reads (see ExecOptions.reportChannel), instead of the output stream
 * that the code under test shares. node:test's runner is a process of its own whose test files
 * run in child processes that do not inherit the socket, so they cannot reach the report at all.
 * Python runs its tests in the runner's process, so there the channel only keeps printed output
 * (forged summaries, floods, reports at exit) out of the grade; canaries watch the rest.
 */
export type Channel = {
  /** Variables the test command runs with. */
  env: Record<string, string>;
  /** The test command to run in place of the instance's: the same tests, our reporter in place of its own. */
  command?: string;
  /** Files of ours the command needs, written into a private folder named by `$BENCH_CHANNEL_DIR`. */
  files: Record<string, string>;
  read(report: string, root: string): ChannelReport;
};

export type ChannelReport =
  | { kind: 'report'; log: ParsedLog }
  /** Nothing, or a report that never ended: the runner did not finish (crashed, killed, exited early). */
  | { kind: 'incomplete'; reason: string }
  /** Anything but exactly one report of the expected shape. */
  | { kind: 'tampered'; reason: string };

/** The channel for a log parser and test command, when we know how to give that runner one. */
export function channelFor(parser: LogParserName, testCmd: string): Channel | undefined {
  if (parser === 'node-junit' || parser === 'node-tap') return nodeChannel(testCmd);
  if (parser === 'unittest' || parser === 'pytest' || parser === 'pytest-junit') return pythonChannel(parser === 'unittest' ? 'unittest' : 'pytest');
  return undefined;
}

// Runs in the node:test runner process only: its reporters run there, never in the test files' processes.
// With `tee`, it also yields the report, standing in for a junit reporter of the command's own on stdout.
const nodeReporter = (tee: boolean) => [
  "import { writeSync } from 'node:fs';",
  // Not `import { junit } from`: a namespace of node:test/reporters loads every reporter, the coverage one too.
  "const { junit } = process.getBuiltinModule?.('node:test/reporters') ?? (await import('node:test/reporters'));",
  'export default async function* (source) {',
  '  for await (const chunk of junit(source)) {',
  "    const bytes = Buffer.from(chunk);",
  '    for (let at = 0; at < bytes.length; ) at += writeSync(3, bytes, at);',
  ...(tee ? ['    yield chunk;'] : []),
  '  }',
  '}',
].join('\n');

/** A module as a data: URL with every character but letters and digits escaped, so it is one plain word in any shell quoting. */
const dataUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source).replace(/[^A-Za-z0-9%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;

/** Our reporter as NODE_OPTIONS adds it, and as it stands in for the command's own junit reporter. */
const REPORTER_URL = dataUrl(nodeReporter(false));
const TEE_REPORTER_URL = dataUrl(nodeReporter(true));

/** The command's one reporter, when it is junit on stdout: `--test-reporter=junit` (or `--test-reporter junit`) as a word of its own. */
const ONLY_JUNIT = /(?<=^|[\s'"])--test-reporter[= ]junit(?=$|[\s'";&|)])/g;

/**
 * node:test. When the command's only reporter is junit on stdout, ours takes its place and writes
 * the same report to both: one reporter in the runner, not two (each costs the runner a few
 * milliseconds). Otherwise ours is added through NODE_OPTIONS: node pairs reporters with
 * destinations by position and refuses unequal counts, so the command's own reporters without a
 * destination get `stdout`, and a command with none keeps the `spec` output it would have printed.
 */
function nodeChannel(testCmd: string): Channel {
  const reporters = [...testCmd.matchAll(/--test-reporter(?!-destination)[= ]/g)].length;
  const destinations = [...testCmd.matchAll(/--test-reporter-destination[= ]/g)].length;
  const junitOnly = reporters === 1 && destinations === 0 && [...testCmd.matchAll(ONLY_JUNIT)].length === 1;
  const options = [`--test-reporter=${REPORTER_URL}`, '--test-reporter-destination=stdout'];
  if (reporters === 0) options.push('--test-reporter=spec', '--test-reporter-destination=stdout');
  for (let i = destinations; i < reporters; i++) options.push('--test-reporter-destination=stdout');
  return {
    ...(junitOnly ? { env: {}, command: testCmd.replace(ONLY_JUNIT, `--test-reporter=${TEE_REPORTER_URL}`) } : { env: { NODE_OPTIONS: options.join(' ') } }),
    files: {},
    read(report, root) {
      if (!report.trim()) return { kind: 'incomplete', reason: 'the test runner wrote no report: it stopped before its reporter ran' };
      // Diagnostics the tests print become comments of the report: their text is theirs, never part of the document.
      const document = withoutCommentsAndCdata(report);
      const roots = document.match(/<testsuites\b/g)?.length ?? 0;
      const declarations = document.match(/<\?xml\b/g)?.length ?? 0;
      if (roots !== 1 || declarations !== 1) {
        return { kind: 'tampered', reason: `the runner's report channel holds ${roots} <testsuites> documents, not exactly one` };
      }
      if (!/<\/testsuites>\s*$/.test(document)) return { kind: 'incomplete', reason: "the runner's report never ended: the runner was stopped while writing it" };
      const parsed = parseTestLog('node-junit', document, { root });
      if (parsed.tamperReason) return { kind: 'tampered', reason: parsed.tamperReason };
      return { kind: 'report', log: parsed };
    },
  };
}

/** The report with its comments and CDATA sections removed (an unclosed one runs to the end). */
function withoutCommentsAndCdata(report: string): string {
  return report.replace(/<!--[\s\S]*?(-->|$)/g, '').replace(/<!\[CDATA\[[\s\S]*?(\]\]>|$)/g, '');
}

/**
 * Loaded by every python3 of the test run through PYTHONPATH; acts only in the process that holds
 * the channel (fd 3, a socket), which it moves to a descriptor no child inherits.
 */
const SITECUSTOMIZE = String.raw`import json as _json, os as _os, stat as _stat

def _bench_channel():
    mode = _os.environ.pop("BENCH_REPORT_MODE", "")
    try:
        if not _stat.S_ISSOCK(_os.fstat(3).st_mode):
            return None
    except OSError:
        return None
    fd = _os.dup(3)
    _os.close(3)

    def emit(entry):
        data = (_json.dumps(entry) + "\n").encode()
        while data:
            data = data[_os.write(fd, data):]

    if mode == "unittest":
        _unittest_hooks(emit)
    elif mode == "pytest":
        import bench_channel_plugin
        bench_channel_plugin.emit = emit
    return emit


def _unittest_id(test):
    import unittest
    if not isinstance(test, unittest.TestCase):
        # setUpClass and friends failing: "setUpClass (tests.test_x.TestC)".
        text = str(test)
        name, _, qualified = text.partition(" (")
        parts = qualified.rstrip(")").split(".")
        start = next((i for i, part in enumerate(parts) if i > 0 and part[:1].isupper()), len(parts))
        return "::".join(["/".join(parts[:start]) + ".py", *parts[start:], name])
    cls = type(test)
    if cls.__module__ == "unittest.loader":
        return test._testMethodName.replace(".", "/") + ".py"
    return "::".join([cls.__module__.replace(".", "/") + ".py", *cls.__qualname__.split("."), test._testMethodName])


def _unittest_names(test):
    import unittest
    if not isinstance(test, unittest.TestCase) or type(test).__module__ == "unittest.loader":
        return {}
    name = test._testMethodName
    owner = type(test).__module__ + "." + type(test).__qualname__
    # SWE-bench reads verbose unittest lines: the docstring's first line when there is one, else str(test).
    printed = test.shortDescription() or str(test)
    return {"native": [name + " (" + owner + ")", name + " (" + owner + "." + name + ")", owner + "." + name, printed], "title": name, "swebench": printed}


def _unittest_hooks(emit):
    import unittest.result as result
    base = result.TestResult
    counted = []

    def hook(name, status):
        original = getattr(base, name)

        def hooked(self, test, *args):
            counted.append(1)
            emit({"test": _unittest_id(test), "status": status(test, *args) if callable(status) else status, **_unittest_names(test)})
            return original(self, test, *args)

        setattr(base, name, hooked)

    def subtest_status(test, subtest, err):
        if err is None:
            return "PASSED"
        return "FAILED" if issubclass(err[0], test.failureException) else "ERROR"

    hook("addSuccess", "PASSED")
    hook("addFailure", "FAILED")
    hook("addError", "ERROR")
    hook("addSkip", "SKIPPED")
    hook("addExpectedFailure", "XFAIL")
    hook("addUnexpectedSuccess", "FAILED")
    original_subtest = base.addSubTest

    def add_subtest(self, test, subtest, err):
        if err is not None:
            emit({"test": _unittest_id(test), "status": subtest_status(test, subtest, err)})
        return original_subtest(self, test, subtest, err)

    base.addSubTest = add_subtest
    original_start, original_stop = base.startTestRun, base.stopTestRun

    def start(self):
        emit({"report": "begin"})
        return original_start(self)

    def stop(self):
        emit({"report": "end", "count": len(counted)})
        return original_stop(self)

    base.startTestRun, base.stopTestRun = start, stop


_bench_emit = _bench_channel()
`;

const PYTEST_PLUGIN = String.raw`emit = None


def pytest_sessionstart(session):
    if emit:
        emit({"report": "begin"})


def pytest_collectreport(report):
    if emit and report.failed:
        emit({"test": report.nodeid, "status": "ERROR"})


def pytest_runtest_logreport(report):
    if not emit:
        return
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            status = "PASSED"
        elif report.skipped:
            status = "XFAIL" if xfail else "SKIPPED"
        else:
            status = "FAILED"
    elif report.skipped:
        status = "XFAIL" if xfail else "SKIPPED"
    elif report.failed:
        status = "ERROR"
    else:
        return
    # SWE-bench keeps a node id cut at its first whitespace; SWE-PolyBench keeps it whole.
    emit({"test": report.nodeid, "status": status, "native": [report.nodeid], "title": report.nodeid.split("::")[-1],
          "swebench": (report.nodeid.split() or [report.nodeid])[0], "polybench": report.nodeid})


def pytest_sessionfinish(session, exitstatus):
    if emit:
        emit({"report": "end", "exitstatus": int(exitstatus)})
`;

const STATUSES = new Set<TestStatus>(['PASSED', 'FAILED', 'SKIPPED', 'ERROR', 'XFAIL']);

function pythonChannel(mode: 'unittest' | 'pytest'): Channel {
  return {
    env: {
      BENCH_REPORT_MODE: mode,
      ...(mode === 'pytest' ? { PYTEST_PLUGINS: 'bench_channel_plugin' } : {}),
    },
    files: { 'sitecustomize.py': SITECUSTOMIZE, ...(mode === 'pytest' ? { 'bench_channel_plugin.py': PYTEST_PLUGIN } : {}) },
    read(report) {
      if (!report.trim()) return { kind: 'incomplete', reason: 'the test runner wrote no report: it stopped before running any test, or ignored PYTHONPATH' };
      const log = emptyLog(true);
      let begins = 0;
      let ended = false;
      for (const line of report.split('\n')) {
        if (!line) continue;
        let entry: { report?: unknown; test?: unknown; status?: unknown; native?: unknown; title?: unknown; swebench?: unknown; polybench?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return { kind: 'tampered', reason: "the runner's report channel holds a line that is not one of its reports" };
        }
        if (ended) return { kind: 'tampered', reason: "the runner's report channel holds something after the end of its report" };
        if (entry.report === 'begin') {
          if (++begins > 1) return { kind: 'tampered', reason: "the runner's report channel holds a second report" };
        } else if (entry.report === 'end') {
          ended = true;
        } else if (typeof entry.test === 'string' && STATUSES.has(entry.status as TestStatus) && begins === 1) {
          const native = Array.isArray(entry.native) ? entry.native.filter((name): name is string => typeof name === 'string') : [];
          const named = (key: 'title' | 'swebench' | 'polybench') => (typeof entry[key] === 'string' ? { [key]: entry[key] as string } : {});
          recordTest(log, entry.test, entry.status as TestStatus, { native, ...named('title'), ...named('swebench'), ...named('polybench') });
        } else {
          return { kind: 'tampered', reason: "the runner's report channel holds an entry of the wrong shape" };
        }
      }
      if (!ended) return { kind: 'incomplete', reason: "the runner's report never ended: the run stopped (or was stopped) before the runner finished" };
      return { kind: 'report', log };
    },
  };
}
