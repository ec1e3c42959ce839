/**
 * The demo's monitoring section: the first tables' bursty producer through each operator again,
 * this time with a `FlowMeter` on it. A table of what each meter saw (received, released, dropped by
 * reason, most values waiting at once, the 99th percentile of the wait), and a sparkline per operator
 * of `waiting` over time, drawn from `snapshots$`.
 *
 * Everything for this section lives here (rows, runner, text), so that `index.ts` only adds its lines.
 */
import { map, timer, type MonoTypeOperatorFunction, type Observable, type Subscription } from 'rxjs';
import {
  bufferDropping,
  bufferFixed,
  bufferSliding,
  FlowMeter,
  leakyBucket,
  pullMap,
  tokenBucket,
  type DropReason,
  type FlowSnapshot,
} from '../src/index.js';
import { inVirtualTime, type Ending } from './run.js';
import { apiLimit, workload } from './scenarios.js';
import { textTable, wrap } from './text.js';

/** How often the sparklines sample `waiting`, in virtual ms. */
const SAMPLE_MS = 4;

type Consume = (value: number) => Observable<number>;

/** One row: an operator of the first two tables, now given a meter. */
interface MeteredScenario {
  label: string;
  /** Builds the pipeline: the producer's values in, through the operator with `meter`. */
  pipeline: (
    source: Observable<number>,
    values: number[],
    consume: Consume,
    meter: FlowMeter,
  ) => Observable<number>;
}

const pushed =
  (operator: (consume: Consume, meter: FlowMeter) => MonoTypeOperatorFunction<number>) =>
  (source: Observable<number>, _values: number[], consume: Consume, meter: FlowMeter) =>
    source.pipe(operator(consume, meter));

const limited =
  (limiter: (meter: FlowMeter) => MonoTypeOperatorFunction<number>) =>
  (source: Observable<number>, _values: number[], _consume: Consume, meter: FlowMeter) =>
    source.pipe(limiter(meter));

/** The rows, in the order of the first two tables (the operators that take a meter). */
export const meteredScenarios: MeteredScenario[] = [
  { label: 'bufferFixed(4, consume)', pipeline: pushed((c, meter) => bufferFixed(4, c, { meter })) },
  { label: 'bufferFixed(16, consume)', pipeline: pushed((c, meter) => bufferFixed(16, c, { meter })) },
  { label: 'bufferDropping(2, consume)', pipeline: pushed((c, meter) => bufferDropping(2, c, { meter })) },
  { label: 'bufferSliding(2, consume)', pipeline: pushed((c, meter) => bufferSliding(2, c, { meter })) },
  {
    label: 'pullMap(producer(), consume)',
    pipeline: (_source, values, consume, meter) => pullMap(values, consume, { concurrency: 1, meter }),
  },
  {
    label: 'tokenBucket shape',
    pipeline: limited((meter) =>
      tokenBucket({ ...apiLimit.limit, queueCapacity: 8, overflow: 'error', meter }),
    ),
  },
  {
    label: 'tokenBucket police',
    pipeline: limited((meter) => tokenBucket({ ...apiLimit.limit, mode: 'police', meter })),
  },
  {
    label: 'leakyBucket',
    pipeline: limited((meter) => leakyBucket({ interval: 4, capacity: 4, meter })),
  },
];

/** What one meter saw: its last snapshot, and `waiting` every {@link SAMPLE_MS} ms until the end. */
export interface MeteredResult {
  final: FlowSnapshot;
  waiting: number[];
  ending: Ending;
}

/**
 * Runs one row in virtual time (the first table's runner): the producer's hot diagram, or for
 * `pullMap` the same values pulled on demand, the consumer taking `workload.consumeMs` per value.
 * `snapshots$` samples the meter until the pipeline ends; the last snapshot is taken after the run.
 */
export function runMetered(scenario: MeteredScenario): MeteredResult {
  const waiting: number[] = [];
  let final: FlowSnapshot | undefined;
  const ending = inVirtualTime(scenario.label, (scheduler, hot) => {
    let ending: Ending | undefined;
    const meter = new FlowMeter({ name: scenario.label });
    const values = Object.values(workload.values).sort((a, b) => a - b);
    const consume = (value: number) => timer(workload.consumeMs).pipe(map(() => value));
    const sampling: Subscription = meter.snapshots$(SAMPLE_MS).subscribe((s) => waiting.push(s.waiting));
    const end = (how: Ending) => {
      ending = how;
      sampling.unsubscribe();
    };
    scenario.pipeline(hot(workload.producer, workload.values), values, consume, meter).subscribe({
      error: (err: unknown) =>
        end({
          outcome: 'errored',
          endedAt: scheduler.now(),
          error: err instanceof Error ? err.name : String(err),
        }),
      complete: () => end({ outcome: 'completed', endedAt: scheduler.now() }),
    });
    // Read once the run is over, after the operator's teardown: nothing waits or runs any more.
    return () => {
      final = meter.snapshot();
      return ending;
    };
  });
  if (!final) throw new Error(`demo: ${scenario.label} took no final snapshot`);
  return { final, waiting, ending };
}

const REASONS: DropReason[] = ['overflow', 'rejected', 'expired', 'shed', 'cleared'];

/** `3 overflow, 2 cleared`, or `0`. */
export function droppedByReason(dropped: Record<DropReason, number>): string {
  const parts = REASONS.filter((reason) => dropped[reason] > 0).map(
    (reason) => `${dropped[reason]} ${reason}`,
  );
  return parts.length > 0 ? parts.join(', ') : '0';
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * A text sparkline: one character per sample, a space for 0, and otherwise a bar of eight heights
 * scaled to `max` (the same scale for every line, so that lines compare).
 */
export function sparkline(samples: number[], max: number): string {
  return samples
    .map((n) => {
      if (n <= 0) return ' ';
      const level = Math.min(BARS.length, Math.max(1, Math.round((n / max) * BARS.length)));
      return BARS[level - 1] ?? '?';
    })
    .join('');
}

/** A time axis under sparklines of `length` samples: a tick every 40 ms (the producer's period). */
function axis(length: number): string[] {
  let ticks = '';
  let labels = '';
  for (let i = 0; i < length; i++) {
    const at = (i + 1) * SAMPLE_MS; // the first snapshot comes after one period
    if (at % 40 !== 0) continue;
    ticks = ticks.padEnd(i) + '|';
    labels = labels.padEnd(i) + `${at} ms`;
  }
  return [ticks, labels];
}

/** The section's lines, for `index.ts` to append to its output. */
export function monitoringSection(width: number): string[] {
  const rows = meteredScenarios.map((scenario) => ({ scenario, result: runMetered(scenario) }));
  const table = textTable(
    ['operator', 'received', 'released', 'dropped', 'max waiting', 'wait p99', 'outcome'],
    rows.map(({ scenario, result: { final, ending } }) => [
      scenario.label,
      String(final.received),
      String(final.released),
      droppedByReason(final.dropped),
      String(final.maxWaiting),
      final.wait.count > 0 ? `${final.wait.p99} ms` : '-',
      ending.outcome === 'completed'
        ? `completed at ${ending.endedAt} ms`
        : `errored at ${ending.endedAt} ms (${ending.error ?? ''})`,
    ]),
    ['left', 'right', 'right', 'left', 'right', 'right', 'left'],
  );

  const labelWidth = Math.max(...rows.map(({ scenario }) => scenario.label.length));
  const max = Math.max(1, ...rows.flatMap(({ result }) => result.waiting));
  const longest = Math.max(...rows.map(({ result }) => result.waiting.length));
  const indent = ' '.repeat(labelWidth + 2);
  const sparklines = [
    ...rows.map(
      ({ scenario, result }) =>
        `${scenario.label.padEnd(labelWidth)}  ${sparkline(result.waiting, max)}`.trimEnd() +
        (result.final.maxWaiting > 0 ? `  (max ${result.final.maxWaiting})` : ''),
    ),
    ...axis(longest).map((line) => indent + line),
  ];

  const by = (label: string): MeteredResult => {
    const row = rows.find(({ scenario }) => scenario.label === label);
    if (!row) throw new Error(`demo: no monitoring row ${label}`);
    return row.result;
  };
  const fixed = by('bufferFixed(16, consume)').final;
  const dropping = by('bufferDropping(2, consume)').final;
  const sliding = by('bufferSliding(2, consume)').final;
  const shape = by('tokenBucket shape').final;

  return [
    'Monitoring: the same bursty producer, each operator given a FlowMeter',
    '',
    `producer: ${workload.describeProducer}`,
    `consumer: ${workload.consumeMs} ms per value, one at a time (buffers and pullMap); the buckets ` +
      'apply the API limit above',
    '',
    table,
    '',
    wrap(
      "Every figure comes from the meter: new FlowMeter({ name }) passed as the operator's meter " +
        'option, read with snapshot() after the run; at every snapshot, received = released + ' +
        'dropped + waiting. wait p99: 99% of the released values waited at most this long between ' +
        'arriving and being released (to consume, or emitted by a bucket).',
      width,
    ),
    '',
    `values waiting (meter.snapshots$(${SAMPLE_MS})): one character per ${SAMPLE_MS} ms; ` +
      `full height = ${max}, blank = none`,
    '',
    ...sparklines,
    '',
    wrap(
      `bufferFixed(16) keeps everything, so its queue grows with each burst it cannot absorb (up to ` +
        `${fixed.maxWaiting}) and 99% of its values waited up to ${fixed.wait.p99} ms. ` +
        `bufferDropping(2) and bufferSliding(2) never hold more than ${Math.max(dropping.maxWaiting, sliding.maxWaiting)}: ` +
        `99% of their values wait at most ${dropping.wait.p99} and ${sliding.wait.p99} ms, and ` +
        `${dropping.droppedTotal} and ${sliding.droppedTotal} values are dropped instead. pullMap has nothing ` +
        `waiting: its producer waits instead. The token bucket in shape mode queues only what its ` +
        `stored burst cannot absorb, at most ${shape.maxWaiting} at a time. The same figures can be ` +
        'exported as OpenTelemetry metrics with registerFlowMetrics (docs/monitoring.md).',
      width,
    ),
  ];
}
