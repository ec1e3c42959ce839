import { Observable, type Observable as ObservableType } from 'rxjs';
import { subscribeToDemand } from '../internal/demand.js';
import { checkPullInput, Puller, type PullInput } from '../internal/puller.js';
import * as check from '../internal/validate.js';
import { attachMeter, checkMeter, type FlowMeter } from '../monitoring/FlowMeter.js';

/** Options of {@link pullFrom}. */
export interface PullFromOptions {
  /**
   * Values that may be pulled before `demand$` says anything: a non-negative integer or `Infinity`.
   * @default 0
   */
  initialDemand?: number;
  /** Counts the values pulled and passed on (see {@link FlowMeter}); nothing ever waits here. */
  meter?: FlowMeter;
}

const OPERATOR = 'pullFrom';

/**
 * A lossless, buffer-free source: pulls from an iterable or async iterable only as far as demand goes.
 *
 * ```
 * input:    [a, b, c, d]
 * demand$:  --1---2-----2--
 * output:   --a---(bc)--(d|)
 * ```
 *
 * The end of the input is found by asking the iterator for one more value, so completion comes with
 * the first unit of demand after the last value (above, the second unit of the last grant).
 *
 * The iterator's `next()` is called only while demand is outstanding, and an async iterator never
 * has more than one `next()` pending (no read-ahead). Each value is emitted as it comes and takes one
 * unit of demand. The output completes when the iterator is done and errors when it throws or
 * rejects (or answers `next()` with something that is not an object: a `TypeError`). On
 * unsubscribe, or when something downstream errors, the iterator's `return()` is called exactly once,
 * so a generator's `finally`, a file handle or a database cursor is released; not when the iterator
 * itself threw or finished, since it is already done.
 *
 * Node.js Readable streams are async iterables: pulling from one keeps the stream's own backpressure
 * (it reads no further than its `highWaterMark` ahead of what was pulled). On cancel such a stream is
 * destroyed as well (its iterator may ignore `return()` while a read is pending). A readline
 * `Interface` is closed and its `input` stream destroyed: readline never destroys its input itself,
 * so without this `createInterface({ input: createReadStream(path) })` would keep the file open.
 *
 * Demand values are checked as in {@link pullFeedback}: negative, `NaN` or fractional demand errors the
 * output with a `RangeError`. `demand$` is subscribed first; its error errors the output. When
 * `demand$` completes no more demand can come: once the outstanding demand is used (at once if there
 * is none; never if it is `Infinity`), the iterator is released and the output completes, as `take`
 * would.
 *
 * ## Example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { pullFrom } from 'rxjs-backpressure';
 *
 * const ready$ = new Subject<number>();
 * pullFrom(db.cursor('SELECT * FROM events'), ready$, { initialDemand: 10 }).subscribe(async (row) => {
 *   await index(row);
 *   ready$.next(1);
 * });
 * ```
 *
 * @see {@link pullMap} for the whole loop (pull, work with bounded concurrency, pull again) in one call.
 * @param input An `Iterable` or `AsyncIterable` (arrays, generators, async generators, Node Readables).
 * @param demand$ Grants of demand.
 * @param options `initialDemand` (default 0).
 * @return An Observable of the input's values, pulled on demand.
 */
export function pullFrom<T>(
  input: PullInput<T>,
  demand$: ObservableType<number>,
  options?: PullFromOptions,
): Observable<T> {
  checkPullInput(OPERATOR, input);
  check.observable(OPERATOR, 'demand$', demand$);
  check.options(OPERATOR, options, ['initialDemand', 'meter']);
  const { initialDemand = 0, meter } = options ?? {};
  checkMeter(OPERATOR, meter);
  check.nonNegativeIntegerOrInfinity(OPERATOR, 'initialDemand', initialDemand);

  return new Observable<T>((destination) => {
    const probe = meter ? attachMeter(meter, {}) : undefined;
    // Detached however the subscription ends, even if the input's iterator cannot be made.
    destination.add(() => probe?.detach());
    const puller = new Puller<T>(OPERATOR, input, {
      next: (value) => {
        if (probe) {
          probe.received();
          probe.released(0);
        }
        destination.next(value);
      },
      complete: () => {
        destination.complete();
      },
      error: (err) => {
        destination.error(err);
      },
    });
    destination.add(() => {
      puller.cancel();
    });
    /** `initialDemand` counts even when `demand$` completes at once, so an early end waits for it. */
    let started = false;
    let endedEarly = false;
    const demandEndedEarly = (): boolean => endedEarly;
    subscribeToDemand(
      OPERATOR,
      demand$,
      destination,
      (n) => {
        puller.request(n);
      },
      (err) => {
        destination.error(err);
      },
      () => {
        if (started) puller.endRequests();
        else endedEarly = true;
      },
    );
    started = true;
    if (!destination.closed && initialDemand > 0) puller.request(initialDemand);
    if (demandEndedEarly()) puller.endRequests();
  });
}
