import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { buildReport, loadReportInput, renderReport } from '../../src/report/index.ts';
import { addRun, recordOutcomes, tempStore } from './_fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);

function sampleReport() {
  const { store, remove } = tempStore();
  try {
    addRun(store, 'run-html', { cheap: 'a/cheap', '<b>bold</b> & co': 'a/bold', pricey: 'a/pricey', unpriced: 'local/model' });
    recordOutcomes(store, 'run-html', 'cheap', 'rruuuuuuuu', { costUsd: 0.02 });
    recordOutcomes(store, 'run-html', '<b>bold</b> & co', 'rrrrrrruuu', { costUsd: 0.4 });
    recordOutcomes(store, 'run-html', 'pricey', 'rrrruuuuuu', { costUsd: 0.9 });
    recordOutcomes(store, 'run-html', 'unpriced', 'rrrrruuuuu', { costUsd: null });
    return buildReport(loadReportInput(store, []));
  } finally {
    remove();
  }
}

/** The markup inside the first element whose opening tag carries `marker`, up to its closing `</g>`. */
function group(dom: string, marker: string): string {
  const start = dom.indexOf(marker);
  return start === -1 ? '' : dom.slice(start, dom.indexOf('</g>', start));
}

describe('the HTML report in a browser', () => {
  const name = present
    ? 'renders in headless Chromium with one plot mark per priced config, the frontier line and every table'
    : `SKIPPED: ${CHROMIUM} is absent, so the HTML page is not opened in a browser`;

  it.skipIf(!present)(name, async () => {
    const report = sampleReport();
    expect(report.frontier).toEqual(['cheap', '<b>bold</b> & co']);
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-html-'));
    try {
      const page = join(dir, 'report.html');
      writeFileSync(page, renderReport(report, 'html'));
      const { stdout: dom } = await execa(CHROMIUM, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--no-first-run', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', pathToFileURL(page).href,
      ], { timeout: 60_000 });

      expect(dom).toMatch(/<svg[^>]*class="marks"/);
      const points = group(dom, 'class="mark-symbol role-mark configs_marks"');
      expect(points.match(/<path /g)).toHaveLength(3);
      const line = group(dom, 'class="mark-line role-mark frontier_marks"');
      expect(line).toMatch(/<path [^>]*d="M[\d.,-]+L[\d.,-]+"/);
      const labels = group(dom, 'class="mark-text role-mark labels_marks"');
      expect(labels).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; co');
      expect(labels).toContain('>pricey</text>');
      expect(dom).toContain('Not plotted, cost unknown: unpriced.');

      for (const kind of ['summary', 'pairwise', 'frontier', 'matrix']) expect(dom).toContain(`<table class="${kind}">`);
      const summary = dom.slice(dom.indexOf('<table class="summary">'), dom.indexOf('</table>', dom.indexOf('<table class="summary">')));
      expect(summary.match(/<tr>/g)).toHaveLength(1 + report.configs.length);
      // The name is text on the page, never markup.
      expect(dom).not.toContain('<b>bold</b>');
      expect(dom).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; co');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
