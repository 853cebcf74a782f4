import { randomBytes, randomInt } from 'node:crypto';
import type { LogParserName } from '../tasks/index.ts';
import type { TestStatus } from './_parse-types.ts';

/**
 * Canary tests: each grading appends tests of its own, named and written fresh for that grading,
 * to the file of a FAIL_TO_PASS test (after the test patch), so they run in the same process and
 * through the same framework and reporter as the tests that decide the grade. They import nothing
 * new: they use what the file already imports from the package under test. Half must fail (they
 * compare what the package exports with words drawn for this grading), half must pass: two of
 * each in Python, one of each in the JavaScript frameworks, where every test costs the runner
 * a millisecond or two of CPU (four were 4% of a small suite's run).
 *
 * They catch tampering that does not know which tests are ours: a framework or assertion library
 * rewritten from the package (every test green), a forged or rewritten report, a runner that
 * stops early and claims success. They cannot catch a patch that reads the test files at run time
 * and spares exactly these tests, nor anything that only changes the tests the grade does not see.
 */
export type Canaries = {
  /** Text appended to test files, by path. */
  appends: { path: string; text: string }[];
  mustFail: string[];
  mustPass: string[];
};

export type CanaryVerdict = {
  /** Why the canaries say the report cannot be believed. */
  tamperReason?: string;
  statuses: Record<string, TestStatus | 'MISSING'>;
};

type Style = 'python' | 'node-test' | 'jest' | 'vitest' | 'mocha';

const WORDS = [
  'header', 'value', 'section', 'record', 'token', 'option', 'entry', 'range', 'field', 'column', 'offset', 'name',
  'number', 'quote', 'line', 'prefix', 'suffix', 'window', 'label', 'default', 'flag', 'limit', 'date', 'unit',
];
const VERBS = ['reads', 'keeps', 'rejects', 'returns', 'parses', 'handles', 'formats', 'accepts', 'splits', 'joins'];

const pick = <T>(list: readonly T[]): T => list[randomInt(list.length)]!;
const tag = () => randomBytes(3).toString('hex');

/**
 * Canaries for one grading, or none when the framework or the file is not one we can write for.
 * `fileText` is the host file's text as the test patch leaves it, as far as we can know it (the
 * base file plus the lines the test patch adds).
 */
export function makeCanaries(input: { parser: LogParserName; failToPass: string[]; fileText: (path: string) => string | undefined; stdlib: () => ReadonlySet<string> }): Canaries | undefined {
  const path = input.failToPass.map((id) => id.split('::')[0]!).find((file) => /\.(py|[cm]?[jt]sx?)$/.test(file) && input.failToPass.some((id) => id.startsWith(`${file}::`)));
  if (!path) return undefined;
  const style = styleFor(input.parser, path);
  if (!style) return undefined;
  const text = input.fileText(path) ?? '';
  // Asked for only when needed: reading the standard library's names starts a python3.
  const names = style === 'python' ? pythonImports(text, input.stdlib()) : jsImports(text);
  return style === 'python' ? pythonCanaries(path, names) : jsCanaries(path, names, style, isEsm(path, text));
}

function styleFor(parser: LogParserName, path: string): Style | undefined {
  const python = path.endsWith('.py');
  if (parser === 'unittest' || parser === 'pytest' || parser === 'pytest-junit') return python ? 'python' : undefined;
  if (python) return undefined;
  if (parser === 'node-junit' || parser === 'node-tap') return 'node-test';
  if (parser === 'jest-json') return 'jest';
  if (parser === 'vitest-json') return 'vitest';
  if (parser === 'mocha-json') return 'mocha';
  return undefined;
}

/** Names the file imports from the repository's own modules (not the standard library or test tools). */
function pythonImports(text: string, stdlib: ReadonlySet<string>): string[] {
  const names: string[] = [];
  const own = (module: string) => {
    const top = module.replace(/^\.+/, '').split('.')[0]!;
    return module.startsWith('.') || (top !== '' && !stdlib.has(top) && !['pytest', '_pytest', 'unittest', 'mock', 'hypothesis'].includes(top));
  };
  for (const match of text.matchAll(/^from\s+([\w.]+)\s+import\s+\(?([^)\n]+)\)?/gm)) {
    if (!own(match[1]!)) continue;
    for (const item of match[2]!.split(',')) {
      const name = item.trim().split(/\s+as\s+/).pop()!.trim();
      if (/^[A-Za-z_]\w*$/.test(name)) names.push(name);
    }
  }
  for (const match of text.matchAll(/^import\s+([\w.]+)(?:\s+as\s+(\w+))?\s*$/gm)) {
    if (own(match[1]!)) names.push(match[2] ?? match[1]!.split('.')[0]!);
  }
  return [...new Set(names)].slice(0, 3);
}

/** Bindings the file takes from relative paths (the package under test), by import or require. */
function jsImports(text: string): string[] {
  const names: string[] = [];
  const add = (list: string) => {
    for (const item of list.split(',')) {
      const name = item.trim().split(/\s+as\s+|\s*:\s*/).pop()!.trim();
      if (/^[A-Za-z_$][\w$]*$/.test(name)) names.push(name);
    }
  };
  for (const match of text.matchAll(/^import\s+(?!type\b)([^'";]+?)\s+from\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const clause = match[1]!;
    const braces = /\{([^}]*)\}/.exec(clause);
    if (braces) add(braces[1]!);
    const star = /\*\s+as\s+([\w$]+)/.exec(clause);
    if (star) names.push(star[1]!);
    const plain = /^([\w$]+)\s*(,|$)/.exec(clause.trim());
    if (plain) names.push(plain[1]!);
  }
  for (const match of text.matchAll(/^(?:const|let|var)\s+(\{[^}]*\}|[\w$]+)\s*=\s*require\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm)) {
    const binding = match[1]!;
    if (binding.startsWith('{')) add(binding.slice(1, -1));
    else names.push(binding);
  }
  return [...new Set(names)].slice(0, 3);
}

function isEsm(path: string, text: string): boolean {
  if (path.endsWith('.mjs') || path.endsWith('.ts') || path.endsWith('.tsx') || path.endsWith('.mts')) return true;
  if (path.endsWith('.cjs') || path.endsWith('.cts')) return false;
  return /^\s*(import\s|export\s)/m.test(text);
}

function title(): string {
  const noun = pick(WORDS);
  return `${pick(VERBS)} ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun} ${pick(WORDS)} (${tag()})`;
}

function freshWords(count: number): string[] {
  return Array.from({ length: count }, () => `${pick(WORDS)}-${tag()}`);
}

function pythonCanaries(path: string, names: string[]): Canaries {
  const unit = `_unittest_${tag()}`;
  const cls = `Test${pick(WORDS).replace(/^./, (c) => c.toUpperCase())}${tag().toUpperCase()}`;
  const values = names.length ? `(${names.join(', ')},)` : '(__name__,)';
  const methods: { name: string; passes: boolean }[] = [true, false, true, false]
    .map((passes) => ({ name: `test_${pick(VERBS)}_${pick(WORDS)}_${tag()}`, passes }))
    .sort(() => randomInt(3) - 1);
  const body = methods.map(({ name, passes }) => {
    const check = passes
      ? `        self.assertEqual(len(seen), ${names.length || 1})`
      : `        self.assertEqual(seen, ${JSON.stringify(freshWords(names.length || 1))})`;
    return [`    def ${name}(self):`, `        seen = [type(value).__name__ for value in ${values}]`, check].join('\n');
  });
  const text = ['', '', `import unittest as ${unit}`, '', '', `class ${cls}(${unit}.TestCase):`, body.join('\n\n'), ''].join('\n');
  const id = (name: string) => `${path}::${cls}::${name}`;
  return {
    appends: [{ path, text }],
    mustFail: methods.filter((m) => !m.passes).map((m) => id(m.name)),
    mustPass: methods.filter((m) => m.passes).map((m) => id(m.name)),
  };
}

function jsCanaries(path: string, names: string[], style: Exclude<Style, 'python'>, esm: boolean): Canaries {
  const assert = `assert_${tag()}`;
  const testFn = style === 'mocha' ? 'it' : `test_${tag()}`;
  const imports: string[] = [];
  if (esm) {
    imports.push(`import ${assert} from 'node:assert/strict';`);
    if (style === 'node-test') imports.push(`import { test as ${testFn} } from 'node:test';`);
    if (style === 'vitest') imports.push(`import { test as ${testFn} } from 'vitest';`);
  } else {
    imports.push(`const ${assert} = require('node:assert/strict');`);
    if (style === 'node-test') imports.push(`const { test: ${testFn} } = require('node:test');`);
  }
  const call = style === 'jest' || (style === 'vitest' && !esm) ? 'test' : testFn;
  const values = names.length ? `[${names.join(', ')}]` : '[]';
  const tests: { title: string; passes: boolean }[] = [true, false]
    .map((passes) => ({ title: title(), passes }))
    .sort(() => randomInt(3) - 1);
  const body = tests.map(({ title, passes }) => {
    const check = passes ? `${assert}.equal(seen.length, ${names.length});` : `${assert}.deepEqual(seen, ${JSON.stringify(freshWords(Math.max(1, names.length)))});`;
    return [`${call}(${JSON.stringify(title)}, () => {`, `  const seen = ${values}.map((value) => typeof value);`, `  ${check}`, '});'].join('\n');
  });
  const text = ['', '', ...imports, '', body.join('\n\n'), ''].join('\n');
  const id = (title: string) => `${path}::${title}`;
  return {
    appends: [{ path, text }],
    mustFail: tests.filter((t) => !t.passes).map((t) => id(t.title)),
    mustPass: tests.filter((t) => t.passes).map((t) => id(t.title)),
  };
}

/**
 * What the canaries say about a report: a must-fail canary reported passing, or a canary missing
 * while other tests of its file were reported (the file loaded), means the report is not the
 * framework's own. A file that did not load at all takes its canaries with it: that is not tampering.
 */
export function judgeCanaries(canaries: Canaries, tests: Map<string, TestStatus>): CanaryVerdict {
  const statuses: CanaryVerdict['statuses'] = {};
  for (const id of [...canaries.mustFail, ...canaries.mustPass]) statuses[id] = tests.get(id) ?? 'MISSING';
  const files = new Set(canaries.appends.map((a) => a.path));
  const ours = new Set(Object.keys(statuses));
  const loaded = (file: string) => [...tests.keys()].some((id) => id.startsWith(`${file}::`) && !ours.has(id));
  const passedWrongly = canaries.mustFail.filter((id) => statuses[id] === 'PASSED' || statuses[id] === 'XFAIL');
  if (passedWrongly.length) return { statuses, tamperReason: `${passedWrongly.length} canary test(s) that must fail were reported passing (${passedWrongly[0]})` };
  const missing = Object.keys(statuses).filter((id) => statuses[id] === 'MISSING' && [...files].some((file) => id.startsWith(`${file}::`) && loaded(file)));
  if (missing.length) return { statuses, tamperReason: `${missing.length} canary test(s) are missing from a report that lists the other tests of their file (${missing[0]})` };
  return { statuses };
}
