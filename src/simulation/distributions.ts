import * as check from '../internal/validate.js';
import { normalQuantile, Z_99 } from './random.js';

/** Every request takes exactly `ms`. Made by {@link fixed}. */
export interface FixedServiceTime {
  /** Always `'fixed'`. */
  readonly kind: 'fixed';
  /** The service time, in ms. */
  readonly ms: number;
}

/** Exponentially distributed service times (memoryless, as in M/M/c queues). Made by {@link exponential}. */
export interface ExponentialServiceTime {
  /** Always `'exponential'`. */
  readonly kind: 'exponential';
  /** The mean service time, in ms. */
  readonly mean: number;
}

/** Log-normal service times, given by their median and 99th percentile. Made by {@link lognormal}. */
export interface LognormalServiceTime {
  /** Always `'lognormal'`. */
  readonly kind: 'lognormal';
  /** The median service time, in ms. */
  readonly median: number;
  /** The 99th percentile of the service time, in ms. */
  readonly p99: number;
}

/**
 * How long the downstream works on one request, in ms: plain data (`kind` and parameters), made by
 * {@link fixed}, {@link exponential} or {@link lognormal}. A number is accepted wherever one is
 * expected and means `fixed(number)`.
 */
export type ServiceTime = FixedServiceTime | ExponentialServiceTime | LognormalServiceTime;

/**
 * Every request takes exactly `ms` milliseconds.
 *
 * ```ts
 * downstream({ workers: 4, serviceTime: fixed(20) });
 * ```
 *
 * @param ms A finite number >= 0.
 * @throws TypeError or RangeError naming `fixed` and `ms`.
 */
export function fixed(ms: number): FixedServiceTime {
  check.finiteNonNegative('fixed', 'ms', ms);
  return Object.freeze({ kind: 'fixed', ms });
}

/**
 * Exponentially distributed service times with the given mean (the "M" of an M/M/c queue).
 *
 * ```ts
 * downstream({ workers: 4, serviceTime: exponential({ mean: 20 }) });
 * ```
 *
 * @param options `mean`: a finite number > 0 (ms). Required.
 * @throws TypeError or RangeError naming `exponential` and the option.
 */
export function exponential(options: { mean: number }): ExponentialServiceTime {
  check.options('exponential', options, ['mean'], { required: true });
  check.finitePositive('exponential', 'mean', options.mean);
  return Object.freeze({ kind: 'exponential', mean: options.mean });
}

/**
 * Log-normal service times: half the requests take less than `median`, 99% less than `p99`. The
 * shape real services have (a long right tail); the mean is `median * exp(sigma^2 / 2)` with
 * `sigma = ln(p99 / median) / 2.326`.
 *
 * ```ts
 * downstream({ workers: 8, serviceTime: lognormal({ median: 15, p99: 60 }) });
 * ```
 *
 * @param options `median` and `p99`: finite numbers > 0 (ms), `p99` greater than `median`. Required.
 * @throws TypeError or RangeError naming `lognormal` and the option (`p99` at or below `median` is a
 *   RangeError).
 */
export function lognormal(options: { median: number; p99: number }): LognormalServiceTime {
  check.options('lognormal', options, ['median', 'p99'], { required: true });
  const { median, p99 } = options;
  check.finitePositive('lognormal', 'median', median);
  check.finitePositive('lognormal', 'p99', p99);
  checkLognormalOrder('lognormal', '', median, p99);
  return Object.freeze({ kind: 'lognormal', median, p99 });
}

function checkLognormalOrder(fn: string, path: string, median: number, p99: number): void {
  if (!(p99 > median)) {
    throw new RangeError(
      `${fn}: \`${path}p99\` must be greater than \`${path}median\` (the 99th percentile cannot be below the median), got p99 ${String(p99)} and median ${String(median)}`,
    );
  }
}

/**
 * The mean of a service-time distribution, in ms: with `workers` workers a downstream serves at
 * most `workers * 1000 / meanServiceTime(d)` requests per second.
 *
 * ```ts
 * meanServiceTime(lognormal({ median: 15, p99: 60 })); // 17.9 (ms)
 * ```
 */
export function meanServiceTime(serviceTime: ServiceTime | number): number {
  const d = checkServiceTime('meanServiceTime', 'serviceTime', serviceTime);
  switch (d.kind) {
    case 'fixed':
      return d.ms;
    case 'exponential':
      return d.mean;
    case 'lognormal': {
      const sigma = Math.log(d.p99 / d.median) / Z_99;
      return d.median * Math.exp((sigma * sigma) / 2);
    }
  }
}

/**
 * Checks a service time given to `fn` as `option` (plain data, or a number for `fixed`), whoever
 * made it, and returns it as a {@link ServiceTime}.
 */
export function checkServiceTime(fn: string, option: string, value: unknown): ServiceTime {
  if (typeof value === 'number') {
    check.finiteNonNegative(fn, option, value);
    return { kind: 'fixed', ms: value };
  }
  const kind = (value as { kind?: unknown } | null | undefined)?.kind;
  const expected =
    'a service time: fixed(ms), exponential({ mean }), lognormal({ median, p99 }) or a number of ms';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${fn}: \`${option}\` must be ${expected}, got ${check.describe(value)}`);
  }
  const field = (name: string) => `${option}.${name}`;
  switch (kind) {
    case 'fixed': {
      check.options(fn, value, ['kind', 'ms'], { option });
      check.finiteNonNegative(fn, field('ms'), (value as FixedServiceTime).ms);
      return value as FixedServiceTime;
    }
    case 'exponential': {
      check.options(fn, value, ['kind', 'mean'], { option });
      check.finitePositive(fn, field('mean'), (value as ExponentialServiceTime).mean);
      return value as ExponentialServiceTime;
    }
    case 'lognormal': {
      check.options(fn, value, ['kind', 'median', 'p99'], { option });
      const { median, p99 } = value as LognormalServiceTime;
      check.finitePositive(fn, field('median'), median);
      check.finitePositive(fn, field('p99'), p99);
      checkLognormalOrder(fn, `${option}.`, median, p99);
      return value as LognormalServiceTime;
    }
    default:
      throw new TypeError(
        `${fn}: \`${option}\` must be ${expected}, got an object whose \`kind\` is ${check.describe(kind)}`,
      );
  }
}

/** A service time as a function of a uniform number in (0, 1) (its quantile function). */
export type Quantile = (u: number) => number;

/**
 * The quantile function of a service time: the simulator draws one uniform number per request on
 * arrival and turns it into a time with the distribution in force when the request starts service,
 * so a phase that changes `serviceTime` changes the time but not the draw.
 */
export function quantileOf(serviceTime: ServiceTime): Quantile {
  switch (serviceTime.kind) {
    case 'fixed': {
      const ms = serviceTime.ms;
      return () => ms;
    }
    case 'exponential': {
      const mean = serviceTime.mean;
      return (u) => -mean * Math.log(u);
    }
    case 'lognormal': {
      const mu = Math.log(serviceTime.median);
      const sigma = Math.log(serviceTime.p99 / serviceTime.median) / Z_99;
      return (u) => Math.exp(mu + sigma * normalQuantile(u));
    }
  }
}
