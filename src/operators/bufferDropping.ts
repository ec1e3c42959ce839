import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import type { AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import { createBufferOperator, type BufferOptions } from '../internal/bufferInternals.js';

/**
 * A bounded queue in front of async work that drops arriving values when it is full
 * (core.async's dropping buffer).
 *
 * ```
 * source:   -a-b-c-d-|
 * project:  each value takes 4 frames, emitting at the end ("----(x|)")
 * bufferDropping(1, project)
 * output:   -----A---B---(D|)
 *           onDrop: c 'overflow' (it arrived while a ran and b waited)
 * ```
 *
 * Same rules as {@link bufferBounded} with `overflow: 'drop-incoming'`. `bufferDropping(0, p)`
 * behaves as `exhaustMap(p)`, with the ignored values reported; one difference: the `index` passed
 * to `project` counts every source value, dropped ones included (`exhaustMap`'s counts only the
 * values it projects).
 *
 * ## Example
 * ```ts
 * import { bufferDropping } from 'rxjs-backpressure';
 *
 * // Keep the first 50 waiting search requests; count the rest.
 * let dropped = 0;
 * queries$.pipe(bufferDropping(50, (q) => search(q), { onDrop: () => dropped++ }));
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
export function bufferDropping<T, R>(
  capacity: number | Observable<number> | AdaptiveCapacity,
  project: (value: T, index: number) => ObservableInput<R>,
  options?: BufferOptions<NoInfer<T>, NoInfer<R>>,
): OperatorFunction<T, R> {
  return createBufferOperator('bufferDropping', capacity, project, options, { overflow: 'drop-incoming' });
}
