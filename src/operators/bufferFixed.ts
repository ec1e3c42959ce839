import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import type { AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import { createBufferOperator, type BufferOptions } from '../internal/bufferInternals.js';

/**
 * A bounded queue in front of async work that errors when it overflows (core.async's fixed buffer,
 * where a full buffer would block the producer; RxJS cannot block a push, so it fails loudly).
 *
 * ```
 * source:   -a-b-c-d-|
 * project:  each value takes 4 frames, emitting at the end ("----(x|)")
 * bufferFixed(1, project)
 * output:   -----#              BufferOverflowError: c arrived while b waited
 *           onDrop: c 'overflow', then b 'cleared'
 * ```
 *
 * Same rules as {@link bufferBounded} with `overflow: 'error'`: the arriving value is reported
 * `'overflow'`, the waiting ones `'cleared'`, then a {@link BufferOverflowError} (with `capacity` and
 * `value`) is sent. `bufferFixed(Infinity, p)` behaves as `concatMap(p)`, but drains a backlog of any
 * size without recursion.
 *
 * ## Example
 * ```ts
 * import { bufferFixed } from 'rxjs-backpressure';
 *
 * // At most 100 requests may wait for the 4 upload slots; more than that is a bug worth hearing about.
 * files$.pipe(bufferFixed(100, (file) => upload(file), { concurrency: 4 }));
 * ```
 *
 * @see {@link bufferBounded}
 * @param capacity Values allowed to wait: a non-negative integer or `Infinity`, or an Observable of
 *   them (see {@link BufferOptions.concurrency} for how a change applies).
 * @param project The async work per value (any `ObservableInput`); `index` counts every source value.
 * @param options `concurrency` (default 1), `onDrop`, `delayError` (default false), `ttl` (default
 *   Infinity), `scheduler`, `onError` (default `'error'`).
 * @return An operator emitting the projected values in the order the inners emit them.
 */
export function bufferFixed<T, R>(
  capacity: number | Observable<number> | AdaptiveCapacity,
  project: (value: T, index: number) => ObservableInput<R>,
  options?: BufferOptions<NoInfer<T>, NoInfer<R>>,
): OperatorFunction<T, R> {
  return createBufferOperator('bufferFixed', capacity, project, options, { overflow: 'error' });
}
