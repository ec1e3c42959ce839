import { isObservable, type Observable, type Subscriber } from 'rxjs';
import { OperatorSubscriber } from './OperatorSubscriber.js';

/** A limit given as a number, or as an Observable of numbers that changes it while the stream runs. */
export type Limit = number | Observable<number>;

/** Checks one value of a limit; throws the RangeError/TypeError the number form would. */
export type LimitCheck = (operator: string, option: string, value: unknown) => number;

/**
 * Checks a limit at creation: an Observable is accepted (its values are checked as they come);
 * anything else is checked as the number form, with the number form's message.
 */
export function checkLimit(operator: string, option: string, value: unknown, check: LimitCheck): void {
  if (!isObservable(value)) check(operator, option, value);
}

/**
 * Reads a limit for one subscription. A number is returned as it is. An Observable is subscribed (on
 * behalf of `destination`, so teardown unsubscribes it) and must emit synchronously: the last value it
 * emits during `subscribe` is returned, later ones go to `change` as they come, each checked like the
 * number form. A value
 * that fails the check, an error of the Observable, or an Observable that does not emit at once goes
 * to `fail` (and the result is `undefined`: the output is failing). Completion keeps the last value.
 */
export function watchLimit(
  operator: string,
  option: string,
  limit: Limit,
  check: LimitCheck,
  destination: Subscriber<unknown>,
  change: (value: number) => void,
  fail: (err: unknown) => void,
): number | undefined {
  if (typeof limit === 'number') return limit;
  /**
   * Written by the subscriber, read after `subscribe` returns: values emitted during `subscribe`
   * (a `startWith` before a `BehaviorSubject`, say) only set the initial value, the last one wins.
   */
  const state: { initial: number | undefined; failed: boolean; subscribing: boolean } = {
    initial: undefined,
    failed: false,
    subscribing: true,
  };
  const onFail = (err: unknown): void => {
    state.failed = true;
    fail(err);
  };
  limit.subscribe(
    new OperatorSubscriber<number>(destination, {
      next: (raw) => {
        let value: number;
        try {
          value = check(operator, option, raw);
        } catch (err) {
          onFail(err);
          return;
        }
        if (state.subscribing) state.initial = value;
        else change(value);
      },
      error: onFail,
      complete: () => {
        // The last value stays in force.
      },
    }),
  );
  state.subscribing = false;
  if (state.failed) return undefined;
  if (state.initial === undefined) {
    fail(
      new TypeError(
        `${operator}: the \`${option}\` Observable must emit its first value synchronously on subscription (a BehaviorSubject, of(n), or startWith(n))`,
      ),
    );
  }
  return state.initial;
}
