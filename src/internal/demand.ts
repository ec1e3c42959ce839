import { describe } from './validate.js';

/**
 * Checks one value of a demand stream: a non-negative integer or `Infinity`. A number that is
 * negative, `NaN` or fractional is a `RangeError`; anything else a `TypeError`.
 */
export function checkDemand(operator: string, n: unknown): number {
  if (typeof n !== 'number') {
    throw new TypeError(`${operator}: demand must be a non-negative integer or Infinity, got ${describe(n)}`);
  }
  if (!(n === Infinity || (Number.isInteger(n) && n >= 0))) {
    throw new RangeError(
      `${operator}: demand must be a non-negative integer or Infinity, got ${describe(n)}`,
    );
  }
  return n;
}

/**
 * Outstanding demand: the sum of grants minus what was taken. `Infinity` stays `Infinity`.
 */
export class Demand {
  constructor(private outstanding: number) {}

  get value(): number {
    return this.outstanding;
  }

  get available(): boolean {
    return this.outstanding > 0;
  }

  grant(n: number): void {
    this.outstanding += n;
  }

  take(): void {
    if (this.outstanding !== Infinity) this.outstanding--;
  }
}
