import { beforeAll, describe, expect, it } from 'vitest';
import { REPORT_FORMATS, buildReport, loadReportInput, renderReport } from '../../src/report/index.ts';
import type { Report } from '../../src/report/index.ts';
import { addRun, attempt, recordOutcomes, tempStore } from './_fixture.ts';

let report: Report;
let wide: Report;

beforeAll(() => {
  const { store, remove } = tempStore();
  try {
    addRun(store, 'run-1', { 'gpt-4o': 'openai/gpt-4o', 'cheap, "quoted"': 'openai/gpt-4o-mini', '<script>alert(1)</script>': 'x/y', 'pipe|name': 'ollama/qwen' });
    recordOutcomes(store, 'run-1', 'gpt-4o', 'rrrruupti0', { costUsd: 0.5, tokensCacheRead: 2000 });
    recordOutcomes(store, 'run-1', 'cheap, "quoted"', 'rrruuuuuue', { costUsd: 0.01 });
    recordOutcomes(store, 'run-1', '<script>alert(1)</script>', 'rrrrrrrpum', { costUsd: 0.8 });
    recordOutcomes(store, 'run-1', 'pipe|name', 'rruuuuuuuu', { costUsd: null });
    report = buildReport(loadReportInput(store, []));
  } finally {
    remove();
  }
  // Many configs with long names on long instance ids: the case that must not wrap into chaos.
  const many = tempStore();
  try {
    const names = Array.from({ length: 12 }, (_, i) => `provider-${i}/a-rather-long-model-name-v${i}-with-settings`);
    addRun(many.store, 'run-wide-0123456789', Object.fromEntries(names.map((n) => [n, n])));
    for (const [c, name] of names.entries()) {
      for (let i = 0; i < 6; i++) {
        many.store.recordAttempt(attempt({ runId: 'run-wide-0123456789', configName: name, instanceId: `astropy__astropy-${12900 + i}-a-long-suffix`, outcome: (i + c) % 3 === 0 ? 'resolved' : 'unresolved', costUsd: 0.01 * (c + 1), tokensCacheWrite: 10 }));
      }
      many.store.recordAttempt(attempt({ runId: 'run-wide-0123456789', configName: name, instanceId: 'x', repeat: 0, outcome: 'infra_error' }));
      many.store.recordAttempt(attempt({ runId: 'run-wide-0123456789', configName: name, instanceId: 'x', repeat: 1, outcome: 'resolved' }));
    }
    wide = buildReport(loadReportInput(many.store, []));
  } finally {
    many.remove();
  }
});

const columns = (line: string) => [...line].length;

describe('renderReport', () => {
  it('renders every format without ANSI escapes when colour is off', () => {
    for (const format of REPORT_FORMATS) {
      if (format === 'html') continue; // Rendered once, in its own test below.
      const text = renderReport(report, format, { width: 100, color: false });
      expect(text.length, format).toBeGreaterThan(100);
      expect(text, format).not.toContain('\x1b[');
    }
  });

  it('colours the table only when asked', () => {
    expect(renderReport(report, 'table', { width: 100, color: true })).toContain('\x1b[');
  });

  it('fits a table of many long-named configs into 80 columns', () => {
    for (const r of [report, wide]) {
      const text = renderReport(r, 'table', { width: 80, color: false });
      const tooWide = text.split('\n').filter((line) => columns(line) > 80);
      expect(tooWide).toEqual([]);
    }
    const text = renderReport(wide, 'table', { width: 80, color: false });
    expect(text).toContain('\n  A = provider-0/a-rather-long-model-name-v0-with-settings\n');
    expect(text).toContain('\n  L = provider-11/a-rather-long-model-name-v11-with-settings\n');
    expect(text).toMatch(/Left out to fit 80 columns: model, excl\. infra,/);
    // Names are cut but led by their letter; instance ids are cut where they still differ.
    expect(text).toMatch(/│ C prov…\S* +│ +3\/8 │/);
    const instances = text.split('\n').filter((line) => line.includes('suffix │')).map((line) => line.split('│')[1]!.trim());
    expect(instances).toHaveLength(6);
    expect(new Set(instances).size).toBe(6);
  });

  it('fits narrower and wider terminals too, keeping more columns when wider', () => {
    for (const width of [60, 120, 200]) {
      const text = renderReport(wide, 'table', { width, color: false });
      expect(text.split('\n').filter((line) => columns(line) > width), `width ${width}`).toEqual([]);
    }
    const summaryHead = (width: number) => renderReport(report, 'table', { width }).split('\n')[2]!;
    expect(summaryHead(200)).toContain('tokens in/out');
    expect(summaryHead(80)).not.toContain('tokens in/out');
  });

  it('writes the report itself as JSON', () => {
    expect(JSON.parse(renderReport(report, 'json'))).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('writes one RFC 4180 CSV row per config, quoting commas and quotes', () => {
    const csv = renderReport(report, 'csv');
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.slice(0, -2).split('\r\n');
    expect(lines).toHaveLength(1 + report.configs.length);
    expect(lines.some((l) => l.startsWith('"cheap, ""quoted""","cheap, ""quoted""",'))).toBe(true);
    const rows = lines.map(parseCsvLine);
    expect(new Set(rows.map((r) => r.length)).size).toBe(1);
    const header = rows[0]!;
    const unknown = rows.find((r) => r[0] === 'pipe|name')!;
    expect(unknown[header.indexOf('total_cost_usd')]).toBe('');
    expect(unknown[header.indexOf('cost_shown')]).toBe('unknown');
    expect(unknown[header.indexOf('cost_unknown')]).toBe('true');
  });

  it('writes GitHub Markdown tables with pipes and HTML in names escaped', () => {
    const md = renderReport(report, 'md');
    expect(md).toContain('| config | model | resolved | rate | 95% CI |');
    expect(md).toMatch(/\| :--- \| :--- \| ---: \| ---: \|/);
    expect(md).toContain('pipe\\|name');
    expect(md).toContain('\\<script\\>alert(1)\\</script\\>');
    expect(md).not.toContain('<script>');
    const cells = (line: string) => line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
    const matrix = md.slice(md.indexOf('## Per instance'));
    const head = cells(matrix.split('\n')[2]!);
    const row = cells(matrix.split('\n').find((line) => line.startsWith('| i7 |'))!);
    expect(Object.fromEntries(head.map((h, i) => [h, row[i]]))).toEqual({
      instance: 'i7', '\\<script\\>alert(1)\\</script\\>': '✓', 'cheap, "quoted"': '✗', 'gpt-4o': 'P', 'pipe\\|name': '✗',
    });
  });

  it('writes one self-contained HTML page with the plot inline and names escaped', () => {
    const html = renderReport(report, 'html');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toMatch(/<svg[^>]*class="marks"/);
    expect(html).not.toMatch(/<script|<link|@import|url\(|src="/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Not plotted, cost unknown: pipe|name.');
    for (const kind of ['summary', 'pairwise', 'frontier', 'matrix']) expect(html).toContain(`<table class="${kind}">`);
  });
});

/** Splits one RFC 4180 line (no embedded line breaks) into fields. */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') { value += '"'; i += 2; } else if (line[i] === '"') { i++; break; } else value += line[i++];
      }
      fields.push(value);
      i++; // the comma
    } else {
      const end = line.indexOf(',', i);
      fields.push(line.slice(i, end === -1 ? line.length : end));
      i = end === -1 ? line.length + 1 : end + 1;
    }
  }
  return fields;
}
