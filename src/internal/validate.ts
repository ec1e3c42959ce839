import { isObservable, type Observable } from 'rxjs';
import type { OverflowStrategy } from '../types.js';
import { OVERFLOW_STRATEGIES } from '../types.js';

/** Describes a received value for an error message: `-1 (number)`, `"3" (string)`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} (${typeof value})`;
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `${Object.prototype.toString.call(value)} (${typeof value})`;
}

function fail(
  ctor: typeof RangeError | typeof TypeError,
  operator: string,
  option: string,
  expected: string,
  value: unknown,
): never {
  throw new ctor(`${operator}: \`${option}\` must be ${expected}, got ${describe(value)}`);
}

/** Numbers are `RangeError` when out of range and `TypeError` when not numbers at all. */
function checkNumber(
  operator: string,
  option: string,
  expected: string,
  value: unknown,
  ok: (n: number) => boolean,
): number {
  if (typeof value !== 'number') fail(TypeError, operator, option, expected, value);
  if (!ok(value)) fail(RangeError, operator, option, expected, value);
  return value;
}

export function nonNegativeIntegerOrInfinity(operator: string, option: string, value: unknown): number {
  return checkNumber(
    operator,
    option,
    'a non-negative integer or Infinity',
    value,
    (n) => n === Infinity || (Number.isInteger(n) && n >= 0),
  );
}

export function positiveIntegerOrInfinity(operator: string, option: string, value: unknown): number {
  return checkNumber(
    operator,
    option,
    'a positive integer or Infinity',
    value,
    (n) => n === Infinity || (Number.isInteger(n) && n > 0),
  );
}

export function finiteNonNegative(operator: string, option: string, value: unknown): number {
  return checkNumber(operator, option, 'a finite number >= 0', value, (n) => Number.isFinite(n) && n >= 0);
}

export function finitePositive(operator: string, option: string, value: unknown): number {
  return checkNumber(operator, option, 'a finite number > 0', value, (n) => Number.isFinite(n) && n > 0);
}

export function numberInRange(
  operator: string,
  option: string,
  value: unknown,
  min: number,
  max: number,
): number {
  return checkNumber(
    operator,
    option,
    `a number from ${String(min)} to ${String(max)}`,
    value,
    (n) => n >= min && n <= max,
  );
}

export function isFunction(operator: string, option: string, value: unknown): void {
  if (typeof value !== 'function') fail(TypeError, operator, option, 'a function', value);
}

export function optionalFunction(operator: string, option: string, value: unknown): void {
  if (value !== undefined) isFunction(operator, option, value);
}

export function optionalBoolean(operator: string, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean')
    fail(TypeError, operator, option, 'a boolean', value);
}

/** For a required options argument: `undefined` is refused too. */
export function requiredOptionsObject(operator: string, value: unknown): void {
  if (value === undefined) fail(TypeError, operator, 'options', 'an object', value);
  optionsObject(operator, value);
}

export function optionsObject(operator: string, value: unknown, option = 'options'): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    fail(TypeError, operator, option, 'an object', value);
  }
}

export function overflowStrategy(
  operator: string,
  value: unknown,
  allowed: readonly OverflowStrategy[] = OVERFLOW_STRATEGIES,
  option = 'overflow',
): OverflowStrategy {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const ctor = typeof value === 'string' ? RangeError : TypeError;
    fail(ctor, operator, option, `one of ${allowed.map((s) => `'${s}'`).join(', ')}`, value);
  }
  return value as OverflowStrategy;
}

export function observable(operator: string, option: string, value: unknown): Observable<unknown> {
  if (!isObservable(value)) fail(TypeError, operator, option, 'an Observable', value);
  return value;
}

export function scheduler(operator: string, value: unknown): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { now?: unknown }).now === 'function' &&
    typeof (value as { schedule?: unknown }).schedule === 'function';
  if (!ok) fail(TypeError, operator, 'scheduler', 'a SchedulerLike (with now() and schedule())', value);
}
