import * as check from '../internal/validate.js';
import {
  AimdLimit,
  GradientLimit,
  VegasLimit,
  type AimdParameters,
  type GradientParameters,
  type LimitAlgorithm,
  type VegasParameters,
} from './algorithms.js';

export type { AimdParameters, GradientParameters, VegasParameters } from './algorithms.js';

/** Options of {@link adaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /**
   * How the limit follows the samples (see docs/adaptive.md for the formulas and their source).
   * @default 'gradient'
   */
  algorithm?: 'gradient' | 'aimd' | 'vegas';
  /** The limit at subscription, in [min, max]. @default 10 */
  initial?: number;
  /**
   * The lowest limit, a positive integer. Low on purpose: a client in front of one downstream that
   * slows down must be able to send it only a few calls at a time (a floor of 20, Netflix's server
   * default, keeps 20 calls queued at a downstream that serves one).
   * @default 1
   */
  min?: number;
  /** The highest limit, a positive integer. @default 200 */
  max?: number;
  /** Parameters of `'gradient'` (Netflix's Gradient2 defaults, except `queueSize` 2: see docs/adaptive.md). */
  gradient?: GradientParameters;
  /** Parameters of `'aimd'` (Netflix's AIMD defaults). */
  aimd?: AimdParameters;
  /** Parameters of `'vegas'` (Netflix's Vegas defaults). */
  vegas?: VegasParameters;
  /** Called once per change of the limit (the integer in force), with the new limit. */
  onChange?: (limit: number) => void;
}

const NAME = 'adaptiveConcurrency';

/**
 * A concurrency limit that adapts by itself, measuring each call: pass it as `concurrency` to the
 * buffers, `bufferPriority`, `pullMap` or a circuit breaker's `protect`. Each subscription runs its
 * own controller, fed by the work it starts: for every released value, the time from release to the
 * end of its inner (on the operator's scheduler) and whether it failed (a failed call is a sample
 * only where the stream goes on, `onError: 'continue'` or a fallback; cancelled calls are ignored).
 * Lowering the limit never cancels running work. There is no timer: the limit moves with samples.
 *
 * Create one with {@link adaptiveConcurrency}.
 */
export class AdaptiveConcurrency {
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isAdaptiveConcurrency = true;

  /** @internal Use {@link adaptiveConcurrency}. */
  constructor(
    private readonly options: Required<Omit<AdaptiveConcurrencyOptions, 'onChange'>> &
      Pick<AdaptiveConcurrencyOptions, 'onChange'>,
  ) {}

  /** A fresh controller for one subscription. */
  controller(): LimitController {
    const { algorithm, initial, min, max } = this.options;
    const bounds = { initial, min, max };
    const limiter: LimitAlgorithm =
      algorithm === 'aimd'
        ? new AimdLimit(bounds, this.options.aimd)
        : algorithm === 'vegas'
          ? new VegasLimit(bounds, this.options.vegas)
          : new GradientLimit(bounds, this.options.gradient);
    return new LimitController(limiter, this.options.onChange);
  }
}

/** One subscription's adaptive limit: the integer in force, moved by samples. */
export class LimitController {
  /** The limit in force: the algorithm's, as an integer. */
  limit: number;
  private listener: ((limit: number) => void) | undefined;

  constructor(
    private readonly algorithm: LimitAlgorithm,
    private readonly onChange: ((limit: number) => void) | undefined,
  ) {
    this.limit = Math.max(1, Math.floor(algorithm.limit));
  }

  /** Where the operator hears of changes. */
  listen(listener: (limit: number) => void): void {
    this.listener = listener;
  }

  /** A finished call: its round-trip time in ms, the calls in flight when it started, and whether it failed. */
  sample(rtt: number, inflight: number, failed: boolean): void {
    this.algorithm.sample(rtt, inflight, failed);
    const limit = Math.max(1, Math.floor(this.algorithm.limit));
    if (limit === this.limit) return;
    this.limit = limit;
    this.onChange?.(limit);
    this.listener?.(limit);
  }
}

/** True for an {@link AdaptiveConcurrency} from any copy of this library. */
export function isAdaptiveConcurrency(value: unknown): value is AdaptiveConcurrency {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { isAdaptiveConcurrency?: unknown }).isAdaptiveConcurrency === true
  );
}

/**
 * Creates an {@link AdaptiveConcurrency}: a `concurrency` limit that measures each call and adjusts
 * itself (AIMD, Gradient2 or Vegas, as in Netflix's concurrency-limits).
 *
 * ```text
 * downstream: 30 workers ......... 1 worker .......... 30 workers
 * limit:      grows to the used   falls to a few      grows again
 * ```
 *
 * ## Example
 * ```ts
 * import { Observable } from 'rxjs';
 * import { adaptiveConcurrency, bufferDropping } from 'rxjs-backpressure';
 *
 * declare const requests$: Observable<string>;
 * declare function call(request: string): Observable<string>;
 *
 * requests$.pipe(
 *   bufferDropping(0, call, {
 *     concurrency: adaptiveConcurrency({ onChange: (limit) => console.log('limit', limit) }),
 *     onError: 'continue',
 *   }),
 * );
 * ```
 *
 * @param options See {@link AdaptiveConcurrencyOptions}; every field has a default.
 */
export function adaptiveConcurrency(options?: AdaptiveConcurrencyOptions): AdaptiveConcurrency {
  check.options(NAME, options, [
    'algorithm',
    'initial',
    'min',
    'max',
    'gradient',
    'aimd',
    'vegas',
    'onChange',
  ]);
  const {
    algorithm = 'gradient',
    initial = 10,
    min = 1,
    max = 200,
    gradient = {},
    aimd = {},
    vegas = {},
    onChange,
  } = options ?? {};
  const name: unknown = algorithm;
  if (name !== 'gradient' && name !== 'aimd' && name !== 'vegas') {
    throw new (typeof name === 'string' ? RangeError : TypeError)(
      `${NAME}: \`algorithm\` must be 'gradient', 'aimd' or 'vegas', got ${check.describe(name)}`,
    );
  }
  check.positiveInteger(NAME, 'min', min);
  check.positiveInteger(NAME, 'max', max);
  if (min > max) throw new RangeError(`${NAME}: \`min\` ${String(min)} is above \`max\` ${String(max)}`);
  check.numberInRange(NAME, 'initial', initial, min, max);
  check.optionalFunction(NAME, 'onChange', onChange);
  check.options(NAME, gradient, ['smoothing', 'longWindow', 'queueSize'], { option: 'gradient' });
  check.options(NAME, aimd, ['backoffRatio', 'timeout'], { option: 'aimd' });
  check.options(NAME, vegas, ['smoothing', 'probeMultiplier'], { option: 'vegas' });
  if (gradient.smoothing !== undefined)
    check.numberInRange(NAME, 'gradient.smoothing', gradient.smoothing, Number.MIN_VALUE, 1);
  if (gradient.longWindow !== undefined)
    check.positiveInteger(NAME, 'gradient.longWindow', gradient.longWindow);
  if (gradient.queueSize !== undefined)
    check.finiteNonNegative(NAME, 'gradient.queueSize', gradient.queueSize);
  if (aimd.backoffRatio !== undefined) {
    check.numberInRange(NAME, 'aimd.backoffRatio', aimd.backoffRatio, 0.5, 1);
    if (aimd.backoffRatio === 1)
      throw new RangeError(`${NAME}: \`aimd.backoffRatio\` must be below 1, got 1 (number)`);
  }
  if (aimd.timeout !== undefined) check.finitePositive(NAME, 'aimd.timeout', aimd.timeout);
  if (vegas.smoothing !== undefined)
    check.numberInRange(NAME, 'vegas.smoothing', vegas.smoothing, Number.MIN_VALUE, 1);
  if (vegas.probeMultiplier !== undefined)
    check.positiveInteger(NAME, 'vegas.probeMultiplier', vegas.probeMultiplier);
  return new AdaptiveConcurrency({ algorithm, initial, min, max, gradient, aimd, vegas, onChange });
}
