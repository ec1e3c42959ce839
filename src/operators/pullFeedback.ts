import { Observable, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { Demand, subscribeToDemand } from '../internal/demand.js';
import { GatedQueue } from '../internal/GatedQueue.js';
import { attachMeter, checkMeter, type FlowMeter } from '../monitoring/FlowMeter.js';
import { isAdaptiveCapacity, type AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import * as check from '../internal/validate.js';
import type { OnDrop, OverflowStrategy } from '../types.js';

/** Options of {@link pullFeedback}. */
export interface PullFeedbackOptions<T> {
  /**
   * Demand granted before `demand$` says anything: a non-negative integer or `Infinity`.
   * @default 0
   */
  initialDemand?: number;
  /**
   * Values held while there is no demand: a non-negative integer or `Infinity`, or an
   * {@link AdaptiveCapacity} (sized by how fast demand takes values).
   * @default Infinity
   */
  capacity?: number | AdaptiveCapacity;
  /**
   * What to do with a value that arrives when `capacity` values are already held.
   * @default 'drop-incoming'
   */
  overflow?: OverflowStrategy;
  /**
   * The longest a value may be held waiting for demand, in ms (a finite number >= 0, or `Infinity`).
   * A value still held after the releases of the instant `arrival + ttl` is reported `'expired'`.
   * @default Infinity
   */
  ttl?: number;
  /**
   * Where a finite `ttl` reads time and schedules its one expiry action.
   * @default asyncScheduler (virtual under `TestScheduler.run` and `withVirtualTime`)
   */
  scheduler?: SchedulerLike;
  /** Called once for every discarded value: `'overflow'`, `'expired'` or `'cleared'`. */
  onDrop?: OnDrop<T>;
  /** Counts what flows through this operator (see {@link FlowMeter}). */
  meter?: FlowMeter;
}

const OPERATOR = 'pullFeedback';

/**
 * Lets values through only as fast as the consumer asks for them.
 *
 * Each value of `demand$` grants that many more values (a non-negative integer, or `Infinity`).
 *
 * ```
 * source:   -a-b-c--------d---|
 * demand$:  ------1---3--------
 * output:   ------a---(bc)d---|
 * ```
 *
 * Outstanding demand is the sum of the grants (plus `initialDemand`) minus the values emitted. A
 * source value is emitted at once while demand is outstanding and nothing is held; otherwise it is
 * held, up to `capacity` (then `overflow` applies), and held values are emitted in arrival order as
 * demand arrives. `demand$` is subscribed before the source, so demand it grants synchronously counts
 * for a synchronous source.
 *
 * The output completes once the source has completed and nothing is held (held values still wait
 * for demand). When `demand$` completes, no more demand can come: once the outstanding demand is
 * used (at once if there is none; never if it is `Infinity`), held values are reported `'cleared'`,
 * the source is unsubscribed and the output completes, as `take` would. A source error is sent at
 * once, held values reported `'cleared'`; a `demand$` error
 * errors the output; a demand value that is negative, `NaN` or fractional errors it with a
 * `RangeError` (a non-number with a `TypeError`).
 *
 * A consumer may grant demand synchronously from inside its own `next` handler (the usual feedback
 * loop): the loop runs iteratively, however many values pass.
 *
 * ## Example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { pullFeedback } from 'rxjs-backpressure';
 *
 * const ready$ = new Subject<number>();
 * messages$.pipe(pullFeedback(ready$, { initialDemand: 1, capacity: 1000, overflow: 'drop-oldest' }))
 *   .subscribe(async (message) => {
 *     await handle(message);
 *     ready$.next(1); // ask for the next one
 *   });
 * ```
 *
 * @see {@link pullFrom} to pull from an iterable without holding anything.
 * @param demand$ Grants of demand.
 * @param options `initialDemand` (default 0), `capacity` (default Infinity), `overflow`
 *   (default `'drop-incoming'`), `onDrop`.
 * @return An operator emitting the source's values as demand allows.
 */
export function pullFeedback<T>(
  demand$: Observable<number>,
  options?: PullFeedbackOptions<NoInfer<T>>,
): MonoTypeOperatorFunction<T> {
  check.observable(OPERATOR, 'demand$', demand$);
  check.options(OPERATOR, options, [
    'initialDemand',
    'capacity',
    'overflow',
    'ttl',
    'scheduler',
    'onDrop',
    'meter',
  ]);
  const {
    initialDemand = 0,
    capacity = Infinity,
    overflow = 'drop-incoming',
    ttl = Infinity,
    scheduler,
    onDrop,
    meter,
  } = options ?? {};
  check.nonNegativeIntegerOrInfinity(OPERATOR, 'initialDemand', initialDemand);
  const sized = isAdaptiveCapacity(capacity) ? capacity : undefined;
  if (!sized) check.nonNegativeIntegerOrInfinity(OPERATOR, 'capacity', capacity);
  check.overflowStrategy(OPERATOR, overflow);
  check.nonNegativeOrInfinity(OPERATOR, 'ttl', ttl);
  check.scheduler(OPERATOR, scheduler);
  checkMeter(OPERATOR, meter);
  check.optionalFunction(OPERATOR, 'onDrop', onDrop);

  return (source) =>
    new Observable<T>((destination) => {
      const demand = new Demand(initialDemand);
      const queue: GatedQueue<T> = new GatedQueue<T>(
        destination,
        {
          operator: OPERATOR,
          capacity: sized ? 0 : (capacity as number),
          overflow,
          onDrop,
          ttl,
          scheduler,
          probe: meter ? attachMeter(meter, { capacity: () => queue.capacityLimit }) : undefined,
          estimator: sized?.estimator(),
          countReleases: true,
        },
        {
          canRelease: () => demand.available,
          admit: () => {
            demand.take();
          },
          release: (value) => {
            destination.next(value);
          },
          // Demand that can no longer come ends the output, as `take` would.
          blocked: () => {
            if (demand.spent) queue.finish();
          },
          idle: () => {
            if (demand.spent) queue.finish();
          },
        },
      );
      subscribeToDemand(
        OPERATOR,
        demand$,
        destination,
        (n) => {
          demand.grant(n);
          queue.drain();
        },
        (err) => {
          queue.fail(err);
        },
        () => {
          demand.end();
          queue.drain();
        },
      );
      if (queue.isClosed) return;
      queue.subscribeTo(source);
    });
}
