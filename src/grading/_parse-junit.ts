import type { ParsedLog, ParseOptions, TestStatus } from './_parse-types.ts';
import { emptyLog, jsTestNames, pytestNames, recordTest, relativePath, testId } from './_parse-shared.ts';
import { locateJunitReport, type XmlElement } from './_parse-xml.ts';

/**
 * node:test `--test-reporter=junit`: one `<testsuite>` per describe (nested), `<testcase>`
 * with an absolute `file`. Id: file::suite::...::title.
 */
export function parseNodeJunit(log: string, options: ParseOptions): ParsedLog {
  const { report, found, tamperReason } = locateJunitReport(log);
  const parsed: ParsedLog = { ...emptyLog(found), ...(tamperReason === undefined ? {} : { tamperReason }) };
  if (!report) return parsed;
  const visit = (element: XmlElement, suites: string[]): void => {
    for (const child of element.children) {
      if (child.name === 'testsuite') {
        visit(child, [...suites, nodeName(child.attributes.name)]);
      } else if (child.name === 'testcase') {
        const name = nodeName(child.attributes.name);
        const file = child.attributes.file === undefined ? undefined : relativePath(child.attributes.file, options.root);
        // A file that fails to load shows as a top-level testcase named after the file.
        if (suites.length === 0 && file !== undefined && relativePath(name, options.root) === file) {
          recordTest(parsed, file, hasChild(child, 'failure') || hasChild(child, 'error') ? 'ERROR' : 'PASSED');
          continue;
        }
        // A todo test may also carry a failure; node does not fail the run for it.
        const status: TestStatus = hasChild(child, 'skipped')
          ? 'SKIPPED'
          : hasChild(child, 'error')
            ? 'ERROR'
            : hasChild(child, 'failure')
              ? 'FAILED'
              : 'PASSED';
        recordTest(parsed, testId([file, ...suites, name]), status, jsTestNames(file, suites, name));
      }
    }
  };
  visit(report, report.name === 'testsuite' ? [nodeName(report.attributes.name)] : []);
  return parsed;
}

// node escapes `"` as `&quot;` and then escapes that `&` again, so one decoding leaves `&quot;`.
function nodeName(name: string | undefined): string {
  return (name ?? '').replaceAll('&quot;', '"');
}

/**
 * Generic JUnit XML (vitest, mocha xunit, jest-junit and friends). Id: file::classname::name,
 * with the file from the testcase or its nearest suite, and repeated parts dropped (vitest
 * uses the file as classname).
 */
export function parseGenericJunit(log: string, options: ParseOptions): ParsedLog {
  const { report, found, tamperReason } = locateJunitReport(log);
  const parsed: ParsedLog = { ...emptyLog(found), ...(tamperReason === undefined ? {} : { tamperReason }) };
  if (!report) return parsed;
  const visit = (element: XmlElement, suiteFile: string | undefined): void => {
    const file = element.name === 'testsuite' && element.attributes.file !== undefined ? element.attributes.file : suiteFile;
    for (const child of element.children) {
      if (child.name === 'testsuite') visit(child, file);
      else if (child.name === 'testcase') recordGenericCase(parsed, child, file, options.root);
    }
  };
  visit(report, undefined);
  return parsed;
}

function recordGenericCase(parsed: ParsedLog, testcase: XmlElement, suiteFile: string | undefined, root: string): void {
  const fileAttribute = testcase.attributes.file ?? suiteFile;
  const parts: string[] = [];
  if (fileAttribute !== undefined && fileAttribute !== '') parts.push(relativePath(fileAttribute, root));
  for (const part of [testcase.attributes.classname ?? '', testcase.attributes.name ?? '']) {
    const previous = parts.at(-1);
    if (part === '' || part === previous || (previous !== undefined && relativePath(part, root) === previous)) continue;
    parts.push(part);
  }
  if (parts.length === 0) return;
  const status: TestStatus = hasChild(testcase, 'error')
    ? 'ERROR'
    : hasChild(testcase, 'failure')
      ? 'FAILED'
      : hasChild(testcase, 'skipped')
        ? 'SKIPPED'
        : 'PASSED';
  const { classname = '', name = '' } = testcase.attributes;
  recordTest(parsed, testId(parts), status, { title: name, native: [name, classname === '' ? undefined : `${classname} ${name}`] });
}

/**
 * pytest `--junitxml`: classname `tests.test_x.TestC` + name `test_a` becomes
 * `tests/test_x.py::TestC::test_a`, the pytest node id. xfail is reported as a skip of type
 * `pytest.xfail`; a strict XPASS as a failure.
 */
export function parsePytestJunit(log: string, options: ParseOptions): ParsedLog {
  const { report, found, tamperReason } = locateJunitReport(log);
  const parsed: ParsedLog = { ...emptyLog(found), ...(tamperReason === undefined ? {} : { tamperReason }) };
  if (!report) return parsed;
  const visit = (element: XmlElement): void => {
    for (const child of element.children) {
      if (child.name === 'testsuite') visit(child);
      else if (child.name === 'testcase') {
        const id = pytestNodeId(child.attributes, options.root);
        if (id !== undefined) recordTest(parsed, id, pytestStatus(child), pytestNames(id));
      }
    }
  };
  visit(report);
  return parsed;
}

function pytestNodeId(attributes: Record<string, string>, root: string): string | undefined {
  const classname = attributes.classname ?? '';
  const name = attributes.name ?? '';
  const file = attributes.file === undefined ? undefined : relativePath(attributes.file, root);
  // A module that fails to collect has no classname and the dotted module as its name.
  if (classname === '') {
    if (file !== undefined && file.endsWith('.py') && dottedModule(file) === name) return file;
    return name === '' ? undefined : modulePath(name.split('.'));
  }
  if (file !== undefined && file.endsWith('.py')) {
    const module = dottedModule(file);
    if (classname === module) return testId([file, name]);
    if (classname.startsWith(`${module}.`)) return testId([file, ...classname.slice(module.length + 1).split('.'), name]);
  }
  // Without a file attribute (the default xunit2 family), classes start at the first capitalised part.
  const segments = classname.split('.');
  let classStart = segments.findIndex((segment, index) => index > 0 && /^[A-Z]/.test(segment));
  if (classStart < 0) classStart = segments.length;
  return testId([modulePath(segments.slice(0, classStart)), ...segments.slice(classStart), name]);
}

function dottedModule(file: string): string {
  return file.replace(/\.py$/, '').replaceAll('/', '.');
}

function modulePath(segments: string[]): string {
  return `${segments.join('/')}.py`;
}

function pytestStatus(testcase: XmlElement): TestStatus {
  if (hasChild(testcase, 'error')) return 'ERROR';
  if (hasChild(testcase, 'failure')) return 'FAILED';
  const skipped = testcase.children.find((child) => child.name === 'skipped');
  if (skipped) return skipped.attributes.type === 'pytest.xfail' ? 'XFAIL' : 'SKIPPED';
  return 'PASSED';
}

function hasChild(element: XmlElement, name: string): boolean {
  return element.children.some((child) => child.name === name);
}
