import { asyncScheduler, Observable, type ObservableInput } from 'rxjs';
import { Demand, subscribeToDemand } from '../internal/demand.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import type { OnInnerError } from '../internal/bufferInternals.js';
import { checkLimit, watchLimit } from '../internal/limits.js';
import { attachMeter, checkMeter, type FlowMeter } from '../monitoring/FlowMeter.js';
import { isAdaptiveConcurrency, type AdaptiveConcurrency } from '../adaptive/adaptiveConcurrency.js';
import { checkPullInput, Puller, type PullInput } from '../internal/puller.js';
import { RingQueue } from '../internal/RingQueue.js';
import { toObservable } from '../internal/toObservable.js';
import * as check from '../internal/validate.js';

/** Options of {@link pullMap}. */
export interface PullMapOptions<T = never, R = never> {
  /**
   * Values being worked on at once: pulled from the input and not yet fully delivered downstream.
   * A positive integer or `Infinity`, or an Observable of them that changes the limit while the
   * stream runs (it must emit at once on subscription): raising it pulls more at once, lowering it
   * never cancels running work (a freed slot pulls again only below the new limit).
   * @default 1
   */
  concurrency?: number | Observable<number> | AdaptiveConcurrency;
  /**
   * What failed work does: `'error'` errors the output; `'continue'` swallows the error, frees the
   * slot and goes on; a function `(error, value) => fallback` emits the fallback's values in place of
   * the failed work's (if the fallback errors, the output errors). A throwing `project` errors the
   * output whatever this says.
   * @default 'error'
   */
  onError?: OnInnerError<T, R>;
  /**
   * Counts what flows through this operator (see {@link FlowMeter}): values pulled (received and
   * released to `project` at once), the work running and how long it took (on the meter's scheduler).
   */
  meter?: FlowMeter;
  /**
   * `true`: results come out in input order (a result waits for those of earlier values).
   * `false`: results come out as the work produces them, like `mergeMap`.
   * @default false
   */
  ordered?: boolean;
  /**
   * Downstream demand: grants of how many more results the consumer will take. Without it, results
   * are emitted as soon as they are ready. With it, a result waits for demand, its value keeps its
   * slot until then, and a freed slot pulls the next value only while demand is outstanding, so a
   * consumer that stops asking stops the pulling at once. {@link writeTo} supplies this for you.
   */
  demand$?: Observable<number>;
}

const OPERATOR = 'pullMap';

interface Slot<R> {
  /** Results not yet emitted (ordered mode, created on the first result; unordered results go to the shared queue). */
  results: RingQueue<R> | undefined;
  /** Results of this slot not yet emitted (unordered mode). */
  pending: number;
  done: boolean;
}

/**
 * The feedback loop in one call: pull a value from an iterable or async iterable, run async work on
 * it with at most `concurrency` values in flight, and pull the next value only when a slot frees.
 *
 * ```
 * input:    [a, b, c]                       (pulled one at a time, never ahead)
 * project:  each value takes 3 frames ("---(x|)")
 * pullMap(input, project, { concurrency: 1 })
 * output:   ---A--B--(C|)
 * ```
 *
 * Nothing is read ahead: at most `concurrency` values have been pulled and not yet fully delivered,
 * and the next `next()` is called when one of them finishes (its work completed and, when
 * `demand$` is given, its results taken downstream, with demand still outstanding: a consumer that
 * stops asking stops the pulling at once). Nothing is dropped, and memory stays bounded by
 * `concurrency` values (and the results their work has produced and not yet delivered), however
 * large or slow the input is. With `ordered: true` results come out in input order.
 *
 * The output completes when the input is done and all work is delivered. An error from the input,
 * the work (`project` throwing, returning something that is not an `ObservableInput`, or its inner
 * erroring) or `demand$` errors the output. Unsubscribing, and every error except one from the input
 * itself, calls the input iterator's `return()` (an iterator that threw or rejected is already done)
 * and tears down the running work; a Node.js stream input is destroyed, and a readline `Interface`
 * is closed and its `input` destroyed, as in {@link pullFrom}.
 *
 * When `demand$` completes, no more demand can come: once the outstanding demand is used, the
 * running work is unsubscribed, the input released and the output completes, as `take` would.
 *
 * ## Example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { createInterface } from 'node:readline';
 * import { pullMap } from 'rxjs-backpressure';
 *
 * const lines = createInterface({ input: createReadStream('urls.txt'), crlfDelay: Infinity });
 * // Four downloads at a time; the next line is read only when one finishes.
 * pullMap(lines, (url) => fetch(url).then((r) => r.status), { concurrency: 4 }).subscribe(console.log);
 * ```
 *
 * @see {@link writeTo} to end such a pipeline in a Node.js Writable, honouring its backpressure.
 * @param input An `Iterable` or `AsyncIterable` (arrays, generators, async generators, Node Readables).
 * @param project The async work per value; returns any `ObservableInput`. `index` counts input values.
 * @param options `concurrency` (default 1), `ordered` (default false), `demand$`, `onError` (default
 *   `'error'`).
 * @return An Observable of the results.
 */
export function pullMap<T, R>(
  input: PullInput<T>,
  project: (value: T, index: number) => ObservableInput<R>,
  options?: PullMapOptions<NoInfer<T>, NoInfer<R>>,
): Observable<R> {
  checkPullInput(OPERATOR, input);
  check.isFunction(OPERATOR, 'project', project);
  check.options(OPERATOR, options, ['concurrency', 'ordered', 'demand$', 'onError', 'meter']);
  const { concurrency = 1, ordered = false, demand$, onError = 'error', meter } = options ?? {};
  const adaptive = isAdaptiveConcurrency(concurrency) ? concurrency : undefined;
  if (!adaptive) checkLimit(OPERATOR, 'concurrency', concurrency, check.positiveIntegerOrInfinity);
  check.onInnerError(OPERATOR, onError);
  checkMeter(OPERATOR, meter);
  check.optionalBoolean(OPERATOR, 'ordered', ordered);
  if (demand$ !== undefined) check.observable(OPERATOR, 'demand$', demand$);

  return new Observable<R>((destination) => {
    const demand = new Demand(demand$ ? 0 : Infinity);
    /** Slots in pull order (ordered mode only). */
    const slots = new RingQueue<Slot<R>>();
    /** Ready results and their slots, in the order they were produced (unordered mode only). */
    const readyValues = new RingQueue<R>();
    const readySlots = new RingQueue<Slot<R>>();
    let active = 0;
    let index = 0;
    let inputDone = false;
    let emitting = false;
    let closed = false;
    /** Read through a call: emitting can close the output, which flow analysis cannot see. */
    const isClosed = (): boolean => closed;

    const fail = (err: unknown): void => {
      if (closed) return;
      closed = true;
      destination.error(err);
    };

    /** Pulls owed to freed slots while downstream demand was exhausted (only with `demand$`). */
    let owedPulls = 0;
    /** Values asked of the input and not yet delivered by it. */
    let pulling = 0;
    /** The concurrency limit in force. */
    let limit = 1;
    const probe = meter ? attachMeter(meter, { concurrency: () => limit }) : undefined;
    // Detached however the subscription ends, even if the input's iterator cannot be made.
    destination.add(() => probe?.detach());
    const controller = adaptive?.controller();
    /** Pulls as many values as free slots allow (or owes them while downstream demand is exhausted). */
    const topUp = (): void => {
      const room = limit - active - pulling - owedPulls;
      if (!(room > 0)) {
        // A lowered limit: forget pulls owed beyond it (nothing pulled is ever dropped).
        if (room < 0) owedPulls = Math.max(0, owedPulls + room);
        return;
      }
      // With downstream demand, a freed slot pulls only while the consumer still asks for results:
      // a consumer that stops asking (writeTo waiting for 'drain') stops the pulling at once.
      if (demand.available) {
        pulling += room;
        puller.request(room);
      } else {
        owedPulls += room;
      }
    };
    const freeSlot = (): void => {
      active--;
      topUp();
    };

    /** Emits what demand allows and frees finished slots, in one iterative loop. */
    const flush = (): void => {
      if (emitting || closed) return;
      emitting = true;
      for (;;) {
        if (isClosed()) break;
        if (ordered) {
          if (slots.length === 0) break;
          const head = slots.peek();
          if (head.results !== undefined && head.results.length > 0) {
            if (!demand.available) break;
            demand.take();
            destination.next(head.results.shift());
          } else if (head.done) {
            slots.shift();
            freeSlot();
          } else {
            break;
          }
        } else {
          if (readyValues.length === 0 || !demand.available) break;
          const value = readyValues.shift();
          const slot = readySlots.shift();
          slot.pending--;
          demand.take();
          destination.next(value);
          if (slot.done && slot.pending === 0) freeSlot();
        }
      }
      emitting = false;
      // Done: the input is done and everything delivered, or the consumer will ask for nothing more
      // (`demand$` completed and its demand is spent), in which case the running work is cancelled.
      if (!isClosed() && ((inputDone && active === 0) || demand.spent)) {
        closed = true;
        destination.complete();
      }
    };

    const start = (value: T): void => {
      pulling--;
      active++;
      if (probe) {
        probe.received();
        probe.released(0);
      }
      const slot: Slot<R> = { results: undefined, pending: 0, done: false };
      if (ordered) slots.push(slot);
      let work: Observable<R>;
      try {
        work = toObservable(OPERATOR, project(value, index++));
      } catch (err) {
        fail(err);
        return;
      }
      run(work, slot, value, onError);
    };

    /** Runs a value's work (or, after it failed, its fallback) in the value's slot. */
    const run = (work: Observable<R>, slot: Slot<R>, value: T, whenFailed: OnInnerError<T, R>): void => {
      const startedAt = probe ? probe.now() : 0;
      // An adaptive limit samples the work's calls (on the default scheduler), not fallbacks.
      const sampledAt = controller && whenFailed === onError ? asyncScheduler.now() : NaN;
      const inflight = active;
      probe?.started();
      const finish = (): void => {
        slot.done = true;
        if (!ordered && slot.pending === 0) freeSlot();
        flush();
      };
      work.subscribe(
        new OperatorSubscriber<R>(destination, {
          next: (result) => {
            if (ordered) {
              (slot.results ??= new RingQueue<R>()).push(result);
            } else {
              slot.pending++;
              readyValues.push(result);
              readySlots.push(slot);
            }
            flush();
          },
          error: (err) => {
            probe?.ended(probe.now() - startedAt, 'failed');
            if (controller && !Number.isNaN(sampledAt))
              controller.sample(asyncScheduler.now() - sampledAt, inflight, true);
            if (whenFailed === 'error') {
              fail(err);
            } else if (whenFailed === 'continue') {
              finish();
            } else {
              let fallback: Observable<R>;
              try {
                fallback = toObservable(OPERATOR, whenFailed(err, value), '`onError`');
              } catch (thrown) {
                fail(thrown);
                return;
              }
              // A failing fallback errors the output.
              run(fallback, slot, value, 'error');
            }
          },
          complete: () => {
            probe?.ended(probe.now() - startedAt, 'completed');
            if (controller && !Number.isNaN(sampledAt)) {
              controller.sample(asyncScheduler.now() - sampledAt, inflight, false);
            }
            finish();
          },
        }),
      );
    };

    const puller = new Puller<T>(OPERATOR, input, {
      next: start,
      complete: () => {
        inputDone = true;
        flush();
      },
      error: fail,
    });
    destination.add(() => {
      closed = true;
      puller.cancel();
    });

    if (demand$) {
      subscribeToDemand(
        OPERATOR,
        demand$,
        destination,
        (n) => {
          demand.grant(n);
          if (owedPulls > 0 && demand.available) {
            const owed = owedPulls;
            owedPulls = 0;
            pulling += owed;
            puller.request(owed);
          }
          flush();
        },
        fail,
        () => {
          demand.end();
          flush();
        },
      );
    }
    if (isClosed()) return;
    const initial = controller
      ? controller.limit
      : watchLimit(
          OPERATOR,
          'concurrency',
          concurrency as number | Observable<number>,
          check.positiveIntegerOrInfinity,
          destination,
          (n) => {
            limit = n;
            topUp();
          },
          fail,
        );
    if (initial === undefined) return;
    limit = initial;
    controller?.listen((n) => {
      limit = n;
      topUp();
    });
    // The first pulls do not wait for downstream demand: the work may start before results are asked for.
    pulling += limit;
    puller.request(limit);
  });
}
