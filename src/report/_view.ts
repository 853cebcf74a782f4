import type { Store } from '../store/index.ts';
import { buildReport } from './_build.ts';
import { experimentsOf } from './_experiments.ts';
import { MARKS, escapeHtml, money } from './_format.ts';
import { REPORT_STYLE, comparisonHtml, htmlPage } from './_html.ts';
import { loadReportInput } from './_load.ts';
import type { Report } from './_types.ts';

type StoredAttempt = NonNullable<ReturnType<Store['attempt']>>;

/** One attempt as the viewer shows it: everything `bench show` prints, plus its row's name and test log. */
export type ViewAttempt = StoredAttempt & { row: string; log: string | null };

export type RunView = { report: Report; attempts: ViewAttempt[] };

/** The comparison of the given runs (latest by default) and every one of their attempts in full. */
export function loadRunView(store: Store, runIds: string[], options: { baseline?: string } = {}): RunView {
  const input = loadReportInput(store, runIds);
  const report = buildReport(input, options);
  const experiments = experimentsOf(input);
  const attempts = input.attempts.map((row): ViewAttempt => {
    const full = store.attempt(row.id)!;
    const grade = full.grade as { log?: string } | undefined;
    // The attempt keeps its grade without the log; the grade cache, keyed by patch, holds it.
    const cached = row.patchHash && row.instanceHash ? (store.latestGrade(row.instanceId, row.instanceHash, row.patchHash) as { log?: string } | undefined) : undefined;
    return { ...full, row: experiments.of(row.runId, row.configName, row.agent).label, log: grade?.log ?? cached?.log ?? null };
  });
  return { report, attempts };
}

const VIEW_STYLE = `
${REPORT_STYLE}
nav.filters { position: sticky; top: 0; background: #fff; padding: .5rem 0; border-bottom: 1px solid #cbd5e0; display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; z-index: 1; }
details.attempt { border: 1px solid #cbd5e0; border-radius: 4px; margin: .4rem 0; padding: .2rem .6rem; }
details.attempt[hidden] { display: none; }
details.attempt > summary { cursor: pointer; font-variant-numeric: tabular-nums; }
details.attempt:target, details.attempt.focus { border-color: #2b6cb0; box-shadow: 0 0 0 2px #bee3f8; }
.outcome-resolved { color: #2f855a; font-weight: 600; } .outcome-unresolved { color: #c53030; } .outcome-other { color: #b7791f; }
pre { background: #f7fafc; border: 1px solid #e2e8f0; padding: .5rem; overflow-x: auto; max-height: 32rem; white-space: pre-wrap; word-break: break-word; }
.step { margin: .3rem 0; } .step .who { font-weight: 600; color: #4a5568; }
table.tests td.PASSED { color: #2f855a; } table.tests td.FAILED, table.tests td.ERROR, table.tests td.MISSING { color: #c53030; }
#shown { color: #4a5568; }
`;

/** Filters by config and outcome, follows `#attempt-ID` and `#config=NAME` links from the matrix and the plot. */
const VIEW_SCRIPT = `
(() => {
  const config = document.getElementById('filter-config');
  const outcome = document.getElementById('filter-outcome');
  const instance = document.getElementById('filter-instance');
  const attempts = [...document.querySelectorAll('details.attempt')];
  const shown = document.getElementById('shown');
  function apply() {
    let count = 0;
    for (const a of attempts) {
      const visible = (!config.value || a.dataset.config === config.value) && (!outcome.value || a.dataset.outcome === outcome.value)
        && (!instance.value || a.dataset.instance.includes(instance.value));
      a.hidden = !visible;
      if (visible) count++;
    }
    shown.textContent = count + ' of ' + attempts.length + ' attempts shown';
  }
  function follow() {
    const hash = decodeURIComponent(location.hash.slice(1));
    if (hash.startsWith('config=')) {
      config.value = hash.slice('config='.length);
      outcome.value = '';
      apply();
      document.getElementById('attempts').scrollIntoView();
    } else if (hash.startsWith('attempt-')) {
      const target = document.getElementById(hash);
      if (!target) return;
      if (target.hidden) { config.value = ''; outcome.value = ''; instance.value = ''; apply(); }
      for (const a of attempts) a.classList.toggle('focus', a === target);
      target.open = true;
      target.scrollIntoView();
    }
  }
  for (const control of [config, outcome, instance]) control.addEventListener('input', apply);
  window.addEventListener('hashchange', follow);
  apply();
  follow();
})();
`;

/** One self-contained page: the comparison, then every attempt in full; nothing is fetched. */
export function renderView(view: RunView): string {
  const { report, attempts } = view;
  const rows = [...new Set(attempts.map((a) => a.row))];
  const outcomes = [...new Set(attempts.map((a) => a.outcome))];
  const option = (value: string, label = value) => `<option value="${escapeHtml(value)}">${escapeHtml(label)}</option>`;
  const title = `Benchmark run${report.runs.length === 1 ? '' : 's'} ${report.runs.map((r) => r.id).join(', ')}`;
  return htmlPage({
    title,
    style: VIEW_STYLE,
    script: VIEW_SCRIPT,
    body: `<h1>${escapeHtml(title)}</h1>
<section id="comparison">
${comparisonHtml(report, { links: true })}
</section>
<section id="attempts">
<h2>Attempts</h2>
<nav class="filters">
<label>config <select id="filter-config">${option('', 'all')}${rows.map((r) => option(r)).join('')}</select></label>
<label>outcome <select id="filter-outcome">${option('', 'all')}${outcomes.map((o) => option(o, `${MARKS[o]} ${o}`)).join('')}</select></label>
<label>instance <input id="filter-instance" type="search" placeholder="part of an id"></label>
<span id="shown"></span>
</nav>
${attempts.map(attemptHtml).join('\n')}
</section>`,
  });
}

function attemptHtml(a: ViewAttempt): string {
  const outcomeClass = a.outcome === 'resolved' || a.outcome === 'unresolved' ? a.outcome : 'other';
  const cost = a.costUnknown || a.costUsd === null ? 'cost unknown' : money(a.costUsd);
  const facts = [
    `run ${a.runId}`, `agent ${a.agent}`, `repeat ${a.repeat}`, `agent stopped: ${a.exitReason ?? '–'}`, cost,
    `tokens in ${a.tokensIn}, out ${a.tokensOut}`, `${a.calls} calls, ${a.retries} retries`,
    `${(a.durationMs / 1000).toFixed(1)} s (agent ${(a.agentMs / 1000).toFixed(1)} s, grading ${(a.gradeMs / 1000).toFixed(1)} s)`,
  ];
  const tests = a.tests.length === 0 ? '<p>No tests ran.</p>' : `<table class="tests"><thead><tr><th>status</th><th>expected</th><th>test</th></tr></thead><tbody>${
    a.tests.map((t) => `<tr><td class="${escapeHtml(t.status)}">${escapeHtml(t.status)}</td><td>${escapeHtml(t.expectation ?? '')}</td><td>${escapeHtml(t.testId)}</td></tr>`).join('')
  }</tbody></table>`;
  const calls = a.llmCalls.length === 0 ? '' : `<h4>LLM calls</h4><table class="calls"><thead><tr><th>#</th><th>role</th><th>model</th><th>status</th><th>tokens in/out</th><th>cost</th><th>latency</th><th>retries</th></tr></thead><tbody>${
    a.llmCalls.map((c) => `<tr><td>${c.seq}</td><td>${escapeHtml(c.role)}</td><td>${escapeHtml(c.model ?? '')}</td><td>${escapeHtml(c.status)}${c.errorClass ? ` ${escapeHtml(c.errorClass)}: ${escapeHtml(c.errorMessage ?? '')}` : ''}</td><td>${c.tokensIn}/${c.tokensOut}</td><td>${c.costUsd === null ? 'unknown' : money(c.costUsd)}</td><td>${Math.round(c.latencyMs)} ms</td><td>${c.retries}</td></tr>`).join('')
  }</tbody></table>`;
  return `<details class="attempt" id="attempt-${a.id}" data-config="${escapeHtml(a.row)}" data-outcome="${escapeHtml(a.outcome)}" data-instance="${escapeHtml(a.instanceId)}">
<summary><span class="outcome-${outcomeClass}">${escapeHtml(MARKS[a.outcome] ?? '?')} ${escapeHtml(a.outcome)}</span> · ${escapeHtml(a.instanceId)} · ${escapeHtml(a.row)}${a.repeat > 0 ? ` · repeat ${a.repeat}` : ''} · attempt ${a.id}</summary>
<p>${facts.map(escapeHtml).join(' · ')}</p>
${a.error ? `<p><strong>error:</strong> ${escapeHtml(a.error)}</p>` : ''}
<h4>Patch</h4>
<pre class="patch">${escapeHtml(a.patch ?? '(empty)')}</pre>
<h4>Tests</h4>
${tests}
<h4>Test log</h4>
<pre class="log">${escapeHtml(a.log ?? '(none recorded)')}</pre>
${calls}
<h4>Trajectory</h4>
${trajectoryHtml(a.trajectory)}
</details>`;
}

function trajectoryHtml(trajectory: unknown): string {
  if (!Array.isArray(trajectory) || trajectory.length === 0) return '<p>No trajectory (this agent makes no model calls).</p>';
  return `<div class="trajectory">${trajectory.map((step: Record<string, unknown>) => {
    if (step.kind === 'message') return `<div class="step"><span class="who">${escapeHtml(String(step.role))}</span><pre>${escapeHtml(String(step.content))}</pre></div>`;
    if (step.kind === 'command') {
      return `<div class="step"><span class="who">$ ${escapeHtml(String(step.command))}</span> (exit ${escapeHtml(String(step.exitCode))}${step.timedOut ? ', timed out' : ''})<pre>${escapeHtml(String(step.output))}</pre></div>`;
    }
    return `<div class="step"><pre>${escapeHtml(String(step.text ?? JSON.stringify(step)))}</pre></div>`;
  }).join('\n')}</div>`;
}
