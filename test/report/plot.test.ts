import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildReport, loadReportInput, renderReport } from '../../src/report/index.ts';
import { plotSpec } from '../../src/report/_plot.ts';
import type { Store } from '../../src/store/index.ts';
import { addRun, recordOutcomes, tempStore } from './_fixture.ts';

let store: Store;
let remove: () => void;
beforeEach(() => ({ store, remove } = tempStore()));
afterEach(() => remove());

const html = () => renderReport(buildReport(loadReportInput(store, [])), 'html');

describe('the HTML plot', () => {
  it('says there is nothing to plot when every config costs $0, instead of a line at $0', () => {
    addRun(store, 'free', { gold: undefined, empty: undefined });
    recordOutcomes(store, 'free', 'gold', 'rrrr', { costUsd: 0 });
    recordOutcomes(store, 'free', 'empty', 'uuuu', { costUsd: 0 });
    const page = html();
    expect(page).not.toMatch(/<svg/);
    expect(page).toContain('Every config cost $0 per task (gold 100.0%, empty 0.0%), so a cost / resolve-rate plot would say nothing');
  });

  it('draws a legend for the frontier colours', () => {
    addRun(store, 'two', { cheap: 'a', pricey: 'b' });
    recordOutcomes(store, 'two', 'cheap', 'rruu', { costUsd: 0.01 });
    recordOutcomes(store, 'two', 'pricey', 'ruuu', { costUsd: 0.05 });
    const page = html();
    expect(page).toMatch(/class="mark-symbol role-legend-symbol"/);
    expect(page).toContain('on the frontier');
    expect(page).toContain('beaten on cost and rate');
    expect(page).not.toContain('log scale');
  });

  it('uses a log cost axis when costs span more than ×10, and a linear one otherwise', () => {
    addRun(store, 'wide', { cheap: 'a', pricey: 'b' });
    recordOutcomes(store, 'wide', 'cheap', 'rruu', { costUsd: 0.001 });
    recordOutcomes(store, 'wide', 'pricey', 'rrru', { costUsd: 0.9 });
    const report = buildReport(loadReportInput(store, []));
    const x = (plotSpec(report).layer as { encoding: { x: { scale: { type?: string }; title: string } } }[])[0]!.encoding.x;
    expect(x.scale.type).toBe('log');
    expect(x.title).toBe('cost per task (USD, log scale)');
    expect(renderReport(report, 'html')).toContain('cost per task (USD, log scale)');
  });

  it('links plot points to their config only when asked (the viewer)', () => {
    addRun(store, 'links', { cheap: 'a', pricey: 'b' });
    recordOutcomes(store, 'links', 'cheap', 'rruu', { costUsd: 0.01 });
    recordOutcomes(store, 'links', 'pricey', 'ruuu', { costUsd: 0.05 });
    const report = buildReport(loadReportInput(store, []));
    expect(JSON.stringify(plotSpec(report))).not.toContain('href');
    expect(JSON.stringify(plotSpec(report, { href: (c) => `#config=${c}` }))).toContain('#config=cheap');
  });
});
