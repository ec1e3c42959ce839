import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';
import { checkLimit } from '../internal/limits.js';
import { checkMeter, type FlowMeter } from '../monitoring/FlowMeter.js';
import { createTokenBucket } from '../internal/tokenBucketInternals.js';
import * as check from '../internal/validate.js';
import type { OnDrop, OverflowStrategy } from '../types.js';

/** Options of {@link leakyBucket}. */
export interface LeakyBucketOptions<T> {
  /**
   * Minimum milliseconds between two emissions. A finite number >= 0, or an Observable of them that
   * changes it while the stream runs (it must emit at once on subscription): after a change the next
   * release is due one new `interval` after the previous release. Required.
   */
  interval: number | Observable<number>;
  /**
   * Values allowed to wait. A non-negative integer or `Infinity` (0: a value that cannot leave at
   * once is dropped).
   * An Observable of them changes it while the stream runs (lowering it drops nothing by itself).
   * @default Infinity
   */
  capacity?: number | Observable<number>;
  /**
   * What to do with a value that arrives when `capacity` values already wait.
   * @default 'drop-incoming'
   */
  overflow?: OverflowStrategy;
  /**
   * The longest a value may wait, in ms (a finite number >= 0, or `Infinity`). A value still waiting
   * after the releases of the instant `arrival + ttl` is reported `'expired'`.
   * @default Infinity
   */
  ttl?: number;
  /**
   * Where time is read and timers are scheduled.
   * @default asyncScheduler (virtual under `TestScheduler.run` and `withVirtualTime`)
   */
  scheduler?: SchedulerLike;
  /** Called once for every discarded value: `'overflow'`, `'expired'` or `'cleared'`. */
  onDrop?: OnDrop<T>;
  /** Counts what flows through this operator, with the tokens available (see {@link FlowMeter}). */
  meter?: FlowMeter;
}

const OPERATOR = 'leakyBucket';

/**
 * Lets values out at a steady rate, in arrival order: never two emissions closer than `interval`.
 *
 * A value is emitted at `max(its arrival, previous emission + interval)`.
 *
 * ```
 * leakyBucket({ interval: 10 })   (1 frame = 1 ms)
 * source:  (abc)------------------------------d-----|
 * output:  a---------b---------c--------------d-----|
 *          0         10        20             35
 * ```
 *
 * The first value, and any value that arrives after the bucket has been idle for at least
 * `interval`, is emitted at once. Waiting values beyond `capacity` are handled by `overflow`. On
 * source completion the waiting values keep leaking at the rate and the output completes with the
 * last one (at once if none wait). A source error is sent at once; waiting values are reported
 * `'cleared'`. A leaky bucket is a {@link tokenBucket} of capacity 1 refilled by one token per
 * `interval`, and shares its engine: one scheduled action at most, none while idle, times computed
 * from `scheduler.now()` so a real-time run does not drift.
 *
 * ## Example
 * ```ts
 * import { leakyBucket } from 'rxjs-backpressure';
 *
 * // Repaint at most every 50 ms, keeping only the 10 most recent pending updates.
 * updates$.pipe(leakyBucket({ interval: 50, capacity: 10, overflow: 'drop-oldest' })).subscribe(render);
 * ```
 *
 * @see {@link tokenBucket} to allow bursts.
 * @param options See {@link LeakyBucketOptions}; `interval` is required.
 * @return An operator emitting the source's values at most once per `interval`.
 */
export function leakyBucket<T>(options: LeakyBucketOptions<NoInfer<T>>): MonoTypeOperatorFunction<T> {
  check.options(
    OPERATOR,
    options,
    ['interval', 'capacity', 'overflow', 'ttl', 'scheduler', 'onDrop', 'meter'],
    {
      required: true,
    },
  );
  const {
    interval,
    capacity = Infinity,
    overflow = 'drop-incoming',
    ttl = Infinity,
    scheduler,
    onDrop,
    meter,
  } = options;
  checkLimit(OPERATOR, 'interval', interval, check.finiteNonNegative);
  checkLimit(OPERATOR, 'capacity', capacity, check.nonNegativeIntegerOrInfinity);
  check.overflowStrategy(OPERATOR, overflow);
  check.nonNegativeOrInfinity(OPERATOR, 'ttl', ttl);
  check.scheduler(OPERATOR, scheduler);
  check.optionalFunction(OPERATOR, 'onDrop', onDrop);
  checkMeter(OPERATOR, meter);

  return createTokenBucket<T>({
    operator: OPERATOR,
    capacity: 1,
    tokensPerInterval: 1,
    interval,
    rateChange: 'shift',
    initialTokens: 1,
    cost: 1,
    mode: 'shape',
    queueCapacity: capacity,
    overflow,
    ttl,
    scheduler,
    onDrop,
    meter,
  });
}
