import type { Observable, OperatorFunction } from 'rxjs';
import type { FlowMeter } from '../monitoring/FlowMeter.js';
import type { DropReason, OnDrop } from '../types.js';
import type { Arrivals } from './arrivals.js';
import type { Downstream } from './downstream.js';

/** One value offered to the policy: a request to be sent downstream. */
export interface Arrival {
  /** Its position in the arrivals, from 0. */
  readonly index: number;
  /** When it arrived, in virtual ms from the start of the run. */
  readonly time: number;
  /** Its class, when the arrivals were given `classes` (or the trace names one). */
  readonly class?: string;
}

/** What a successful call emits: the request and when it was called, served and answered. */
export interface SimulatedResponse {
  /** The request that was answered. */
  readonly request: Arrival;
  /** When the policy called the downstream (subscribed to the call). */
  readonly calledAt: number;
  /** When a worker started on it. */
  readonly startedAt: number;
  /** When the answer reached the caller. */
  readonly respondedAt: number;
}

/**
 * Performs one request against the simulated downstream: an Observable that, once subscribed, emits
 * the response and completes, or errors with a {@link DownstreamTimeoutError} or
 * {@link DownstreamOverloadError}. Each subscription is one call. Unsubscribing abandons the call
 * (the downstream still does the work, as a real server would). Only values the simulator offered can
 * be called: anything else is a `TypeError`.
 */
export type Call = (request: Arrival) => Observable<SimulatedResponse>;

/** What the simulator hands the policy so that it sees what the policy's operators discard. */
export interface PolicyTools {
  /** Pass it as the `onDrop` option of the operators that hold the offered values. */
  readonly onDrop: OnDrop<Arrival>;
  /**
   * A meter of the simulation's own: pass it as the `meter` option instead of (or as well as)
   * `onDrop`; the drops it sees are counted once.
   */
  readonly meter: FlowMeter;
}

/**
 * The flow-control policy under test: given the `call` to the downstream and the `tools`, returns the
 * operator that turns offered values into calls. Called once per run, in the run's virtual time
 * (create breakers, meters and other state inside it, so that each run starts fresh).
 *
 * ```ts
 * const policy: Policy = (call, { onDrop }) => bufferSliding(50, call, { concurrency: 8, onDrop, onError: 'continue' });
 * ```
 */
export type Policy = (call: Call, tools: PolicyTools) => OperatorFunction<Arrival, unknown>;

/** The traffic and the downstream of a run. */
export interface Scenario {
  /** Virtual ms of traffic: values arrive in [0, duration). A finite number > 0. Required. */
  duration: number;
  /**
   * Every random draw of the run comes from it (arrival times, classes, service times): the same
   * scenario and seed give byte-identical reports. A safe integer.
   * @default 1
   */
  seed?: number;
  /** When values arrive: {@link constant}, {@link poisson}, {@link bursts}, {@link ramp} or {@link trace}. Required. */
  arrivals: Arrivals;
  /** The consumer being protected: made by {@link downstream}. Required. */
  downstream: Downstream;
  /**
   * The length of each window of `series`, in ms. A finite number > 0, at most `duration`.
   * @default 1000
   */
  sampleEvery?: number;
  /**
   * How long the run may go on after `duration` for the policy's output to complete (virtual ms, a
   * finite number >= 0). Values still in the policy then are reported as `waiting`.
   * @default 60_000
   */
  drainTimeout?: number;
}

/** Options of {@link simulate}: a scenario and the policy to run through it. */
export interface SimulateOptions extends Scenario {
  /** The policy under test. Required. */
  policy: Policy;
}

/** Options of {@link compare}: a scenario and the policies to run through it, by name. */
export interface CompareOptions extends Scenario {
  /** The policies, by the name the table and charts give them (at least one). Required. */
  policies: Readonly<Record<string, Policy>>;
}

/** Latency percentiles in ms (within 1%, never below the exact value); 0 when there are no samples. */
export interface LatencyStats {
  /** The median. */
  p50: number;
  /** The 90th percentile. */
  p90: number;
  /** The 99th percentile. */
  p99: number;
  /** The largest. */
  max: number;
  /** The mean. */
  mean: number;
}

/** Wait percentiles in ms (within 1%, never below the exact value); 0 when there are no samples. */
export interface WaitStats {
  /** The median. */
  p50: number;
  /** The 99th percentile. */
  p99: number;
  /** The largest. */
  max: number;
  /** The mean. */
  mean: number;
}

/** What happened to the values of a window (or of the whole run), for all values or one class. */
export interface FlowStats {
  /** Values that arrived. */
  offered: number;
  /** Values whose first call reached the downstream. */
  started: number;
  /** Calls that reached the downstream (retries included). */
  calls: number;
  /** Values answered in time (each value once). */
  succeeded: number;
  /** Values whose last call failed, by cause. */
  failed: {
    /** Not answered within the downstream's `timeout`. */
    timeout: number;
    /** Refused by a full downstream queue (`queueLimit`). */
    overload: number;
  };
  /** Values the policy's operators reported discarding, by reason (every reason present). */
  dropped: Record<DropReason, number>;
  /** Values the policy neither passed on nor reported: ignored, or held when it ended. */
  lostSilently: number;
  /** Values still in the policy (waiting or in a call) at the end of the window or run. */
  waiting: number;
  /** From arrival to response, for the values that succeeded. */
  latency: LatencyStats;
  /** From arrival to the first call (time spent in the policy), for the values that started. */
  queueWait: WaitStats;
  /** Succeeded values per second of the window or run. */
  goodput: number;
}

/** One window of `series`, or the `summary` of the run. */
export interface WindowStats extends FlowStats {
  /** Start of the window, in virtual ms. */
  start: number;
  /** End of the window (exclusive; the last window ends with the run). */
  end: number;
  /** Fraction of the downstream's worker time spent serving (abandoned calls included). */
  busy: number;
  /** Requests in the downstream's own queue: time-weighted mean, and maximum. */
  queueLength: {
    /** Time-weighted mean. */
    mean: number;
    /** Maximum. */
    max: number;
  };
  /** The same counts for each class, when values have classes. */
  classes?: Record<string, FlowStats>;
}

/** How the run ended. */
export interface RunOutcome {
  /**
   * `'completed'`: the policy's output completed; `'errored'`: it errored (`error` says with what);
   * `'drainTimeout'`: it had not completed `drainTimeout` ms after the traffic ended.
   */
  ended: 'completed' | 'errored' | 'drainTimeout';
  /** When, in virtual ms. */
  at: number;
  /** The error's message, when it errored. */
  error?: string;
}

/** What {@link simulate} returns: plain data, byte-identical for the same scenario and seed. */
export interface SimulationReport {
  /** The whole run. */
  summary: WindowStats;
  /** One entry per `sampleEvery` ms window, in time order, up to the end of the run. */
  series: WindowStats[];
  /** How the run ended: completed, errored or still draining at `drainTimeout`. */
  outcome: RunOutcome;
}

/** What {@link compare} returns. */
export interface Comparison {
  /** Each policy's report, by name. */
  reports: Record<string, SimulationReport>;
  /** A markdown table of the summaries, one row per policy. */
  table: string;
  /** SVG line charts over time, one line per policy. */
  charts: {
    /** p99 latency of each window (log scale). */
    latency: string;
    /** Succeeded values per second. */
    goodput: string;
    /** Values dropped (every reason) in each window. */
    dropped: string;
    /** Values in the policy at the end of each window (log scale). */
    waiting: string;
  };
}
