import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Report } from './_types.ts';

const CHILD = fileURLToPath(new URL('./_vega-child.ts', import.meta.url));

/** Vega-Lite spec of resolve rate (Wilson bars) against cost per task, the frontier as a line, points labelled by config. */
export function plotSpec(report: Report): Record<string, unknown> {
  const values = report.configs
    .filter((c) => c.costPerTask !== null)
    .map((c) => ({ config: c.config, cost: c.costPerTask, rate: c.rate, low: c.rateLow, high: c.rateHigh, frontier: c.onFrontier }));
  const x = { field: 'cost', type: 'quantitative', title: 'cost per task (USD)', axis: { format: '$.3~f' }, scale: { zero: true, nice: true } };
  const y = { field: 'rate', type: 'quantitative', title: 'resolve rate (95% Wilson interval)', axis: { format: '.0%' }, scale: { zero: false, nice: true } };
  return {
    width: 560,
    height: 360,
    background: 'white',
    data: { values },
    layer: [
      { name: 'interval', mark: { type: 'rule', color: '#718096', strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' } } },
      {
        name: 'frontier',
        transform: [{ filter: 'datum.frontier' }],
        mark: { type: 'line', color: '#2f855a', strokeDash: [6, 3] },
        encoding: { x, y, order: { field: 'cost', type: 'quantitative' } },
      },
      {
        name: 'configs',
        mark: { type: 'point', filled: true, size: 70, opacity: 1 },
        encoding: {
          x, y,
          color: { field: 'frontier', type: 'nominal', scale: { domain: [true, false], range: ['#2f855a', '#4a5568'] }, legend: null },
        },
      },
      { name: 'labels', mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 11 }, encoding: { x, y, text: { field: 'config' } } },
    ],
  };
}

/**
 * The plot as inline SVG markup. Vega renders asynchronously, so a short-lived Node process does
 * it and this waits for its output, keeping report rendering a plain synchronous call.
 */
export function plotSvg(report: Report): string {
  try {
    return execFileSync(process.execPath, [CHILD], { input: JSON.stringify(plotSpec(report)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`Rendering the report plot with Vega failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}
