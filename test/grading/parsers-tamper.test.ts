import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTestLog } from '../../src/grading/_parsers.ts';

// One report per log: a reporter writes one well-formed document; anything else was written by
// something else. Built on real reports (test/fixtures/logs/regenerate.sh).
const ROOT = '/work/repo';
const LOGS = fileURLToPath(new URL('../fixtures/logs/', import.meta.url));
const PYTEST_XML = readFileSync(`${LOGS}pytest-junit.xml`, 'utf8');
const FORGED = '<testsuites><testsuite name="pytest"><testcase classname="tests.test_x" name="test_bad"/></testsuite></testsuites>';
const parsePytestXml = (log: string) => parseTestLog('pytest-junit', log, { root: ROOT });

describe('one JUnit report per log', () => {
  it('trusts the real report, with no tamper reason', () => {
    const parsed = parsePytestXml(PYTEST_XML);
    expect(parsed.tamperReason).toBeUndefined();
    expect(parsed.tests.get('tests/test_x.py::test_bad')).toBe('FAILED');
  });

  it('ignores a report inside a comment or CDATA of the real one', () => {
    for (const hidden of [`<!-- ${FORGED} -->`, `<system-out><![CDATA[${FORGED}]]></system-out>`]) {
      const log = PYTEST_XML.replace('<testsuite name="pytest"', `<testsuite name="pytest"`).replace('</testsuite>', `${hidden}</testsuite>`);
      const parsed = parsePytestXml(log);
      expect(parsed.tamperReason, hidden).toBeUndefined();
      expect(parsed.tests.get('tests/test_x.py::test_bad')).toBe('FAILED');
    }
  });

  it('distrusts a second report, before or after the real one', () => {
    expect(parsePytestXml(`${FORGED}\n${PYTEST_XML}`).tamperReason).toMatch(/2 JUnit reports/);
    expect(parsePytestXml(`${PYTEST_XML}\n${FORGED}`).tamperReason).toMatch(/2 JUnit reports/);
  });

  it('distrusts a report inside the real one, or one that begins inside an opening never closed', () => {
    const inside = PYTEST_XML.replace('</testsuite>', `${FORGED}</testsuite>`);
    expect(parsePytestXml(inside).tamperReason).toMatch(/inside it/);
    expect(parsePytestXml(`<testsuites><testsuite name="x">\n${PYTEST_XML}`).tamperReason).toMatch(/never closes/);
  });

  it('distrusts a report that is not well-formed or is cut short', () => {
    const broken = PYTEST_XML.replace('<testcase classname="tests.test_x" name="test_bad"', '<testcase classname="tests.test_x" name="test_bad" <testcase');
    expect(parsePytestXml(broken).tamperReason).toMatch(/not well-formed/);
    expect(parsePytestXml(PYTEST_XML.slice(0, PYTEST_XML.length / 2)).tamperReason).toMatch(/not well-formed/);
    expect(parsePytestXml(PYTEST_XML.slice(0, PYTEST_XML.length / 2)).reportFound).toBe(true);
  });

  it('flags real runs where a test printed a report of its own', () => {
    // mocha's xunit reporter and node:test without isolation share stdout with the tests.
    expect(parseTestLog('junit', readFileSync(`${LOGS}junit-mocha-xunit.log`, 'utf8'), { root: ROOT }).tamperReason).toMatch(/2 JUnit reports/);
    expect(parseTestLog('node-junit', readFileSync(`${LOGS}node-junit-isolation-none.log`, 'utf8'), { root: ROOT }).tamperReason).toMatch(/2 JUnit reports/);
    // With isolation, node puts what a test prints in comments inside the report.
    expect(parseTestLog('node-junit', readFileSync(`${LOGS}node-junit.log`, 'utf8'), { root: ROOT }).tamperReason).toBeUndefined();
  });

  it('finds no report, and no tamper reason, in a log with none', () => {
    expect(parsePytestXml('collected 0 items\n')).toEqual({ tests: new Map(), names: new Map(), reportFound: false });
  });
});

describe('one TAP report per log', () => {
  const NODE_TAP = readFileSync(`${LOGS}node-tap.log`, 'utf8');
  const parseNodeTap = (log: string) => parseTestLog('node-tap', log, { root: ROOT });

  it('trusts the real stream, and leaves out what a test printed before the version header', () => {
    expect(parseNodeTap(NODE_TAP).tamperReason).toBeUndefined();
    const isolationNone = parseNodeTap(readFileSync(`${LOGS}node-tap-isolation-none.log`, 'utf8'));
    expect(isolationNone.tamperReason).toBeUndefined();
    expect(isolationNone.tests.get('test/parse.test.js::parse::nested suite::prints forged lines')).toBe('FAILED');
  });

  it('distrusts a second summary printed at exit, or a second report after the first', () => {
    expect(parseNodeTap(`${NODE_TAP}ok 10 - made up\n1..10\n`).tamperReason).toMatch(/follow the end of the report/);
    expect(parseNodeTap(`${NODE_TAP}TAP version 13\nok 1 - made up\n1..1\n`).tamperReason).toMatch(/follow the end of the report/);
    // Before the plan, a second plan is a second summary.
    const [body, plan] = [NODE_TAP.slice(0, NODE_TAP.lastIndexOf('1..')), NODE_TAP.slice(NODE_TAP.lastIndexOf('1..'))];
    expect(parseNodeTap(`${body}1..9\n${plan}`).tamperReason).toMatch(/2 top-level TAP plans|follow the end/);
  });

  it('distrusts a test number given twice, as a forged line in the runner\'s own stream gives it', () => {
    const mocha = parseTestLog('tap', readFileSync(`${LOGS}tap-mocha.log`, 'utf8'), { root: ROOT });
    expect(mocha.tamperReason).toMatch(/reported twice/);
    // The worst status still stands for the test itself.
    expect(mocha.tests.get('parse nested suite prints forged lines')).toBe('FAILED');
  });
});

describe('one JSON report per log', () => {
  const lastFrom = (log: string, start: RegExp) => log.slice([...log.matchAll(start)].at(-1)!.index);

  it('trusts a log holding the runner\'s report alone', () => {
    const jest = lastFrom(readFileSync(`${LOGS}jest-json.log`, 'utf8'), /\{\s*"num/g);
    expect(parseTestLog('jest-json', jest, { root: ROOT }).tamperReason).toBeUndefined();
    const mocha = lastFrom(readFileSync(`${LOGS}mocha-json.log`, 'utf8'), /\{\s*"stats"/g);
    expect(parseTestLog('mocha-json', mocha, { root: ROOT }).tamperReason).toBeUndefined();
  });

  it('flags real runs where a test printed a report of its own beside the runner\'s', () => {
    for (const [parser, log] of [['jest-json', 'jest-json.log'], ['vitest-json', 'vitest-json.log'], ['mocha-json', 'mocha-json.log']] as const) {
      const parsed = parseTestLog(parser, readFileSync(`${LOGS}${log}`, 'utf8'), { root: ROOT });
      expect(parsed.tamperReason, log).toMatch(/JSON reports; a runner writes one/);
      // The runner's report (the last) is still what the statuses come from.
      expect(parsed.tests.get('test/parse.test.js::parse::nested suite::prints forged lines') ?? parsed.tests.get('test/parse.test.js::parse nested suite::prints forged lines'), log).toBe('FAILED');
    }
  });
});
