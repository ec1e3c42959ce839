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

export function nonNegativeOrInfinity(operator: string, option: string, value: unknown): number {
  return checkNumber(operator, option, 'a finite number >= 0 or Infinity', value, (n) => n >= 0);
}

/** `'error'`, `'continue'` or a function. */
export function onInnerError(operator: string, value: unknown): void {
  if (value === 'error' || value === 'continue' || typeof value === 'function') return;
  fail(
    typeof value === 'string' ? RangeError : TypeError,
    operator,
    'onError',
    "'error', 'continue' or a function (error, value) => fallback",
    value,
  );
}

export function positiveInteger(operator: string, option: string, value: unknown): number {
  return checkNumber(operator, option, 'a positive integer', value, (n) => Number.isInteger(n) && n > 0);
}

export function positiveOrInfinity(operator: string, option: string, value: unknown): number {
  return checkNumber(operator, option, 'a finite number > 0 or Infinity', value, (n) => n > 0);
}

export function finiteNonNegative(operator: string, option: string, value: unknown): number {
  return checkNumber(operator, option, 'a finite number >= 0', value, (n) => Number.isFinite(n) && n >= 0);
}

export function finiteNumber(operator: string, option: string, value: unknown): number {
  return checkNumber(operator, option, 'a finite number', value, (n) => Number.isFinite(n));
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

/**
 * Checks an options argument: `undefined` (when not `required`) or a plain object (not `null`, not an
 * array), whose own keys are all among `known`. An unknown key is a `TypeError` naming the operator
 * and the key, with the closest known key suggested when one is near (a typo such as `concurency`
 * would otherwise run silently with the default).
 */
export function options(
  operator: string,
  value: unknown,
  known: readonly string[],
  { required = false, option = 'options' }: { required?: boolean; option?: string } = {},
): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(TypeError, operator, option, 'an object', value);
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    const hint = near === undefined ? '' : ` (did you mean \`${near}\`?)`;
    const where = option === 'options' ? 'option' : `key of \`${option}\``;
    throw new TypeError(
      `${operator}: unknown ${where} \`${key}\`${hint}; known: ${known.map((k) => `\`${k}\``).join(', ')}`,
    );
  }
}

/** The known key nearest to `key` (case-insensitive edit distance), if it is near enough to be a typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** Levenshtein distance, with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
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
