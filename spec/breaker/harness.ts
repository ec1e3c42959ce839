import { catchError, map, mergeMap, Observable, of, Subject, type OperatorFunction } from 'rxjs';
import {
  isCallTimeoutError,
  isCircuitOpenError,
  ManualTimeScheduler,
  type CircuitBreaker,
  type CircuitState,
  type CircuitStateChange,
} from 'rxjs-backpressure';

/** One letter per state, for marbles: closed `c`, open `o`, half-open `h`, isolated `i`. */
export const LETTER: Record<CircuitState, string> = {
  closed: 'c',
  open: 'o',
  'half-open': 'h',
  isolated: 'i',
};

/** The breaker's `state$` as letters (see {@link LETTER}). */
export function letters(breaker: CircuitBreaker): Observable<string> {
  return breaker.state$.pipe(map((change) => LETTER[change.state]));
}

/** A `state$` emission as `toEqual` should see it: the reason is free text. */
export function change(state: CircuitState, since: number): CircuitStateChange {
  return { state, since, reason: expect.any(String) as string };
}

/**
 * Calls through `breaker.guard()`, one per source value: the value picks the call (a cold observable
 * from `inners`). The output tells each call's end: its own values on success, `x` on failure, `t` on
 * a call timeout and `r` when the breaker refused it.
 */
export function calls(
  breaker: CircuitBreaker,
  inners: Record<string, Observable<string>>,
): OperatorFunction<string, string> {
  return (source) =>
    source.pipe(
      mergeMap((key) => {
        const inner = inners[key];
        if (!inner) throw new Error(`no call named ${key}`);
        return inner.pipe(
          breaker.guard(),
          catchError((err: unknown) =>
            of(isCircuitOpenError(err) ? 'r' : isCallTimeoutError(err) ? 't' : 'x'),
          ),
        );
      }),
    );
}

/** How one hand-driven call ended, or that it runs (or was refused). */
export type CallStatus = 'running' | 'refused' | 'succeeded' | 'failed' | 'timed out' | 'cancelled';

/** One call through `guard()`, finished by the test. */
export interface Call {
  readonly status: CallStatus;
  /** The error the call's subscriber got, if any (the refusal, the timeout, the failure). */
  readonly error: unknown;
  /** Whether the guarded source was subscribed (refused calls never are). */
  readonly ran: boolean;
  succeed(): void;
  fail(error?: unknown): void;
  cancel(): void;
}

/**
 * Starts calls by hand through `breaker.guard()` on a {@link ManualTimeScheduler}: each call is a
 * Subject the test completes, errors or unsubscribes.
 */
export function caller(breaker: CircuitBreaker): (name?: string) => Call {
  return (name = 'call') => {
    const inner = new Subject<string>();
    let ran = false;
    let status: CallStatus = 'running';
    let error: unknown;
    const guarded = new Subject<string>();
    const subscription = new Observable<string>((subscriber) => {
      ran = true;
      return inner.subscribe(subscriber);
    })
      .pipe(breaker.guard())
      .subscribe({
        next: (v) => guarded.next(v),
        error: (err: unknown) => {
          error = err;
          status =
            isCircuitOpenError(err) && !ran ? 'refused' : isCallTimeoutError(err) ? 'timed out' : 'failed';
        },
        complete: () => (status = 'succeeded'),
      });
    return {
      get status() {
        return status;
      },
      get error() {
        return error;
      },
      get ran() {
        return ran;
      },
      succeed() {
        if (status !== 'running') throw new Error(`${name} is ${status}`);
        inner.complete();
      },
      fail(err = new Error(`${name} failed`)) {
        if (status !== 'running') throw new Error(`${name} is ${status}`);
        inner.error(err);
      },
      cancel() {
        if (status !== 'running') throw new Error(`${name} is ${status}`);
        status = 'cancelled';
        subscription.unsubscribe();
      },
    };
  };
}

/** A breaker's `state$` recorded with the time of each emission. */
export function recordStates(
  breaker: CircuitBreaker,
  scheduler: { now(): number },
): { log: [number, CircuitState, number][]; unsubscribe(): void } {
  const log: [number, CircuitState, number][] = [];
  const subscription = breaker.state$.subscribe((c) => log.push([scheduler.now(), c.state, c.since]));
  return { log, unsubscribe: () => subscription.unsubscribe() };
}

/** A manual scheduler, so that `pendingCount` counts the breaker's own actions. */
export function manual(start = 0): ManualTimeScheduler {
  return new ManualTimeScheduler(start);
}
