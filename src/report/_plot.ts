import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Report } from './_types.ts';

const CHILD = fileURLToPath(new URL('./_vega-child.ts', import.meta.url));

/** Costs spanning more than this ratio are drawn on a log axis, so cheap configs do not pile up at zero. */
const LOG_SPAN = 10;

export type PlotOptions = {
  /** Link each point to this address (the viewer's attempts of that config). */
  href?: (config: string) => string;
};

/**
 * Vega-Lite spec of resolve rate (interval bars) against cost per task, the frontier as a line,
 * points labelled by config and coloured by frontier membership, with a legend. Only configs with
 * a known cost above $0 can be placed on a log axis; the caller decides whether a plot makes sense.
 */
export function plotSpec(report: Report, options: PlotOptions = {}): Record<string, unknown> {
  const values = report.configs
    .filter((c) => c.costPerTask !== null)
    .map((c) => ({
      config: c.config, cost: c.costPerTask, rate: c.rate, low: c.rateLow, high: c.rateHigh,
      status: c.onFrontier ? 'on the frontier' : 'beaten on cost and rate',
      ...(options.href ? { href: options.href(c.config) } : {}),
    }));
  const costs = values.map((v) => v.cost!).filter((c) => c > 0);
  const log = costs.length >= 2 && Math.max(...costs) / Math.min(...costs) > LOG_SPAN && costs.length === values.length;
  const x = {
    field: 'cost', type: 'quantitative', title: `cost per task (USD${log ? ', log scale' : ''})`, axis: { format: '$.3~f' },
    scale: log ? { type: 'log', nice: true } : { zero: true, nice: true },
  };
  const y = { field: 'rate', type: 'quantitative', title: 'resolve rate (95% interval)', axis: { format: '.0%' }, scale: { zero: false, nice: true } };
  return {
    width: 560,
    height: 360,
    background: 'white',
    data: { values },
    layer: [
      { name: 'interval', mark: { type: 'rule', color: '#718096', strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' } } },
      {
        name: 'frontier',
        transform: [{ filter: "datum.status === 'on the frontier'" }],
        mark: { type: 'line', color: '#2f855a', strokeDash: [6, 3] },
        encoding: { x, y, order: { field: 'cost', type: 'quantitative' } },
      },
      {
        name: 'configs',
        mark: { type: 'point', filled: true, size: 70, opacity: 1, ...(options.href ? { cursor: 'pointer' } : {}) },
        encoding: {
          x, y,
          color: {
            field: 'status', type: 'nominal', title: 'config',
            scale: { domain: ['on the frontier', 'beaten on cost and rate'], range: ['#2f855a', '#4a5568'] },
            legend: { orient: 'bottom', direction: 'horizontal' },
          },
          ...(options.href ? { href: { field: 'href' } } : {}),
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
export function plotSvg(report: Report, options: PlotOptions = {}): string {
  try {
    return execFileSync(process.execPath, [CHILD], { input: JSON.stringify(plotSpec(report, options)), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`Rendering the report plot with Vega failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}
