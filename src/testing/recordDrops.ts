import type { TimestampProvider } from 'rxjs';
import * as check from '../internal/validate.js';
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
   * @param clock Where to read each drop's time (an object with a `now()` method); without one,
   *   records have no `time`.
   * @throws TypeError when `clock` is given and is not an object with a `now()` method (`null`
   *   included).
   */
  constructor(private readonly clock?: TimestampProvider) {
    checkClock('DropRecorder', clock);
  }

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

const RECORD_DROPS_KEYS: readonly (keyof RecordDropsOptions)[] = ['clock'];

/**
 * A clock must be checked when the recorder is made: a bad one would otherwise fail only at the first
 * drop, from inside the operator under test, as that operator's error.
 */
function checkClock(name: string, clock: unknown): void {
  if (clock === undefined) return;
  const ok =
    typeof clock === 'object' &&
    clock !== null &&
    !Array.isArray(clock) &&
    typeof (clock as { now?: unknown }).now === 'function';
  if (!ok) {
    throw new TypeError(
      `${name}: \`clock\` must be an object with a now() method (a ManualTimeScheduler, a TestScheduler, any { now(): number }), got ${check.describe(clock)}`,
    );
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
 * @throws TypeError when `options` is not an object (`null`, an array, a function, a primitive) or
 *   has a key other than `clock`, or when `clock` is not an object with a `now()` method. Checked
 *   here, so that a bad clock does not fail at the first drop, inside the operator under test.
 */
export function recordDrops<T>(options?: RecordDropsOptions): DropRecorder<T> {
  check.options('recordDrops', options, RECORD_DROPS_KEYS);
  const clock = options?.clock;
  checkClock('recordDrops', clock);
  return new DropRecorder<T>(clock);
}
