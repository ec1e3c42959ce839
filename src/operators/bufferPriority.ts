import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import type { AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import { BUFFER_OPTION_KEYS, createBufferOperator, type BufferOptions } from '../internal/bufferInternals.js';
import { isFunction, options as checkOptions } from '../internal/validate.js';

/** Options of {@link bufferPriority}: {@link BufferOptions} plus the priority of each value. */
export interface BufferPriorityOptions<T, R = never> extends BufferOptions<T, R> {
  /**
   * The priority of a value: a finite number, higher is more important. Called once per value, on
   * arrival. Required.
   */
  priority: (value: T) => number;
}

const OPERATOR = 'bufferPriority';

/**
 * A bounded queue in front of async work that starts the most important waiting value first and,
 * when full, sheds the least important.
 *
 * ```text
 * source:   abcd-----------|        priorities a: 1, b: 1, c: 2, d: 3
 * project:  each value takes 4 frames ("----(x|)")
 * bufferPriority(2, project, { priority })
 * output:   ----A---D---C--|
 *           onDrop: b 'shed' at frame 3 (d found b and c waiting; b was the oldest of the lowest priority)
 * ```
 *
 * Rules:
 * 1. A value that arrives while fewer than `concurrency` inners run, and nothing waits, goes to
 *    `project` at once.
 * 2. When a slot frees, the waiting value with the highest priority starts; among equal priorities,
 *    the one that arrived first.
 * 3. When `capacity` values wait and another arrives: if some waiting value has a strictly lower
 *    priority than the arrival, the oldest waiting value of the lowest priority is evicted and
 *    reported `'shed'`, and the arrival waits; otherwise the arrival itself is reported `'shed'`.
 *    With `capacity` 0 a value that cannot start at once is shed.
 * 4. `priority` is called once per value, on arrival. If it throws, the value is reported
 *    `'rejected'` and the output errors with the thrown error; if it returns anything but a finite
 *    number, the value is reported `'rejected'` and the output errors with a `TypeError`.
 * 5. `index` counts every source value, shed ones included. Everything else is as in
 *    {@link bufferBounded}: completion, `delayError`, `ttl` (`'expired'`), `onError`, limits that
 *    change while the stream runs, `'cleared'` on error and unsubscribe, every value passed to
 *    `project` or reported exactly once.
 *
 * Each value costs O(log n) in the number waiting (two heaps over the same entries).
 *
 * ## Example
 * ```ts
 * import { bufferPriority } from 'rxjs-backpressure';
 *
 * interface Job {
 *   kind: 'checkout' | 'analytics';
 * }
 * declare const jobs$: import('rxjs').Observable<Job>;
 * declare function send(job: Job): Promise<void>;
 *
 * // Under overload, keep checkout requests and shed analytics pings first.
 * jobs$.pipe(
 *   bufferPriority(100, send, {
 *     concurrency: 4,
 *     priority: (job) => (job.kind === 'checkout' ? 10 : 1),
 *     ttl: 5_000,
 *     onDrop: (job, reason) => console.warn('not sent', job.kind, reason),
 *   }),
 * );
 * ```
 *
 * @see {@link bufferBounded} for arrival order.
 * @param capacity Values allowed to wait: a non-negative integer or `Infinity`, or an Observable of
 *   them that changes the limit while the stream runs.
 * @param project The async work per value; returns any `ObservableInput`. `index` counts every source
 *   value.
 * @param options `priority` (required), `concurrency` (default 1), `onDrop`, `delayError` (default
 *   false), `ttl` (default Infinity), `scheduler`, `onError` (default `'error'`).
 * @return An operator emitting the projected values in the order the inners emit them.
 */
export function bufferPriority<T, R>(
  capacity: number | Observable<number> | AdaptiveCapacity,
  project: (value: T, index: number) => ObservableInput<R>,
  // `priority` may tell the value type (as `project` does); the other callbacks never do.
  options: BufferPriorityOptions<NoInfer<T>, NoInfer<R>> & { priority: (value: T) => number },
): OperatorFunction<T, R> {
  const knownKeys = [...BUFFER_OPTION_KEYS, 'priority'];
  checkOptions(OPERATOR, options, knownKeys, { required: true });
  isFunction(OPERATOR, 'priority', options.priority);
  return createBufferOperator(OPERATOR, capacity, project, options, {
    overflow: 'priority',
    rank: options.priority,
    knownKeys,
  });
}
