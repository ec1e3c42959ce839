import { defer, mergeMap, Observable, of, range, retry, take, throwError } from 'rxjs';
import { CircuitBreaker, CircuitOpenError } from 'rxjs-backpressure';
import { errorShape, testScheduler } from '../helpers/marbles';
import { letters, manual } from './harness';

/*
 * Issue 10, `guard()`: each subscription to the guarded Observable is one call. Refused at once with
 * CircuitOpenError while the breaker does not let calls through; its completion, error or
 * unsubscription is the call's outcome.
 */

const boom = new Error('boom');

describe('CircuitBreaker.guard (issue 10, rules 1 and 4)', () => {
  it("passes the source's values, completion and error through unchanged", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 5 });
      expectObservable(cold('-a-b|').pipe(breaker.guard())).toBe('-a-b|');
      expectObservable(cold('-a-#', undefined, boom).pipe(breaker.guard())).toBe('-a-#', undefined, boom);
    });
  });

  it('refuses a subscription at once while open, without subscribing to the source', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10 });
      const failing = cold('-#');
      const source = cold(' --a|');
      expectObservable(failing.pipe(breaker.guard())).toBe('-#');
      // Subscribed at 4: open since 1, 7 ms left.
      expectObservable(source.pipe(breaker.guard()), '----^').toBe(
        '----#',
        undefined,
        new CircuitOpenError('open', 7),
      );
      // Subscribed at 11: half-open; the call is the probe and closes it at 14.
      expectObservable(source.pipe(breaker.guard()), '-----------^').toBe('-------------a|');
      expectSubscriptions(source.subscriptions).toBe('-----------^--!');
      expectObservable(letters(breaker)).toBe('co---------h--c');
    });
  });

  it('each resubscription is a new call: retry counts every attempt', () => {
    const breaker = new CircuitBreaker({ consecutiveFailures: 3, scheduler: manual() });
    let attempts = 0;
    let error: unknown;
    defer(() => {
      attempts++;
      return throwError(() => boom);
    })
      .pipe(breaker.guard(), retry(5))
      .subscribe({ error: (e: unknown) => (error = e) });
    // Three failures open it; the fourth attempt is refused before the source is subscribed.
    expect(attempts).toBe(3);
    expect(errorShape(error as Error)).toEqual(errorShape(new CircuitOpenError('open', 30_000)));
    expect(breaker.state).toBe('open');
  });

  it('a synchronous source is a call that starts and ends at once', () => {
    const breaker = new CircuitBreaker({ consecutiveFailures: 2, scheduler: manual() });
    const out: number[] = [];
    of(1, 2, 3)
      .pipe(breaker.guard())
      .subscribe((v) => out.push(v));
    throwError(() => boom)
      .pipe(breaker.guard())
      .subscribe({ error: () => undefined });
    expect(breaker.state).toBe('closed');
    throwError(() => boom)
      .pipe(breaker.guard())
      .subscribe({ error: () => undefined });
    expect(breaker.state).toBe('open');
    expect(out).toEqual([1, 2, 3]);
  });

  it('an unsubscribed call is cancelled: not counted, its permit released', () => {
    const scheduler = manual();
    const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
    throwError(() => boom)
      .pipe(breaker.guard())
      .subscribe({ error: () => undefined });
    scheduler.advanceTo(10);
    let torn = 0;
    const hung = new Observable<never>(() => () => torn++);
    for (let i = 0; i < 10; i++) hung.pipe(breaker.guard()).subscribe().unsubscribe();
    expect(torn).toBe(10);
    expect(breaker.state).toBe('half-open');
    of('ok').pipe(breaker.guard()).subscribe();
    expect(breaker.state).toBe('closed');
  });

  it('stops an infinite synchronous source when take(3) downstream has what it wants; the call is cancelled', () => {
    let produced = 0;
    const firehose = new Observable<number>((subscriber) => {
      for (let i = 0; !subscriber.closed; i++) {
        produced++;
        subscriber.next(i);
      }
    });
    const scheduler = manual();
    const breaker = new CircuitBreaker({
      consecutiveFailures: 1,
      openDuration: 10,
      callTimeout: 50,
      scheduler,
    });
    const out: number[] = [];
    firehose.pipe(breaker.guard(), take(3)).subscribe((v) => out.push(v));
    expect(out).toEqual([0, 1, 2]);
    expect(produced).toBe(3);
    expect(scheduler.pendingCount).toBe(0);
  });

  it('one guard() operator serves any number of sources and subscriptions', () => {
    const breaker = new CircuitBreaker({ consecutiveFailures: 3, scheduler: manual() });
    const guard = breaker.guard<unknown>();
    const failing = throwError(() => boom).pipe(guard);
    failing.subscribe({ error: () => undefined });
    failing.subscribe({ error: () => undefined });
    throwError(() => boom)
      .pipe(guard)
      .subscribe({ error: () => undefined });
    expect(breaker.state).toBe('open');
  });

  it('100,000 synchronous guarded calls run without recursion', () => {
    const breaker = new CircuitBreaker({ consecutiveFailures: 1, scheduler: manual() });
    let count = 0;
    range(0, 100_000)
      .pipe(mergeMap((v) => of(v).pipe(breaker.guard())))
      .subscribe(() => count++);
    expect(count).toBe(100_000);
  });
});
