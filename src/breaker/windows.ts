/** Counted outcomes over a window: calls, failures and slow calls. */
export interface WindowTotals {
  calls: number;
  failures: number;
  slow: number;
}

/** How a window is written into a breaker's `toJSON()`. */
export type WindowJSON =
  | {
      /** A window of the last `calls` outcomes. */
      kind: 'calls';
      /** The outcomes, oldest first: 0 succeeded, 1 failed, 2 slow, 3 failed and slow. */
      outcomes: number[];
    }
  | {
      /** A window of the last `duration` ms. */
      kind: 'duration';
      /** The buckets still inside the window. */
      buckets: {
        /** Buckets between this one and the current one (0: the current bucket). */
        age: number;
        /** Outcomes counted in the bucket. */
        calls: number;
        /** Of those, failures. */
        failures: number;
        /** Of those, slow calls. */
        slow: number;
      }[];
    };

/** The sliding window a circuit breaker's rate rules read. */
export interface OutcomeWindow {
  /**
   * One counted outcome, ended at `time`. Returns which part of the window `time` falls in, its era:
   * outcomes leave the window only when the era changes (a count window: never by time, always 0; a
   * time window: the bucket's interval number).
   */
  record(time: number, failed: boolean, slow: boolean): number;
  /** The totals over the window as it is at `time`. */
  totals(time: number): WindowTotals;
  clear(): void;
  toJSON(time: number): WindowJSON;
  /** Puts back what `toJSON` wrote (a window of the same kind and size), as of `time`. */
  restore(json: WindowJSON, time: number): void;
}

const FAILED = 1;
const SLOW = 2;

/**
 * The last `size` counted outcomes, in a fixed ring. Recording one is a few comparisons: no division
 * (an outcome is recorded per call, so this is on every call's path).
 */
export class CountWindow implements OutcomeWindow {
  private readonly flags: Uint8Array;
  /** The slot the next outcome goes in (when full, the oldest outcome's). */
  private next = 0;
  private count = 0;
  private failures = 0;
  private slow = 0;

  constructor(private readonly size: number) {
    this.flags = new Uint8Array(size);
  }

  record(_time: number, failed: boolean, slow: boolean): number {
    const slot = this.next;
    if (this.count === this.size) {
      // Full: the oldest outcome (in the slot about to be written) leaves.
      const old = this.flags[slot] as number;
      if (old !== 0) {
        if (old & FAILED) this.failures--;
        if (old & SLOW) this.slow--;
      }
    } else {
      this.count++;
    }
    this.next = slot + 1 === this.size ? 0 : slot + 1;
    if (!failed && !slow) {
      this.flags[slot] = 0;
      return 0;
    }
    this.flags[slot] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    return 0;
  }

  totals(): WindowTotals {
    return { calls: this.count, failures: this.failures, slow: this.slow };
  }

  clear(): void {
    this.next = this.count = this.failures = this.slow = 0;
  }

  toJSON(): WindowJSON {
    const outcomes: number[] = [];
    const head = (this.next - this.count + this.size) % this.size;
    for (let i = 0; i < this.count; i++) outcomes.push(this.flags[(head + i) % this.size] as number);
    return { kind: 'calls', outcomes };
  }

  restore(json: WindowJSON): void {
    this.clear();
    if (json.kind !== 'calls') return;
    for (const flag of json.outcomes.slice(-this.size))
      this.record(0, (flag & FAILED) !== 0, (flag & SLOW) !== 0);
  }
}

/**
 * Outcomes by the time they ended, in `buckets` buckets of `duration / buckets` ms aligned to
 * `origin` (the breaker's creation time). The window is the current bucket and the `buckets - 1`
 * before it; a bucket is reused only after checking which interval it holds, so an idle gap of any
 * length never lets an old outcome count again. Recording an outcome in the interval of the last one
 * (nearly every call) reuses that interval's slot instead of computing it again (a remainder of
 * floating-point numbers, which is slow).
 */
export class TimeWindow implements OutcomeWindow {
  private readonly width: number;
  /** The interval number each bucket holds (NaN: empty). */
  private readonly index: Float64Array;
  private readonly calls: Float64Array;
  private readonly failures: Float64Array;
  private readonly slow: Float64Array;
  /** The interval the last outcome was recorded in, and its slot. */
  private lastInterval = NaN;
  private lastSlot = 0;

  constructor(
    duration: number,
    private readonly buckets: number,
    private readonly origin: number,
  ) {
    this.width = duration / buckets;
    this.index = new Float64Array(buckets).fill(NaN);
    this.calls = new Float64Array(buckets);
    this.failures = new Float64Array(buckets);
    this.slow = new Float64Array(buckets);
  }

  private intervalAt(time: number): number {
    return Math.floor((time - this.origin) / this.width);
  }

  private slotOf(interval: number): number {
    return ((interval % this.buckets) + this.buckets) % this.buckets;
  }

  record(time: number, failed: boolean, slow: boolean): number {
    const interval = this.intervalAt(time);
    let slot = this.lastSlot;
    if (interval !== this.lastInterval) {
      slot = this.slotOf(interval);
      this.lastInterval = interval;
      this.lastSlot = slot;
    }
    if (this.index[slot] !== interval) {
      this.index[slot] = interval;
      this.calls[slot] = this.failures[slot] = this.slow[slot] = 0;
    }
    (this.calls[slot] as number)++;
    if (failed) (this.failures[slot] as number)++;
    if (slow) (this.slow[slot] as number)++;
    return interval;
  }

  totals(time: number): WindowTotals {
    const current = this.intervalAt(time);
    const totals: WindowTotals = { calls: 0, failures: 0, slow: 0 };
    for (let slot = 0; slot < this.buckets; slot++) {
      const interval = this.index[slot] as number;
      if (interval > current - this.buckets && interval <= current) {
        totals.calls += this.calls[slot] as number;
        totals.failures += this.failures[slot] as number;
        totals.slow += this.slow[slot] as number;
      }
    }
    return totals;
  }

  clear(): void {
    this.index.fill(NaN);
  }

  toJSON(time: number): WindowJSON {
    const current = this.intervalAt(time);
    const buckets: { age: number; calls: number; failures: number; slow: number }[] = [];
    for (let slot = 0; slot < this.buckets; slot++) {
      const interval = this.index[slot] as number;
      if (interval > current - this.buckets && interval <= current) {
        buckets.push({
          age: current - interval,
          calls: this.calls[slot] as number,
          failures: this.failures[slot] as number,
          slow: this.slow[slot] as number,
        });
      }
    }
    return { kind: 'duration', buckets };
  }

  restore(json: WindowJSON, time: number): void {
    this.clear();
    if (json.kind !== 'duration') return;
    const current = this.intervalAt(time);
    for (const { age, calls, failures, slow } of json.buckets) {
      if (!(age >= 0 && age < this.buckets)) continue;
      const interval = current - age;
      const slot = this.slotOf(interval);
      this.index[slot] = interval;
      this.calls[slot] = calls;
      this.failures[slot] = failures;
      this.slow[slot] = slow;
    }
  }
}
