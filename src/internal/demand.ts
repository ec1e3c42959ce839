import type { Observable, Subscriber } from 'rxjs';
import { OperatorSubscriber } from './OperatorSubscriber.js';
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
 * Listens to a demand stream on behalf of `destination`: each valid grant goes to `grant`; an invalid
 * one, or an error of `demand$`, goes to `fail`; its completion goes to `end`. No more demand can come
 * after that, so the operator finishes once the outstanding demand is spent (like `take`), instead
 * of waiting forever.
 */
export function subscribeToDemand(
  operator: string,
  demand$: Observable<number>,
  destination: Subscriber<unknown>,
  grant: (n: number) => void,
  fail: (err: unknown) => void,
  end: () => void,
): void {
  demand$.subscribe(
    new OperatorSubscriber<number>(destination, {
      next: (n) => {
        let granted: number;
        try {
          granted = checkDemand(operator, n);
        } catch (err) {
          fail(err);
          return;
        }
        grant(granted);
      },
      error: fail,
      complete: end,
    }),
  );
}

/**
 * Outstanding demand: the sum of grants minus what was taken. `Infinity` stays `Infinity`.
 */
export class Demand {
  private ended = false;

  constructor(private outstanding: number) {}

  get available(): boolean {
    return this.outstanding > 0;
  }

  /** True once the demand stream has completed and every unit it granted has been taken. */
  get spent(): boolean {
    return this.ended && this.outstanding === 0;
  }

  /** The demand stream completed: no more grants. */
  end(): void {
    this.ended = true;
  }

  grant(n: number): void {
    this.outstanding += n;
  }

  take(): void {
    if (this.outstanding !== Infinity) this.outstanding--;
  }
}
