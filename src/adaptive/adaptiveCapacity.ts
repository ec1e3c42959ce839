import * as check from '../internal/validate.js';

/** Options of {@link adaptiveCapacity}. */
export interface AdaptiveCapacityOptions {
  /** The longest a value admitted to the queue should expect to wait, in ms. A finite number > 0. Required. */
  maxWait: number;
  /** The capacity never goes below this. A non-negative integer. @default 1 */
  min?: number;
  /** The capacity never goes above this. A positive integer or `Infinity`. @default 10_000 */
  max?: number;
}

const NAME = 'adaptiveCapacity';

/**
 * A queue capacity sized by the consumer's speed: the measured completion rate times `maxWait`
 * (Little's law), within [min, max], so that a value admitted to the queue can expect to start within
 * `maxWait`. When the consumer slows down, arrivals are refused at once (by the operator's overflow
 * strategy) instead of waiting only to expire.
 *
 * The rate is an exponentially decaying count of completions with a time constant of `maxWait`: each
 * completion adds `1 / maxWait` per ms and the sum decays by `e^(-Δt / maxWait)`. So the capacity is
 * about the number of values the consumer finished in the last `maxWait` ms, read at the instant a
 * value arrives (a consumer that stops finishing sees the capacity fall without any timer). A time
 * constant of `maxWait` reacts within the horizon the capacity is meant for; a longer one would keep
 * admitting values at the old speed after a slowdown. Before the first completion the capacity is
 * `min`.
 *
 * Create one with {@link adaptiveCapacity}; pass it as `capacity` to the buffers, `bufferPriority`
 * or a circuit breaker's `protect` (completions: inners that ended) or `pullFeedback` (completions:
 * values taken by demand). The buckets do not take it yet (use `ttl` there).
 */
export class AdaptiveCapacity {
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isAdaptiveCapacity = true;

  /** @internal Use {@link adaptiveCapacity}. */
  constructor(private readonly options: Required<AdaptiveCapacityOptions>) {}

  /** A fresh estimator for one subscription. */
  estimator(): CapacityEstimator {
    return new CapacityEstimator(this.options);
  }
}

/** One subscription's capacity estimate. */
export class CapacityEstimator {
  /** Completions per ms (decaying), as of `last`. */
  private rate = 0;
  private last = NaN;

  constructor(private readonly options: Required<AdaptiveCapacityOptions>) {}

  /** A completion at `time` (ms). */
  completed(time: number): void {
    const { maxWait } = this.options;
    this.rate = Number.isNaN(this.last) ? 0 : this.rate * Math.exp(-(time - this.last) / maxWait);
    this.rate += 1 / maxWait;
    this.last = time;
  }

  /** The capacity at `time`. */
  capacityAt(time: number): number {
    const { maxWait, min, max } = this.options;
    if (Number.isNaN(this.last)) return min;
    const rate = this.rate * Math.exp(-Math.max(0, time - this.last) / maxWait);
    return Math.max(min, Math.min(max, Math.floor(rate * maxWait)));
  }
}

/** True for an {@link AdaptiveCapacity} from any copy of this library. */
export function isAdaptiveCapacity(value: unknown): value is AdaptiveCapacity {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { isAdaptiveCapacity?: unknown }).isAdaptiveCapacity === true
  );
}

/**
 * Creates an {@link AdaptiveCapacity}: a queue capacity that follows the consumer's completion rate
 * times `maxWait`.
 *
 * ```text
 * consumer:  100 per s .......... 10 per s .......... 100 per s
 * capacity:  10                   1                   10            (maxWait 100 ms)
 * ```
 *
 * ## Example
 * ```ts
 * import { Observable } from 'rxjs';
 * import { adaptiveCapacity, bufferSliding } from 'rxjs-backpressure';
 *
 * declare const requests$: Observable<string>;
 * declare function call(request: string): Observable<string>;
 *
 * // Keep only what can start within 100 ms; the oldest waiting request gives way to a new one.
 * requests$.pipe(bufferSliding(adaptiveCapacity({ maxWait: 100 }), call, { concurrency: 30 }));
 * ```
 *
 * @param options `maxWait` (required), `min` (default 1), `max` (default 10,000).
 */
export function adaptiveCapacity(options: AdaptiveCapacityOptions): AdaptiveCapacity {
  check.options(NAME, options, ['maxWait', 'min', 'max'], { required: true });
  const { maxWait, min = 1, max = 10_000 } = options;
  check.finitePositive(NAME, 'maxWait', maxWait);
  check.nonNegativeIntegerOrInfinity(NAME, 'min', min);
  if (min === Infinity) throw new RangeError(`${NAME}: \`min\` must be finite, got Infinity (number)`);
  check.positiveIntegerOrInfinity(NAME, 'max', max);
  if (min > max) throw new RangeError(`${NAME}: \`min\` ${String(min)} is above \`max\` ${String(max)}`);
  return new AdaptiveCapacity({ maxWait, min, max });
}
