import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import type { AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import { createBufferOperator, type BufferOptions } from '../internal/bufferInternals.js';

/**
 * A bounded queue in front of async work that evicts the oldest waiting value to make room
 * (core.async's sliding buffer).
 *
 * ```
 * source:   -a-b-c-d-|
 * project:  each value takes 4 frames, emitting at the end ("----(x|)")
 * bufferSliding(1, project)
 * output:   -----A---C---(D|)
 *           onDrop: b 'overflow' (evicted by c while a ran)
 * ```
 *
 * Same rules as {@link bufferBounded} with `overflow: 'drop-oldest'`. `bufferSliding(1, p)` is
 * "exhaustMap with trailing": while work runs, only the latest value waits, so the last value is
 * never lost. The `index` passed to `project` counts every source value, dropped ones included.
 *
 * ## Example
 * ```ts
 * import { bufferSliding } from 'rxjs-backpressure';
 *
 * // Save the form at most one request at a time, always ending with the latest state.
 * formChanges$.pipe(bufferSliding(1, (state) => http.put('/draft', state)));
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
export function bufferSliding<T, R>(
  capacity: number | Observable<number> | AdaptiveCapacity,
  project: (value: T, index: number) => ObservableInput<R>,
  options?: BufferOptions<NoInfer<T>, NoInfer<R>>,
): OperatorFunction<T, R> {
  return createBufferOperator('bufferSliding', capacity, project, options, { overflow: 'drop-oldest' });
}
