import type { TimestampProvider } from 'rxjs';
import type { DropReason, OnDrop } from '../types.js';

/** One value an operator discarded, as seen by a {@link DropRecorder}. */
export interface DropRecord<T> {
  /** The discarded value. */
  readonly value: T;
  /** Why it was discarded. */
  readonly reason: DropReason;
  /** When it was discarded, read from the `clock` option; present only when a clock was given. */
  readonly time?: number;
}

/** Options for {@link recordDrops}. */
export interface RecordDropsOptions {
  /**
   * Where to read the time of each drop (a `ManualTimeScheduler`, a `TestScheduler`, or any
   * `{ now(): number }`). When given, every record carries a `time`.
   * @default undefined (records have no `time`)
   */
  clock?: TimestampProvider;
}

/**
 * Collects what an operator discards. Pass {@link DropRecorder.onDrop} as the operator's `onDrop`
 * option, then assert on the records. Create one with {@link recordDrops}.
 *
 * ## Example
 * ```ts
 * const drops = recordDrops<string>();
 * source$.pipe(leakyBucket({ interval: 100, capacity: 1, onDrop: drops.onDrop })).subscribe();
 * // ... advance time ...
 * expect(drops.counts).toEqual({ overflow: 2 });
 * ```
 */
export class DropRecorder<T> {
  private records: DropRecord<T>[] = [];

  /**
   * @param clock Where to read each drop's time; without one, records have no `time`.
   */
  constructor(private readonly clock?: TimestampProvider) {}

  /**
   * The callback to hand to an operator's `onDrop` option. Already bound: pass it as is.
   *
   * ```ts
   * source$.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, mode: 'police', onDrop: drops.onDrop }));
   * ```
   */
  readonly onDrop: OnDrop<T> = (value, reason) => {
    const record: DropRecord<T> =
      this.clock === undefined ? { value, reason } : { value, reason, time: this.clock.now() };
    this.records.push(Object.freeze(record));
  };

  /**
   * Every drop so far, oldest first, as `{ value, reason }` (plus `time` with a clock). A copy:
   * later drops do not change an array already read.
   *
   * ```ts
   * expect(drops.drops).toEqual([{ value: 'c', reason: 'rejected' }]);
   * ```
   */
  get drops(): readonly DropRecord<T>[] {
    return this.records.slice();
  }

  /**
   * The dropped values, oldest first, whatever the reason.
   *
   * ```ts
   * expect(drops.values).toEqual(['c', 'd']);
   * ```
   */
  get values(): T[] {
    return this.records.map((record) => record.value);
  }

  /**
   * How many values were dropped for each reason; reasons never seen are left out.
   *
   * ```ts
   * expect(drops.counts).toEqual({ overflow: 3, cleared: 1 });
   * ```
   */
  get counts(): Partial<Record<DropReason, number>> {
    const counts: Partial<Record<DropReason, number>> = {};
    for (const { reason } of this.records) counts[reason] = (counts[reason] ?? 0) + 1;
    return counts;
  }

  /**
   * The values dropped for one reason, oldest first.
   *
   * ```ts
   * expect(drops.valuesFor('cleared')).toEqual(['x']);
   * ```
   *
   * @param reason The {@link DropReason} to select.
   * @return The matching values, in drop order.
   */
  valuesFor(reason: DropReason): T[] {
    const values: T[] = [];
    for (const record of this.records) if (record.reason === reason) values.push(record.value);
    return values;
  }

  /**
   * How many values were dropped: all of them, or those with one reason.
   *
   * ```ts
   * expect(drops.count()).toBe(2);
   * expect(drops.count('rejected')).toBe(2);
   * ```
   *
   * @param reason Count only this reason; default: every drop.
   * @return The number of drops.
   */
  count(reason?: DropReason): number {
    if (reason === undefined) return this.records.length;
    let n = 0;
    for (const record of this.records) if (record.reason === reason) n++;
    return n;
  }

  /**
   * Forgets every record (for a new phase of a test); `onDrop` keeps working.
   *
   * ```ts
   * drops.reset();
   * expect(drops.count()).toBe(0);
   * ```
   */
  reset(): void {
    this.records = [];
  }
}

/**
 * Creates a {@link DropRecorder}: an `onDrop` callback for an operator plus read access to what it
 * was told, in order.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { tokenBucket } from 'rxjs-backpressure';
 * import { recordDrops, withVirtualTime } from 'rxjs-backpressure/testing';
 *
 * withVirtualTime((scheduler) => {
 *   const drops = recordDrops<string>({ clock: scheduler });
 *   of('a', 'b', 'c', 'd')
 *     .pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10, mode: 'police', onDrop: drops.onDrop }))
 *     .subscribe();
 *   expect(drops.drops).toEqual([
 *     { value: 'c', reason: 'rejected', time: 0 },
 *     { value: 'd', reason: 'rejected', time: 0 },
 *   ]);
 * });
 * ```
 *
 * @param options `clock`: where to read each drop's time (default: none, records have no `time`).
 * @return A new, empty recorder.
 */
export function recordDrops<T>(options: RecordDropsOptions = {}): DropRecorder<T> {
  return new DropRecorder<T>(options.clock);
}
