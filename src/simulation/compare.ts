import * as check from '../internal/validate.js';
import { checkPolicy, checkScenario, runScenario, type CheckedScenario } from './simulate.js';
import { lineChart, type ChartMarker } from './svg.js';
import { REASONS } from './tally.js';
import type { CompareOptions, Comparison, Policy, SimulationReport, WindowStats } from './types.js';

/**
 * Runs the same scenario (same seed: same arrivals, same service times) through each policy and puts
 * the results side by side: a markdown table of the summaries and SVG line charts over time (p99
 * latency, goodput, drops, waiting), drawn without a browser. The same options give the same bytes.
 *
 * ## Example
 * ```ts
 * import { concatMap } from 'rxjs';
 * import { bufferSliding } from 'rxjs-backpressure';
 * import { compare, constant, downstream, fixed } from 'rxjs-backpressure/simulation';
 *
 * const { table, charts } = compare({
 *   duration: 30_000,
 *   arrivals: constant({ rate: 100 }),
 *   downstream: downstream({ workers: 2, serviceTime: fixed(25) }),
 *   policies: {
 *     concatMap: (call) => concatMap(call),
 *     'bufferSliding(10)': (call, { onDrop }) => bufferSliding(10, call, { concurrency: 2, onDrop }),
 *   },
 * });
 * console.log(table);
 * charts.latency; // '<svg ...'
 * ```
 *
 * @param options The scenario (as for {@link simulate}) and `policies`, by name.
 * @return `{ reports, table, charts }`.
 * @throws As {@link simulate}, naming `compare` and the policy.
 */
export function compare(options: CompareOptions): Comparison {
  const scenario = checkScenario('compare', options, ['policies']);
  const policies = checkPolicies((options as { policies?: unknown }).policies);
  const reports: Record<string, SimulationReport> = {};
  for (const [name, policy] of policies) {
    reports[name] = runScenario('compare', `policies.${name}`, scenario, policy);
  }
  return { reports, table: comparisonTable(reports), charts: comparisonCharts(reports, scenario) };
}

function checkPolicies(value: unknown): [string, Policy][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(
      `compare: \`policies\` must be an object of policies by name, got ${check.describe(value)}`,
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new RangeError('compare: `policies` must name at least one policy');
  return entries.map(([name, policy]) => [name, checkPolicy('compare', `policies.${name}`, policy)]);
}

/** A duration in ms, to read at a glance: 0.52, 17.3, 412, 12,345. */
export function formatMs(ms: number): string {
  if (ms < 10) return ms.toFixed(2);
  if (ms < 1000) return ms.toFixed(1);
  return groupDigits(Math.round(ms));
}

function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** How the run ended, in a few words. */
export function formatOutcome(report: SimulationReport): string {
  const { ended, at } = report.outcome;
  const seconds = (at / 1000).toFixed(1);
  if (ended === 'completed') return `completed at ${seconds} s`;
  if (ended === 'errored') return `errored at ${seconds} s`;
  return 'drain timed out';
}

export function droppedTotal(stats: Pick<WindowStats, 'dropped'>): number {
  let total = 0;
  for (const reason of REASONS) total += stats.dropped[reason];
  return total;
}

/** A markdown table with padded columns (as prettier writes them, so it reads well in a terminal). */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly boolean[] = [],
): string {
  const widths = headers.map((h, i) => Math.max(3, h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const cell = (text: string, i: number) => {
    const width = widths[i] as number;
    return right[i] === true ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]) =>
    `| ${headers.map((_, i) => cell((cells[i] ?? '').replace(/\|/g, '\\|'), i)).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] === true ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** The summaries side by side, one row per policy. */
export function comparisonTable(reports: Readonly<Record<string, SimulationReport>>): string {
  const headers = [
    'policy',
    'offered',
    'succeeded',
    'failed',
    'dropped',
    'lost silently',
    'waiting',
    'p50 ms',
    'p99 ms',
    'max ms',
    'goodput/s',
    'busy',
    'ended',
  ];
  const rows = Object.entries(reports).map(([name, { summary }]) => [
    name,
    String(summary.offered),
    String(summary.succeeded),
    String(summary.failed.timeout + summary.failed.overload),
    String(droppedTotal(summary)),
    String(summary.lostSilently),
    String(summary.waiting),
    formatMs(summary.latency.p50),
    formatMs(summary.latency.p99),
    formatMs(summary.latency.max),
    summary.goodput.toFixed(1),
    `${Math.round(summary.busy * 100)}%`,
    formatOutcome(reports[name] as SimulationReport),
  ]);
  const right = headers.map((_, i) => i > 0 && i < headers.length - 1);
  return markdownTable(headers, rows, right);
}

/** Vertical markers for a scenario: each phase of the downstream, and the end of the traffic. */
function markersOf(scenario: CheckedScenario): ChartMarker[] {
  const markers: ChartMarker[] = scenario.downstream.phases.map((phase) => ({
    at: phase.at / 1000,
    label:
      phase.workers === undefined
        ? 'service time'
        : `${String(phase.workers)} worker${phase.workers === 1 ? '' : 's'}`,
  }));
  markers.push({ at: scenario.duration / 1000, label: 'traffic ends' });
  return markers;
}

/** The four charts of a comparison. */
export function comparisonCharts(
  reports: Readonly<Record<string, SimulationReport>>,
  scenario: CheckedScenario,
): Comparison['charts'] {
  const names = Object.keys(reports);
  let longest: WindowStats[] = [];
  for (const name of names) {
    const series = (reports[name] as SimulationReport).series;
    if (series.length > longest.length) longest = series;
  }
  const xs = longest.map((w) => (w.start + w.end) / 2000);
  const markers = markersOf(scenario);
  const chart = (
    title: string,
    yLabel: string,
    scale: 'linear' | 'log',
    value: (w: WindowStats) => number | null,
  ): string =>
    lineChart({
      title,
      yLabel,
      xs,
      scale,
      markers,
      lines: names.map((name) => ({
        name,
        values: (reports[name] as SimulationReport).series.map(value),
      })),
    });
  return {
    latency: chart(
      'p99 latency of the values that succeeded, per window',
      'p99 latency (ms, log)',
      'log',
      (w) => (w.succeeded > 0 ? w.latency.p99 : null),
    ),
    goodput: chart(
      'Goodput: values answered in time per second',
      'succeeded per second',
      'linear',
      (w) => w.goodput,
    ),
    dropped: chart('Values dropped by the policy, per window', 'dropped per window', 'linear', (w) =>
      droppedTotal(w),
    ),
    waiting: chart(
      'Values in the policy at the end of each window',
      'waiting (log)',
      'log',
      (w) => w.waiting,
    ),
  };
}
