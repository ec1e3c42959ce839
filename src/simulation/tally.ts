import type { DropReason } from '../types.js';
import { LogHistogram } from './histogram.js';
import type { FlowStats, LatencyStats, WaitStats, WindowStats } from './types.js';

/** Every drop reason, in the order reports list them. */
export const REASONS: readonly DropReason[] = ['overflow', 'rejected', 'expired', 'shed', 'cleared'];

/** The index of each drop reason in {@link Tally.dropped}. */
export const REASON_INDEX: Readonly<Record<string, number>> = Object.freeze({
  overflow: 0,
  rejected: 1,
  expired: 2,
  shed: 3,
  cleared: 4,
});

/** Rounds to 1 µs (3 decimals), so that reports read well; deterministic like everything else. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * The counts of one window (or of the whole run), for all values or for one class, while the run
 * goes on. Histograms are summarised, and dropped, once the window can no longer change.
 */
export class Tally {
  offered = 0;
  started = 0;
  calls = 0;
  succeeded = 0;
  timeout = 0;
  overload = 0;
  readonly dropped = [0, 0, 0, 0, 0];
  /** Values lost at an instant of this window (nobody listened, or the policy ended holding them). */
  lost = 0;
  /** Values that arrived in this window and were found lost when the policy completed. */
  lostByArrival = 0;
  /** Values unresolved (offered, not yet succeeded, failed, dropped or lost) when the window closed. */
  unresolved = 0;
  /** True when the window closed before the values found lost at completion were taken out of `unresolved`. */
  closedBeforeLoss = false;
  latency: LogHistogram | undefined = new LogHistogram();
  queueWait: LogHistogram | undefined = new LogHistogram();
  latencyStats: LatencyStats | undefined;
  queueWaitStats: WaitStats | undefined;

  /** Computes the percentiles and lets the histograms go. */
  summarize(): void {
    const latency = this.latency;
    const wait = this.queueWait;
    if (latency === undefined || wait === undefined) return;
    this.latencyStats = {
      p50: round3(latency.percentile(50)),
      p90: round3(latency.percentile(90)),
      p99: round3(latency.percentile(99)),
      max: round3(latency.max),
      mean: round3(latency.mean()),
    };
    this.queueWaitStats = {
      p50: round3(wait.percentile(50)),
      p99: round3(wait.percentile(99)),
      max: round3(wait.max),
      mean: round3(wait.mean()),
    };
    this.latency = undefined;
    this.queueWait = undefined;
  }

  /** Adds the counts and samples of `other` (a later window of zero length) to this one. */
  absorb(other: Tally): void {
    this.offered += other.offered;
    this.started += other.started;
    this.calls += other.calls;
    this.succeeded += other.succeeded;
    this.timeout += other.timeout;
    this.overload += other.overload;
    for (let i = 0; i < this.dropped.length; i++) {
      this.dropped[i] = (this.dropped[i] as number) + (other.dropped[i] as number);
    }
    this.lost += other.lost;
    this.lostByArrival += other.lostByArrival;
    this.unresolved = other.unresolved;
    this.closedBeforeLoss = other.closedBeforeLoss;
    if (this.latency !== undefined && other.latency !== undefined) this.latency.merge(other.latency);
    if (this.queueWait !== undefined && other.queueWait !== undefined) this.queueWait.merge(other.queueWait);
  }

  droppedTotal(): number {
    let total = 0;
    for (const n of this.dropped) total += n;
    return total;
  }

  /**
   * The report's counts for this tally over `ms` milliseconds. `waiting` is given: the caller
   * knows which losses to take out of it.
   */
  stats(ms: number, waiting: number): FlowStats {
    this.summarize();
    const dropped = {} as Record<DropReason, number>;
    REASONS.forEach((reason, i) => (dropped[reason] = this.dropped[i] as number));
    return {
      offered: this.offered,
      started: this.started,
      calls: this.calls,
      succeeded: this.succeeded,
      failed: { timeout: this.timeout, overload: this.overload },
      dropped,
      lostSilently: this.lost + this.lostByArrival,
      waiting,
      latency: this.latencyStats as LatencyStats,
      queueWait: this.queueWaitStats as WaitStats,
      goodput: ms > 0 ? round3((this.succeeded * 1000) / ms) : 0,
    };
  }
}

/** One window of the run: its tallies (all values, then one per class) and the downstream's gauges. */
export class WindowRecord {
  end: number;
  busy = 0;
  capacity = 0;
  queue = 0;
  queueMax = 0;
  readonly tallies: Tally[];

  constructor(
    readonly index: number,
    readonly start: number,
    length: number,
    classes: number,
  ) {
    this.end = start + length;
    this.tallies = [];
    for (let i = 0; i <= classes; i++) this.tallies.push(new Tally());
  }

  /** The window as the report gives it; `waiting[i]` for tally `i`. */
  stats(classNames: readonly string[], waiting: readonly number[]): WindowStats {
    const ms = this.end - this.start;
    const all = this.tallies[0] as Tally;
    const stats: WindowStats = {
      start: round3(this.start),
      end: round3(this.end),
      ...all.stats(ms, waiting[0] as number),
      busy: this.capacity > 0 ? Math.round((this.busy / this.capacity) * 10_000) / 10_000 : 0,
      queueLength: { mean: ms > 0 ? round3(this.queue / ms) : 0, max: this.queueMax },
    };
    if (classNames.length > 0) {
      const classes: Record<string, FlowStats> = {};
      classNames.forEach((name, i) => {
        classes[name] = (this.tallies[i + 1] as Tally).stats(ms, waiting[i + 1] as number);
      });
      stats.classes = classes;
    }
    return stats;
  }
}
