import type { Observable, ObservableInput, OperatorFunction } from 'rxjs';
import type { AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import { BUFFER_OPTION_KEYS, createBufferOperator, type BufferOptions } from '../internal/bufferInternals.js';
import { options as checkOptions, overflowStrategy } from '../internal/validate.js';
import type { OverflowStrategy } from '../types.js';

export type { BufferOptions, OnInnerError } from '../internal/bufferInternals.js';

/** Options of {@link bufferBounded}: {@link BufferOptions} plus the overflow strategy. */
export interface BufferBoundedOptions<T, R = never> extends BufferOptions<T, R> {
  /** What to do with a value that arrives when `capacity` values already wait. Required. */
  overflow: OverflowStrategy;
}

/**
 * A bounded queue in front of async work, with the overflow strategy of your choice.
 *
 * Like `mergeMap(project, concurrency)`, but at most `capacity` values wait for a free slot.
 *
 * ```
 * source:   -a-b-c-d-e-|
 * project:  each value takes 4 frames, emitting at the end ("----(x|)")
 * bufferBounded(2, project, { overflow: 'drop-newest-queued' })
 * output:   -----A---B---C---(E|)
 *           onDrop: d 'overflow' (evicted by e, which found c and d waiting)
 * ```
 *
 * Rules:
 * 1. A value that arrives while fewer than `concurrency` inners run, and nothing waits, goes to
 *    `project` at once.
 * 2. Otherwise it waits if fewer than `capacity` values wait (running inners do not count); else the
 *    `overflow` strategy applies. With `capacity` 0 a value that cannot start at once is dropped (or,
 *    under `'error'`, errors the stream with {@link BufferOverflowError}).
 * 3. When an inner completes, the oldest waiting value starts: values reach `project` in arrival order.
 * 4. The output completes once the source has completed, nothing waits and every inner has completed.
 * 5. A source error is sent at once, or after the queue is worked off with `delayError: true`.
 * 6. An inner error, a throwing `project` or a throwing `onDrop` errors the output and tears down.
 * 7. Every source value is passed to `project` or reported to `onDrop` exactly once: `'overflow'` when
 *    discarded, `'cleared'` when still waiting at error or unsubscribe.
 *
 * ## Example
 * ```ts
 * import { bufferBounded } from 'rxjs-backpressure';
 *
 * clicks$.pipe(
 *   bufferBounded(10, (click) => save(click), {
 *     overflow: 'drop-newest-queued',
 *     concurrency: 2,
 *     onDrop: (click, reason) => console.warn('dropped', click, reason),
 *   }),
 * );
 * ```
 *
 * @see {@link bufferFixed} (`'error'`), {@link bufferDropping} (`'drop-incoming'`),
 *   {@link bufferSliding} (`'drop-oldest'`)
 * @param capacity Values allowed to wait: a non-negative integer or `Infinity`, or an Observable of
 *   them that changes the limit while the stream runs.
 * @param project The async work per value; returns any `ObservableInput` (as with `mergeMap`).
 *   `index` counts every source value, dropped ones included.
 * @param options `overflow` (required), `concurrency` (default 1), `onDrop`, `delayError` (default
 *   false), `ttl` (default Infinity), `scheduler`, `onError` (default `'error'`).
 * @return An operator emitting the projected values in the order the inners emit them.
 */
export function bufferBounded<T, R>(
  capacity: number | Observable<number> | AdaptiveCapacity,
  project: (value: T, index: number) => ObservableInput<R>,
  options: BufferBoundedOptions<NoInfer<T>, NoInfer<R>>,
): OperatorFunction<T, R> {
  const knownKeys = [...BUFFER_OPTION_KEYS, 'overflow'];
  checkOptions('bufferBounded', options, knownKeys, { required: true });
  const overflow = overflowStrategy('bufferBounded', options.overflow);
  return createBufferOperator('bufferBounded', capacity, project, options, { overflow, knownKeys });
}
