// Run as its own process by _plot.ts: reads a Vega-Lite spec on stdin, writes the rendered SVG to stdout.
import { text } from 'node:stream/consumers';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const spec = JSON.parse(await text(process.stdin)) as TopLevelSpec;
const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
process.stdout.write(await view.toSVG());
