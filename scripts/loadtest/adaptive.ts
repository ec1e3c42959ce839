/**
 * The adaptive-limits scenario of issue 12, shared by `npm run loadtest` (the report's section on
 * adaptive limits) and spec/adaptive/proof.spec.ts (the targets, as tests): a downstream that goes from
 * 30 workers to 1 and back, where no fixed concurrency is good.
 */
import { asyncScheduler } from 'rxjs';
import {
  adaptiveCapacity,
  adaptiveConcurrency,
  bufferDropping,
  bufferSliding,
  type AdaptiveConcurrencyOptions,
} from '../../src/index.js';
import {
  constant,
  downstream,
  fixed,
  poisson,
  simulate,
  type Arrival,
  type Arrivals,
  type Call,
  type SimulationReport,
  type WindowStats,
} from '../../src/simulation/index.js';

/** The downstream's workers from each instant on (ms). */
export const STEPS: readonly { at: number; workers: number }[] = [
  { at: 0, workers: 30 },
  { at: 60_000, workers: 1 },
  { at: 120_000, workers: 30 },
];
/** Values per second offered. */
export const STEP_RATE = 2000;
/** The downstream's fixed service time, ms. */
export const STEP_SERVICE_TIME = 10;

/** One phase of the scenario, ms. */
export const PHASE = 60_000;

/**
 * FIFO inside, fixed 10 ms per call; 30 workers, 1 from 60 s to 120 s, 30 again. `scale` shortens
 * every phase (the fixed-limit sweep runs phases of 3 s: a fixed limit has no memory, and reaches its
 * steady state within L x 10 ms of a step).
 */
export function stepDownstream(scale = 1): ReturnType<typeof downstream> {
  return downstream({
    workers: 30,
    serviceTime: fixed(STEP_SERVICE_TIME),
    phases: [
      { at: PHASE * scale, workers: 1 },
      { at: 2 * PHASE * scale, workers: 30 },
    ],
  });
}

/** The three phases, and the last 30 s of each, where the targets are measured. */
export const PHASES = [
  { name: 'healthy', from: 0, to: 60_000 },
  { name: 'incident', from: 60_000, to: 120_000 },
  { name: 'recovered', from: 120_000, to: 180_000 },
] as const;
export type PhaseName = (typeof PHASES)[number]['name'];

/** The two kinds of open-loop arrivals, at 2,000 values per second. */
export const STEP_ARRIVALS: readonly { id: string; title: string; arrivals: Arrivals; seed: number }[] = [
  { id: 'fixed', title: 'fixed 0.5 ms gaps', arrivals: constant({ rate: STEP_RATE }), seed: 1 },
  { id: 'poisson', title: 'Poisson arrivals (seed 12)', arrivals: poisson({ rate: STEP_RATE }), seed: 12 },
];

/** The targets of issue 12. */
export const TARGETS = {
  /** Values per second over the last 30 s of each healthy phase. */
  throughput: 1800,
  /** Median latency (ms) over the last 30 s of the incident. */
  incidentMedian: 90,
  /** The limit settles within this many ms of each step. */
  settle: 30_000,
  /** adaptiveCapacity's maxWait, and the p99 queue wait allowed in every phase (1.2x). */
  maxWait: 100,
  waitFactor: 1.2,
  /** A value that starts this many ms after it arrived started after its client gave up. */
  clientTimeout: 1000,
  /** The share of the healthy throughput a fixed capacity must keep to be compared with. */
  keep: 0.9,
} as const;

/** One run's figures: throughput in the healthy phases' last 30 s, median latency in the incident's. */
export interface StepFigures {
  /** Succeeded values per second over [30 s, 60 s) and [150 s, 180 s). */
  healthy: number;
  recovered: number;
  /** Median latency (ms) of the values answered in [90 s, 120 s). */
  incidentMedian: number;
  /** p99 latency (ms) over the same 30 s. */
  incidentP99: number;
}

/** The limit in force from each instant on: [time ms, limit]. */
export type LimitTrace = [number, number][];

export interface StepRun {
  report: SimulationReport;
  figures: StepFigures;
  /** The adaptive limit over time (empty for a fixed one). */
  limits: LimitTrace;
}

/**
 * Runs `bufferDropping(0, call, { concurrency })` through the scenario, its phases shortened by
 * `scale`. Windows of half a phase (the last 30 s of each phase is one window), unless `sampleEvery`
 * says otherwise (1 s for the report's charts).
 */
export function runStep(
  concurrency: number | AdaptiveConcurrencyOptions,
  arrivals: (typeof STEP_ARRIVALS)[number],
  { scale = 1, sampleEvery = (PHASE / 2) * scale }: { scale?: number; sampleEvery?: number } = {},
): StepRun {
  const limits: LimitTrace = [];
  const limit =
    typeof concurrency === 'number'
      ? concurrency
      : adaptiveConcurrency({
          ...concurrency,
          onChange: (n) => {
            limits.push([asyncScheduler.now(), n]);
          },
        });
  if (typeof concurrency !== 'number') limits.push([0, concurrency.initial ?? 10]);
  const report = simulate({
    duration: 3 * PHASE * scale,
    seed: arrivals.seed,
    arrivals: arrivals.arrivals,
    downstream: stepDownstream(scale),
    sampleEvery,
    drainTimeout: 0,
    policy: (call, { onDrop }) =>
      bufferDropping(0, call, { concurrency: limit, onDrop, onError: 'continue' }),
  });
  return { report, figures: stepFigures(report, scale), limits };
}

/** The windows of `series` within [from, to). */
function within(series: readonly WindowStats[], from: number, to: number): WindowStats[] {
  return series.filter((w) => w.start >= from && w.end <= to);
}

/** Succeeded per second over [from, to). */
function throughput(series: readonly WindowStats[], from: number, to: number): number {
  return (within(series, from, to).reduce((n, w) => n + w.succeeded, 0) * 1000) / (to - from);
}

/** The figures of a run whose phases last `PHASE * scale` ms, each measured over its second half. */
export function stepFigures(report: SimulationReport, scale = 1): StepFigures {
  const { series } = report;
  const half = (PHASE / 2) * scale;
  const incident = within(series, 3 * half, 4 * half);
  if (incident.length !== 1) {
    throw new Error('stepFigures: the run must have one window for the last half of the incident');
  }
  const last = incident[0] as WindowStats;
  return {
    healthy: throughput(series, half, 2 * half),
    recovered: throughput(series, 5 * half, 6 * half),
    incidentMedian: last.latency.p50,
    incidentP99: last.latency.p99,
  };
}

/** Both targets of target 1 met. */
export function meetsTarget1(f: StepFigures): boolean {
  return (
    f.healthy >= TARGETS.throughput &&
    f.recovered >= TARGETS.throughput &&
    f.incidentMedian <= TARGETS.incidentMedian
  );
}

// --- the limit over time ------------------------------------------------------------------------

/** The limit in force at `time`. */
export function limitAt(trace: LimitTrace, time: number): number {
  let limit = NaN;
  for (const [t, n] of trace) {
    if (t > time) break;
    limit = n;
  }
  return limit;
}

/** The pieces [from, to, limit] of the trace within [from, to). */
function pieces(trace: LimitTrace, from: number, to: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  let current = limitAt(trace, from);
  let since = from;
  for (const [t, n] of trace) {
    if (t <= from) continue;
    if (t >= to) break;
    if (t > since) out.push([since, t, current]);
    current = n;
    since = t;
  }
  if (to > since) out.push([since, to, current]);
  return out;
}

/** The highest limit in force during [from, to). */
export function maxLimit(trace: LimitTrace, from: number, to: number): number {
  return Math.max(...pieces(trace, from, to).map(([, , n]) => n));
}

/** The time-weighted mean of the limit over [from, to). */
export function meanLimit(trace: LimitTrace, from: number, to: number): number {
  return pieces(trace, from, to).reduce((sum, [a, b, n]) => sum + (b - a) * n, 0) / (to - from);
}

/** The limit's time-weighted mean over each second of [from, to): [start of the second, mean]. */
export function secondMeans(trace: LimitTrace, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = from; t < to; t += 1000) out.push([t, meanLimit(trace, t, Math.min(to, t + 1000))]);
  return out;
}

/**
 * How the limit settles after a step, read on its mean over each second (a single call that finds a
 * queue may move it for a few ms; that is a reaction, not a lack of settling). The settled level is
 * the median of those means over the phase's last 30 s; the band around it is [level / 1.25,
 * level x 1.25], at least level - 1 to level + 1. The limit has settled at the start of the first
 * second from which every second's mean stays in the band until the next step: `settledAfter` is
 * that instant minus the step (0 when no second is outside the band).
 */
export interface Settling {
  level: number;
  band: [number, number];
  settledAfter: number;
}

export function settling(trace: LimitTrace, from: number, to: number): Settling {
  const last = secondMeans(trace, to - 30_000, to)
    .map(([, m]) => m)
    .sort((a, b) => a - b);
  const level = last[Math.floor(last.length / 2)] as number;
  const band: [number, number] = [Math.min(level - 1, level / 1.25), Math.max(level + 1, level * 1.25)];
  let settledAt = from;
  for (const [t, m] of secondMeans(trace, from, to)) if (m < band[0] || m > band[1]) settledAt = t + 1000;
  return { level, band, settledAfter: settledAt - from };
}

/**
 * Upward drift during the incident: the time-weighted mean limit over its last 10 s minus that over
 * the 10 s after the settling deadline (90 s to 100 s). Positive when the limit creeps up.
 */
export function incidentDrift(trace: LimitTrace): number {
  return meanLimit(trace, 110_000, 120_000) - meanLimit(trace, 90_000, 100_000);
}

// --- adaptiveCapacity in front of the same downstream -------------------------------------------

export interface CapacityRun {
  report: SimulationReport;
  /** p99 queue wait (ms) of the values that started, per phase. */
  p99Wait: Record<PhaseName, number>;
  /** Values whose call started more than 1 s after they arrived (their client had given up). */
  late: number;
  /** Succeeded per second over the healthy phases (0-60 s and 120-180 s). */
  healthyThroughput: number;
}

/**
 * `bufferSliding(capacity, call, { concurrency: 30 })` through the scenario, its phases shortened by
 * `scale`; windows are the phases.
 */
export function runCapacity(
  capacity: number | 'adaptive',
  arrivals: (typeof STEP_ARRIVALS)[number],
  scale = 1,
): CapacityRun {
  let late = 0;
  const counted =
    (call: Call) =>
    (value: Arrival): ReturnType<Call> => {
      if (asyncScheduler.now() - value.time > TARGETS.clientTimeout) late++;
      return call(value);
    };
  const report = simulate({
    duration: 3 * PHASE * scale,
    seed: arrivals.seed,
    arrivals: arrivals.arrivals,
    downstream: stepDownstream(scale),
    sampleEvery: PHASE * scale,
    drainTimeout: 0,
    policy: (call, { onDrop }) =>
      bufferSliding(
        capacity === 'adaptive' ? adaptiveCapacity({ maxWait: TARGETS.maxWait }) : capacity,
        counted(call),
        { concurrency: 30, onDrop, onError: 'continue' },
      ),
  });
  const phase = (i: number) => report.series[i] as WindowStats;
  return {
    report,
    p99Wait: {
      healthy: phase(0).queueWait.p99,
      incident: phase(1).queueWait.p99,
      recovered: phase(2).queueWait.p99,
    },
    late,
    healthyThroughput: (phase(0).succeeded + phase(2).succeeded) / ((2 * PHASE * scale) / 1000),
  };
}

/** The fixed capacities the report and the test compare adaptiveCapacity with. */
export const FIXED_CAPACITIES = [0, 10, 100, 1000, 2000, 3000, 5000] as const;
