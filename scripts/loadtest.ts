/**
 * `npm run loadtest`: runs the standard scenarios (scripts/loadtest/scenarios.ts) through every
 * policy in virtual time, prints the tables, and writes docs/loadtest.md with its charts under
 * docs/loadtest/.
 *
 *   npm run loadtest                 run, print the tables, write the report
 *   npm run loadtest -- --check      run, print the tables, and fail unless the committed report
 *                                    (docs/loadtest.md and docs/loadtest/*.svg) is what this run writes
 *
 * The runs are deterministic (seeded, virtual time), so a fresh run reproduces the committed report
 * byte for byte; CI runs the check. Progress and timings go to stderr.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import {
  compare,
  type Comparison,
  type FlowStats,
  type SimulationReport,
  type WindowStats,
} from '../src/simulation/index.js';
import { droppedTotal, formatMs, markdownTable } from '../src/simulation/compare.js';
import {
  CAPACITY,
  DURATION,
  INCIDENT,
  POLICIES,
  SCENARIOS,
  SERVICE_TIME,
  TIMEOUT,
  WORKERS,
  type LoadScenario,
} from './loadtest/scenarios.js';
import { adaptiveSection } from './loadtest/adaptiveReport.js';

// The repository root: this file's folder's parent (read from argv, as the benchmarks do, since the
// spec type check compiles this file as CommonJS, where import.meta does not exist).
const ROOT = resolve(dirname(resolve(process.argv[1] ?? 'scripts/loadtest.ts')), '..');
const REPORT = join(ROOT, 'docs', 'loadtest.md');
const CHART_DIR = join(ROOT, 'docs', 'loadtest');
const CHARTS = ['latency', 'goodput', 'dropped', 'waiting'] as const;
const CHART_TITLES: Record<(typeof CHARTS)[number], string> = {
  latency: 'p99 latency per second',
  goodput: 'goodput',
  dropped: 'drops per second',
  waiting: 'values waiting in the policy',
};

const log = (message: string) => process.stderr.write(`loadtest: ${message}\n`);

interface Run {
  load: LoadScenario;
  comparison: Comparison;
}

const percent = (part: number, whole: number) =>
  whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const list = (names: readonly string[]) =>
  names.length <= 1
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
const code = (names: readonly string[]) => list(names.map((n) => `\`${n}\``));

function reportsOf(run: Run): [string, SimulationReport][] {
  return Object.entries(run.comparison.reports);
}

// --- readings: a few sentences per scenario, computed from the reports -------------------------

/** Policies whose output errored, with when. */
function erroredSentence(run: Run): string[] {
  const errored = reportsOf(run).filter(([, r]) => r.outcome.ended === 'errored');
  if (errored.length === 0) return [];
  return [
    errored
      .map(
        ([name, r]) =>
          `\`${name}\` errored at ${seconds(r.outcome.at)} (${(r.outcome.error ?? 'an error').replace(/`/g, '')}): what it held then, and every value arriving after, is lost (${percent(r.summary.lostSilently, r.summary.offered)} of the traffic).`,
      )
      .join(' '),
  ];
}

function unboundedSentence(run: Run): string[] {
  const rows = reportsOf(run).filter(([name]) => name === 'concatMap' || name === 'mergeMap(f, 8)');
  return rows.map(([name, r]) => {
    const left =
      r.outcome.ended === 'drainTimeout'
        ? `${String(r.summary.waiting)} values were still queued when the drain timed out`
        : `the backlog was worked off ${seconds(r.outcome.at - DURATION)} after the traffic ended`;
    return `\`${name}\` drops nothing, but its p99 latency is ${formatMs(r.summary.latency.p99)} ms and ${left}.`;
  });
}

function silentSentence(run: Run): string[] {
  const r = run.comparison.reports.exhaustMap;
  if (r === undefined) return [];
  return [
    `\`exhaustMap\` ignores ${percent(r.summary.lostSilently, r.summary.offered)} of the values without telling anyone: they appear only as \`lostSilently\`.`,
  ];
}

function boundedSentence(run: Run): string[] {
  const bounded = reportsOf(run).filter(
    ([, r]) => r.outcome.ended === 'completed' && r.summary.waiting === 0 && r.summary.lostSilently === 0,
  );
  if (bounded.length === 0) return [];
  const best = [...bounded].sort(([, a], [, b]) => b.summary.goodput - a.summary.goodput)[0];
  const fastest = [...bounded].sort(([, a], [, b]) => a.summary.latency.p99 - b.summary.latency.p99)[0];
  if (best === undefined || fastest === undefined) return [];
  return [
    `Of the policies that account for every value (each one succeeded, failed or was reported dropped), \`${best[0]}\` has the highest goodput (${best[1].summary.goodput.toFixed(1)}/s, ${percent(best[1].summary.succeeded, best[1].summary.offered)} of the values) and \`${fastest[0]}\` the lowest p99 latency (${formatMs(fastest[1].summary.latency.p99)} ms).`,
  ];
}

function failedSentence(run: Run): string[] {
  const failing = reportsOf(run).filter(([, r]) => r.summary.failed.timeout + r.summary.failed.overload > 0);
  if (failing.length === 0)
    return [`No call timed out: no policy let the downstream's own queue grow past ${String(TIMEOUT)} ms.`];
  return [
    `Calls timed out (the client gave up after ${String(TIMEOUT)} ms while the downstream kept working on them) under ${list(
      failing.map(
        ([name, r]) => `\`${name}\` (${String(r.summary.failed.timeout + r.summary.failed.overload)})`,
      ),
    )}: these policies send more calls at once than the downstream serves, so its own queue grows.`,
  ];
}

/** Values a window dropped, failed or lost. */
const losses = (w: WindowStats) => droppedTotal(w) + w.failed.timeout + w.failed.overload + w.lostSilently;

/**
 * Recovery after the incident: the time from the workers' return to the first window from which,
 * until the traffic ends, every window's p99 latency is at most twice the policy's own median p99
 * before the incident (5-20 s), and it drops, fails or loses no more values than in its worst window
 * before the incident.
 */
export function recoveryTime(report: SimulationReport): number | 'errored' | 'unstable' | 'never' {
  if (report.outcome.ended === 'errored' && report.outcome.at < DURATION) return 'errored';
  const before = report.series.filter((w) => w.start >= 5_000 && w.end <= INCIDENT.from && w.succeeded > 0);
  const p99s = before.map((w) => w.latency.p99).sort((a, b) => a - b);
  const median = p99s[Math.floor(p99s.length / 2)];
  if (median === undefined || median > TIMEOUT) return 'unstable';
  const usualLosses = Math.max(0, ...before.map(losses));
  const healthy = (w: WindowStats) =>
    w.succeeded > 0 && w.latency.p99 <= 2 * median && losses(w) <= usualLosses;
  const after = report.series.filter((w) => w.start >= INCIDENT.to && w.end <= DURATION);
  let from: number | undefined;
  for (const w of after) {
    if (!healthy(w)) from = undefined;
    else from ??= w.start;
  }
  return from === undefined ? 'never' : from - INCIDENT.to;
}

function recoveryTable(run: Run): string {
  const rows = reportsOf(run).map(([name, r]) => {
    const t = recoveryTime(r);
    const recovery =
      t === 'errored'
        ? 'errored'
        : t === 'unstable'
          ? 'not stable before the incident'
          : t === 'never'
            ? `not within the traffic (${seconds(DURATION - INCIDENT.to)})`
            : seconds(t);
    const during = r.series.filter((w) => w.start >= INCIDENT.from && w.end <= INCIDENT.to);
    const worst = Math.max(0, ...during.map((w) => (w.succeeded > 0 ? w.latency.p99 : 0)));
    const lostDuring = during.reduce((n, w) => n + losses(w), 0);
    return [name, formatMs(worst), String(lostDuring), recovery];
  });
  return markdownTable(
    ['policy', 'worst p99 during the incident, ms', 'dropped, failed or lost during it', 'recovered after'],
    rows,
    [false, true, true, false],
  );
}

function incidentSentence(run: Run): string[] {
  const recoveries = reportsOf(run).map(([name, r]) => [name, recoveryTime(r)] as const);
  const unstable = recoveries.filter(([, t]) => t === 'unstable').map(([name]) => name);
  const out = [
    `Before the incident every policy keeps up with the traffic${unstable.length > 0 ? ` except ${code(unstable)}` : ''}; with one worker left, the downstream serves about ${String(Math.round(CAPACITY / WORKERS))} values per second of the ${String(Math.round(CAPACITY * 0.6))} offered.`,
  ];
  const byTime = new Map<number, string[]>();
  for (const [name, t] of recoveries)
    if (typeof t === 'number') byTime.set(t, [...(byTime.get(t) ?? []), name]);
  const groups = [...byTime].sort(([a], [b]) => a - b);
  if (groups.length > 0) {
    out.push(
      `Back to their usual latency and losses after the workers return: ${groups
        .map(([t, names]) => `${code(names)} ${t === 0 ? 'at once' : `after ${seconds(t)}`}`)
        .join('; ')}.`,
    );
  }
  const never = recoveries.filter(([, t]) => t === 'never').map(([name]) => name);
  if (never.length > 0) out.push(`${code(never)} had not recovered when the traffic ended.`);
  const slow = reportsOf(run).filter(([, r]) => r.summary.failed.timeout > 0);
  if (slow.length > 0) {
    out.push(
      `${code(slow.map(([name]) => name))} send every call at once: during the incident the downstream's own queue grows past the ${String(TIMEOUT)} ms timeout, and callers give up while it keeps working on their requests.`,
    );
    const late = slow
      .filter(([, r]) => {
        const t = recoveryTime(r);
        return typeof t === 'number' && t >= 10_000;
      })
      .map(([name]) => name);
    if (late.length > 0) {
      out.push(
        `For ${code(late)} that backlog of abandoned work is still being served after the workers return, which delays the recovery.`,
      );
    }
  }
  return out;
}

function classTable(run: Run): string {
  const rows = reportsOf(run).map(([name, r]) => {
    const cls = r.summary.classes ?? {};
    const cells = (c: string) => {
      const stats = cls[c];
      if (stats === undefined) return ['–', '–'];
      return [
        percent(stats.succeeded, stats.offered),
        stats.succeeded > 0 ? formatMs(stats.latency.p99) : '–',
      ];
    };
    return [name, ...cells('critical'), ...cells('optional')];
  });
  return markdownTable(
    ['policy', 'critical succeeded', 'critical p99 ms', 'optional succeeded', 'optional p99 ms'],
    rows,
    [false, true, true, true, true],
  );
}

function prioritySentence(run: Run): string[] {
  const critical = reportsOf(run)
    .map(([name, r]) => [name, r.summary.classes?.critical, r.summary.classes?.optional] as const)
    .filter(
      (entry): entry is readonly [string, FlowStats, FlowStats] =>
        entry[1] !== undefined && entry[2] !== undefined,
    );
  const share = (stats: FlowStats) => stats.succeeded / Math.max(1, stats.offered);
  // Among the policies that answer critical values within the client's timeout.
  const prompt = critical.filter(([, c]) => c.succeeded > 0 && c.latency.p99 <= TIMEOUT);
  const best = [...prompt].sort(([, a], [, b]) => share(b) - share(a))[0];
  const out: string[] = [];
  if (best !== undefined) {
    out.push(
      `Of the policies that answer critical values within the ${String(TIMEOUT)} ms timeout, \`${best[0]}\` serves the most of them (${percent(best[1].succeeded, best[1].offered)}, p99 ${formatMs(best[1].latency.p99)} ms, against ${percent(best[2].succeeded, best[2].offered)} of the optional ones): when its queue is full it sheds optional values first, and it starts critical ones first.`,
    );
  }
  const slow = critical.filter(([, c]) => c.succeeded > 0 && c.latency.p99 > TIMEOUT).map(([name]) => name);
  if (slow.length > 0) out.push(`${code(slow)} serve critical values only after minutes in a queue.`);
  out.push('The other policies cannot tell the classes apart: critical values fare as the rest.');
  return out;
}

const READINGS: Record<string, (run: Run) => string[]> = {
  steady: (run) => [
    ...unboundedSentence(run),
    ...silentSentence(run),
    ...erroredSentence(run),
    ...boundedSentence(run),
    ...failedSentence(run),
  ],
  bursts: (run) => [
    'Each burst brings ten seconds of work in one second. A queue of 100 holds a fraction of a burst: the bounded buffers drop most of each burst and keep latency bounded; the unbounded queues take the whole burst and work it off over the quiet seconds, at the price of latency.',
    ...unboundedSentence(run),
    ...silentSentence(run),
    ...erroredSentence(run),
    ...boundedSentence(run),
    ...failedSentence(run),
  ],
  incident: (run) => [...incidentSentence(run), ...erroredSentence(run)],
  priorities: (run) => [...prioritySentence(run), ...erroredSentence(run)],
};

// --- the report ---------------------------------------------------------------------------------

function section(run: Run): string[] {
  const { load, comparison } = run;
  const charts = CHARTS.map(
    (chart) => `![${load.title}: ${CHART_TITLES[chart]}](loadtest/${load.id}-${chart}.svg)`,
  );
  const parts = [`## ${load.title}`, '', load.description, '', comparison.table, ''];
  if (load.id === 'incident') parts.push('Recovery:', '', recoveryTable(run), '');
  if (load.id === 'priorities') parts.push('By class:', '', classTable(run), '');
  parts.push(READINGS[load.id]?.(run).join(' ') ?? '', '', ...charts.flatMap((c) => [c, '']));
  return parts;
}

function policyTable(): string {
  return markdownTable(
    ['policy', 'what it does'],
    POLICIES.map((p) => [`\`${p.name}\``, p.description]),
  );
}

function draft(runs: readonly Run[], adaptive: string): string {
  return [
    '# Load test',
    '',
    '<!-- Generated by scripts/loadtest.ts (`npm run loadtest`): change the scenarios and rerun, do not edit by hand. -->',
    '',
    'Four standard overload scenarios, each run through the same flow-control policies with the',
    '[load simulator](simulation.md), in virtual time, and a fifth for the [adaptive limits](#5-adaptive-limits-a-downstream-that-loses-29-of-its-30-workers):',
    'every run is seeded and deterministic, so this page is reproduced byte for byte by',
    '`npm run loadtest`, and CI fails if it no longer matches (`npm run loadtest -- --check`).',
    '',
    `The downstream, in every scenario: ${String(WORKERS)} workers, log-normal service times (median ${String(SERVICE_TIME.median)} ms, p99 ${String(SERVICE_TIME.p99)} ms, so at most about ${String(Math.round(CAPACITY))} requests per second), a FIFO queue of its own, and clients that give up after ${String(TIMEOUT)} ms (the downstream still does the work). Each scenario offers ${String(DURATION / 1000)} s of traffic; the run then goes on until the policy completes, for at most 60 s more.`,
    '',
    "The policies (defined in `scripts/loadtest/scenarios.ts`); RxJS operators catch failed calls, the library's use `onError: 'continue'` and report what they drop through the simulator's `onDrop`:",
    '',
    policyTable(),
    '',
    'Columns: `failed` calls timed out; `dropped` values were reported by the policy (`onDrop`); `lost silently` values were neither passed on nor reported; `waiting` values were still in the policy when the run ended (see [the report](simulation.md#the-report)). Latencies run from arrival to response, for the values that succeeded; `busy` is the fraction of the worker time the downstream spent serving.',
    '',
    ...runs.flatMap(section),
    adaptive,
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const checkOnly = args.includes('--check');
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')} (only --check)`);

  const started = performance.now();
  const policies = Object.fromEntries(POLICIES.map((p) => [p.name, p.policy]));
  const runs: Run[] = [];
  for (const load of SCENARIOS) {
    const t = performance.now();
    const comparison = compare({ ...load.scenario, policies });
    log(`${load.title}: ${String(Math.round(performance.now() - t))} ms`);
    runs.push({ load, comparison });
    process.stdout.write(`\n## ${load.title}\n\n${load.description}\n\n${comparison.table}\n`);
    if (load.id === 'incident') process.stdout.write(`\n${recoveryTable({ load, comparison })}\n`);
    if (load.id === 'priorities') process.stdout.write(`\n${classTable({ load, comparison })}\n`);
  }

  const adaptive = adaptiveSection(log);
  process.stdout.write(`\n${adaptive.markdown}\n`);

  const files = new Map<string, string>();
  const markdown = draft(runs, adaptive.markdown);
  files.set(REPORT, await format(markdown, { ...(await resolveConfig(REPORT)), parser: 'markdown' }));
  for (const { load, comparison } of runs) {
    for (const chart of CHARTS)
      files.set(join(CHART_DIR, `${load.id}-${chart}.svg`), comparison.charts[chart]);
  }
  for (const [name, svg] of adaptive.charts) files.set(join(CHART_DIR, name), svg);
  const stale = existsSync(CHART_DIR)
    ? readdirSync(CHART_DIR)
        .map((f) => join(CHART_DIR, f))
        .filter((f) => !files.has(f))
    : [];

  if (checkOnly) {
    const differ = [...files].filter(
      ([file, text]) => !existsSync(file) || readFileSync(file, 'utf8') !== text,
    );
    const problems = [
      ...differ.map(
        ([file]) =>
          `${relative(ROOT, file)} ${existsSync(file) ? 'differs from' : 'is missing from'} a fresh run`,
      ),
      ...stale.map((file) => `${relative(ROOT, file)} is not written by a fresh run`),
    ];
    if (problems.length > 0) {
      for (const p of problems) log(p);
      throw new Error(
        'the committed load-test report is not what the simulator gives now: run `npm run loadtest` and commit the result',
      );
    }
    log(`the committed report matches a fresh run (${String(files.size)} files)`);
  } else {
    mkdirSync(CHART_DIR, { recursive: true });
    for (const file of stale) rmSync(file);
    for (const [file, text] of files) writeFileSync(file, text);
    log(
      `wrote ${relative(ROOT, REPORT)} and ${String(files.size - 1)} charts under ${relative(ROOT, CHART_DIR)}`,
    );
  }
  log(`done in ${(Math.round((performance.now() - started) / 100) / 10).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`loadtest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
