import * as check from '../internal/validate.js';
import { STREAM, uniformStream } from './random.js';

/**
 * Weights of the classes values are drawn from, e.g. `{ checkout: 0.2, analytics: 0.8 }`: each value
 * gets one class, with probability proportional to its weight (finite numbers > 0, any total).
 */
export type ClassWeights = Readonly<Record<string, number>>;

/** Options every arrival generator accepts. */
export interface ClassOption {
  /**
   * Give each value a `class`, drawn from these weights (its own random stream, so the arrival
   * times do not change when classes are added).
   * @default undefined (values have no class)
   */
  classes?: ClassWeights;
}

/** Evenly spaced values: one every `1000 / rate` ms, the first at 0. Made by {@link constant}. */
export interface ConstantArrivals {
  /** Always `'constant'`. */
  readonly kind: 'constant';
  /** Values per second. */
  readonly rate: number;
  /** Each value's class is drawn from these weights, when given. */
  readonly classes?: ClassWeights;
}

/** A Poisson process: independent, exponentially distributed gaps. Made by {@link poisson}. */
export interface PoissonArrivals {
  /** Always `'poisson'`. */
  readonly kind: 'poisson';
  /** Mean values per second. */
  readonly rate: number;
  /** Each value's class is drawn from these weights, when given. */
  readonly classes?: ClassWeights;
}

/** `size` values every `every` ms, `spacing` ms apart, the first burst at 0. Made by {@link bursts}. */
export interface BurstArrivals {
  /** Always `'bursts'`. */
  readonly kind: 'bursts';
  /** Values per burst. */
  readonly size: number;
  /** Time from the start of one burst to the start of the next, in ms. */
  readonly every: number;
  /** Time between two values of a burst, in ms (0: all at once). */
  readonly spacing: number;
  /** Each value's class is drawn from these weights, when given. */
  readonly classes?: ClassWeights;
}

/** A rate that moves linearly from `from` to `to` over `over` ms, then stays. Made by {@link ramp}. */
export interface RampArrivals {
  /** Always `'ramp'`. */
  readonly kind: 'ramp';
  /** The rate at 0, in values per second. */
  readonly from: number;
  /** The rate from `over` on, in values per second. */
  readonly to: number;
  /** How long the ramp lasts, in ms. */
  readonly over: number;
  /** A Poisson process of the changing rate, rather than evenly spread values. */
  readonly poisson: boolean;
  /** Each value's class is drawn from these weights, when given. */
  readonly classes?: ClassWeights;
}

/** Values at given times (a recorded trace). Made by {@link trace}. */
export interface TraceArrivals {
  /** Always `'trace'`. */
  readonly kind: 'trace';
  /** The arrival times, in ms. */
  readonly times: readonly number[];
  /** The class of each value, where the trace names one (`null` where it does not). */
  readonly labels?: readonly (string | null)[];
  /** Each value's class is drawn from these weights, when given. */
  readonly classes?: ClassWeights;
}

/**
 * When values arrive: plain data (`kind` and parameters) made by {@link constant}, {@link poisson},
 * {@link bursts}, {@link ramp} or {@link trace}. The simulator offers every value that arrives before
 * the scenario's `duration`; random draws come from the scenario's `seed`.
 */
export type Arrivals = ConstantArrivals | PoissonArrivals | BurstArrivals | RampArrivals | TraceArrivals;

/** One entry of a {@link trace}: a time, or a time and the value's class. */
export type TraceEntry =
  | number
  | {
      /** When the value arrives, in ms. */
      time: number;
      /** The value's class. */
      class?: string;
    };

const RATE = 'a finite number > 0 (values per second)';

function checkRate(fn: string, option: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: \`${option}\` must be ${RATE}, got ${check.describe(value)}`);
  }
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    const expected = allowZero ? 'a finite number >= 0 (values per second)' : RATE;
    throw new RangeError(`${fn}: \`${option}\` must be ${expected}, got ${check.describe(value)}`);
  }
  return value;
}

function checkClasses(fn: string, option: string, value: unknown): ClassWeights | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${fn}: \`${option}\` must be an object of class weights such as { checkout: 0.2, analytics: 0.8 }, got ${check.describe(value)}`,
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) {
    throw new RangeError(`${fn}: \`${option}\` must name at least one class, got an empty object`);
  }
  for (const [name, weight] of entries) check.finitePositive(fn, `${option}.${name}`, weight);
  return Object.freeze(Object.fromEntries(entries)) as ClassWeights;
}

function freeze<T extends { classes?: ClassWeights }>(value: T): T {
  if (value.classes === undefined) delete value.classes;
  return Object.freeze(value);
}

/**
 * Evenly spaced values, `rate` per second: one every `1000 / rate` ms, the first at 0.
 *
 * ```ts
 * constant({ rate: 100 }); // values at 0, 10, 20, ... ms
 * ```
 *
 * @param options `rate` (values per second, a finite number > 0; required), `classes`.
 */
export function constant(options: { rate: number } & ClassOption): ConstantArrivals {
  check.options('constant', options, ['rate', 'classes'], { required: true });
  return freeze({
    kind: 'constant',
    rate: checkRate('constant', 'rate', options.rate),
    classes: checkClasses('constant', 'classes', options.classes),
  });
}

/**
 * A Poisson process of `rate` values per second: gaps are independent and exponentially distributed
 * with mean `1000 / rate` ms (how independent users arrive).
 *
 * ```ts
 * poisson({ rate: 400, classes: { checkout: 0.2, analytics: 0.8 } });
 * ```
 *
 * @param options `rate` (values per second, a finite number > 0; required), `classes`.
 */
export function poisson(options: { rate: number } & ClassOption): PoissonArrivals {
  check.options('poisson', options, ['rate', 'classes'], { required: true });
  return freeze({
    kind: 'poisson',
    rate: checkRate('poisson', 'rate', options.rate),
    classes: checkClasses('poisson', 'classes', options.classes),
  });
}

/**
 * Bursts: `size` values every `every` ms, `spacing` ms apart within a burst (0: all at once), the
 * first burst at 0.
 *
 * ```ts
 * bursts({ size: 1000, every: 10_000, spacing: 1 }); // 1,000 values over 1 s, every 10 s
 * ```
 *
 * @param options `size` (a positive integer), `every` (ms, a finite number > 0) and `spacing` (ms, a
 *   finite number >= 0, default 0), with a burst shorter than `every`; `classes`.
 */
export function bursts(
  options: { size: number; every: number; spacing?: number } & ClassOption,
): BurstArrivals {
  check.options('bursts', options, ['size', 'every', 'spacing', 'classes'], { required: true });
  const { size, every, spacing = 0 } = options;
  check.positiveInteger('bursts', 'size', size);
  check.finitePositive('bursts', 'every', every);
  check.finiteNonNegative('bursts', 'spacing', spacing);
  checkBurstLength('bursts', '', size, every, spacing);
  return freeze({
    kind: 'bursts',
    size,
    every,
    spacing,
    classes: checkClasses('bursts', 'classes', options.classes),
  });
}

function checkBurstLength(fn: string, path: string, size: number, every: number, spacing: number): void {
  if ((size - 1) * spacing >= every) {
    throw new RangeError(
      `${fn}: a burst must end before the next one starts: (\`${path}size\` - 1) * \`${path}spacing\` = ${String((size - 1) * spacing)} ms is not below \`${path}every\` ${String(every)} ms`,
    );
  }
}

/**
 * A rate that changes linearly from `from` to `to` values per second over the first `over` ms, then
 * stays at `to`. Values are evenly spread along the changing rate, or with `poisson: true` form a
 * Poisson process of that rate.
 *
 * ```ts
 * ramp({ from: 100, to: 1000, over: 60_000 }); // from light load to overload in a minute
 * ```
 *
 * @param options `from` and `to` (values per second, finite numbers >= 0, not both 0), `over` (ms, a
 *   finite number > 0), `poisson` (default false), `classes`.
 */
export function ramp(
  options: { from: number; to: number; over: number; poisson?: boolean } & ClassOption,
): RampArrivals {
  check.options('ramp', options, ['from', 'to', 'over', 'poisson', 'classes'], { required: true });
  const { from, to, over, poisson: random = false } = options;
  checkRampRates('ramp', '', from, to);
  check.finitePositive('ramp', 'over', over);
  check.optionalBoolean('ramp', 'poisson', random);
  return freeze({
    kind: 'ramp',
    from,
    to,
    over,
    poisson: random,
    classes: checkClasses('ramp', 'classes', options.classes),
  });
}

function checkRampRates(fn: string, path: string, from: unknown, to: unknown): void {
  checkRate(fn, `${path}from`, from, true);
  checkRate(fn, `${path}to`, to, true);
  if (from === 0 && to === 0) {
    throw new RangeError(`${fn}: \`${path}from\` and \`${path}to\` cannot both be 0 (no value would arrive)`);
  }
}

/**
 * Values at the given times (ms from the start, in order): a recorded trace. An entry may name its
 * value's class (`{ time, class }`); entries without one draw it from `classes` when given.
 *
 * ```ts
 * trace([0, 5, 5, 12, { time: 40, class: 'checkout' }]);
 * ```
 *
 * @param times Finite numbers >= 0 (or `{ time, class? }`), never decreasing. Copied.
 * @param options `classes`.
 */
export function trace(times: readonly TraceEntry[], options?: ClassOption): TraceArrivals {
  check.options('trace', options, ['classes']);
  const { times: copy, labels } = checkTrace('trace', 'times', times);
  return freeze({
    kind: 'trace',
    times: copy,
    ...(labels === undefined ? {} : { labels }),
    classes: checkClasses('trace', 'classes', options?.classes),
  });
}

function checkTrace(
  fn: string,
  option: string,
  value: unknown,
): { times: readonly number[]; labels: readonly (string | null)[] | undefined } {
  if (!Array.isArray(value)) {
    throw new TypeError(`${fn}: \`${option}\` must be an array of times in ms, got ${check.describe(value)}`);
  }
  const times: number[] = [];
  const labels: (string | null)[] = [];
  let last = 0;
  (value as unknown[]).forEach((entry, i) => {
    let time: unknown = entry;
    let label: string | null = null;
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      check.options(fn, entry, ['time', 'class'], { option: `${option}[${String(i)}]` });
      const { time: t, class: c } = entry as { time?: unknown; class?: unknown };
      time = t;
      if (c !== undefined && c !== null) {
        if (typeof c !== 'string' || c === '') {
          throw new TypeError(
            `${fn}: \`${option}[${String(i)}].class\` must be a non-empty string, got ${check.describe(c)}`,
          );
        }
        label = c;
      }
    }
    check.finiteNonNegative(fn, `${option}[${String(i)}]`, time);
    if ((time as number) < last) {
      throw new RangeError(
        `${fn}: \`${option}\` must be in time order: entry ${String(i)} (${String(time)} ms) comes before entry ${String(i - 1)} (${String(last)} ms)`,
      );
    }
    last = time as number;
    times.push(last);
    labels.push(label);
  });
  const named = labels.some((label) => label !== null);
  return { times: Object.freeze(times), labels: named ? Object.freeze(labels) : undefined };
}

/**
 * Checks arrivals given to `fn` as `option`, whoever made them (the generators return plain data),
 * and returns them.
 */
export function checkArrivals(fn: string, option: string, value: unknown): Arrivals {
  const expected = 'arrivals made by constant, poisson, bursts, ramp or trace';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${fn}: \`${option}\` must be ${expected}, got ${check.describe(value)}`);
  }
  const a = value as Record<string, unknown>;
  const field = (name: string) => `${option}.${name}`;
  const keys = (...names: string[]) => check.options(fn, value, ['kind', 'classes', ...names], { option });
  switch (a.kind) {
    case 'constant':
    case 'poisson':
      keys('rate');
      checkRate(fn, field('rate'), a.rate);
      break;
    case 'bursts':
      keys('size', 'every', 'spacing');
      check.positiveInteger(fn, field('size'), a.size);
      check.finitePositive(fn, field('every'), a.every);
      check.finiteNonNegative(fn, field('spacing'), a.spacing);
      checkBurstLength(fn, `${option}.`, a.size as number, a.every as number, a.spacing as number);
      break;
    case 'ramp':
      keys('from', 'to', 'over', 'poisson');
      checkRampRates(fn, `${option}.`, a.from, a.to);
      check.finitePositive(fn, field('over'), a.over);
      if (typeof a.poisson !== 'boolean') {
        throw new TypeError(
          `${fn}: \`${field('poisson')}\` must be a boolean, got ${check.describe(a.poisson)}`,
        );
      }
      break;
    case 'trace': {
      keys('times', 'labels');
      checkTrace(fn, field('times'), a.times);
      if (a.labels !== undefined) {
        const labels = a.labels;
        const ok =
          Array.isArray(labels) &&
          labels.length === (a.times as unknown[]).length &&
          labels.every((l) => l === null || (typeof l === 'string' && l !== ''));
        if (!ok) {
          throw new TypeError(
            `${fn}: \`${field('labels')}\` must be an array of class names (or null), one per time, got ${check.describe(labels)}`,
          );
        }
      }
      break;
    }
    default:
      throw new TypeError(
        `${fn}: \`${option}\` must be ${expected}, got an object whose \`kind\` is ${check.describe(a.kind)}`,
      );
  }
  checkClasses(fn, field('classes'), a.classes);
  return value as Arrivals;
}

/** The arrivals of one run: times in order, each value's class. */
export interface ArrivalStream {
  /** The next arrival time, or `Infinity` once no value arrives before `duration`. */
  next(): number;
  /** The class of the value whose time `next()` returned last: an index into `classNames`, or -1. */
  classIndex(): number;
  /** Every class a value can have, in a stable order (weights first, then names from the trace). */
  readonly classNames: readonly string[];
}

/** Starts the arrivals of one run, drawing from the run's seed. */
export function startArrivals(arrivals: Arrivals, seed: number, duration: number): ArrivalStream {
  const weights = arrivals.classes ?? {};
  const classNames = Object.keys(weights);
  const labels = arrivals.kind === 'trace' ? arrivals.labels : undefined;
  if (labels !== undefined) {
    for (const label of labels) if (label !== null && !classNames.includes(label)) classNames.push(label);
  }
  const cumulative: number[] = [];
  let total = 0;
  for (const name of Object.keys(weights)) {
    total += weights[name] as number;
    cumulative.push(total);
  }
  const classUniform = uniformStream(seed, STREAM.classes);
  const drawClass = (): number => {
    if (cumulative.length === 0) return -1;
    const target = classUniform() * total;
    for (let i = 0; i < cumulative.length - 1; i++) if (target < (cumulative[i] as number)) return i;
    return cumulative.length - 1;
  };

  const uniform = uniformStream(seed, STREAM.arrivals);
  let index = 0;
  let time = 0;
  let currentClass = -1;
  const timeAt = nextTime(arrivals, uniform);
  return {
    classNames,
    next() {
      if (time === Infinity) return Infinity;
      const t = timeAt(index);
      if (!(t < duration)) {
        time = Infinity;
        return Infinity;
      }
      const label = labels?.[index] ?? null;
      currentClass = label === null ? drawClass() : classNames.indexOf(label);
      index++;
      time = t;
      return t;
    },
    classIndex: () => currentClass,
  };
}

/** The time of arrival number `i` (called with 0, 1, 2, ... in order). */
function nextTime(arrivals: Arrivals, uniform: () => number): (i: number) => number {
  switch (arrivals.kind) {
    case 'constant': {
      const period = 1000 / arrivals.rate;
      return (i) => i * period;
    }
    case 'poisson': {
      const mean = 1000 / arrivals.rate;
      let t = 0;
      return () => (t += -mean * Math.log(uniform()));
    }
    case 'bursts': {
      const { size, every, spacing } = arrivals;
      return (i) => Math.floor(i / size) * every + (i % size) * spacing;
    }
    case 'ramp': {
      const inverse = rampInverse(arrivals.from / 1000, arrivals.to / 1000, arrivals.over);
      if (!arrivals.poisson) return (i) => inverse(i);
      let y = 0;
      return () => inverse((y += -Math.log(uniform())));
    }
    case 'trace': {
      const times = arrivals.times;
      return (i) => (i < times.length ? (times[i] as number) : Infinity);
    }
  }
}

/**
 * The inverse of the cumulative arrivals of a ramp: the time by which `y` values are due, for a rate
 * (per ms) going linearly from `r0` to `r1` over `over` ms and staying at `r1` afterwards.
 */
function rampInverse(r0: number, r1: number, over: number): (y: number) => number {
  const a = (r1 - r0) / (2 * over);
  const atEnd = ((r0 + r1) * over) / 2;
  return (y) => {
    if (y <= 0) return 0;
    if (y <= atEnd) {
      if (a === 0) return y / r0;
      // Root of a t^2 + r0 t - y = 0, written without cancellation.
      return (2 * y) / (r0 + Math.sqrt(Math.max(0, r0 * r0 + 4 * a * y)));
    }
    return r1 === 0 ? Infinity : over + (y - atEnd) / r1;
  };
}
