import { Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import type { OnDrop, OverflowStrategy } from '../types.js';
import { GatedQueue } from './GatedQueue.js';
import { OperatorSubscriber } from './OperatorSubscriber.js';
import { toObservable } from './toObservable.js';
import * as check from './validate.js';

/** Options shared by `bufferFixed`, `bufferDropping`, `bufferSliding` and `bufferBounded`. */
export interface BufferOptions<T> {
  /**
   * How many `project` inners may run at once. A positive integer or `Infinity`.
   * @default 1
   */
  concurrency?: number;
  /** Called once for every value that is discarded, with the reason (`'overflow'` or `'cleared'`). */
  onDrop?: OnDrop<T>;
  /**
   * When the source errors: `false` sends the error at once (waiting values are reported
   * `'cleared'`); `true` works off the queue and the running inners first, then sends it.
   * @default false
   */
  delayError?: boolean;
}

/** The keys of {@link BufferOptions}. */
export const BUFFER_OPTION_KEYS: readonly string[] = ['concurrency', 'onDrop', 'delayError'];

/** A bounded buffer in front of async work, with the overflow strategy given by the operator. */
export function createBufferOperator<T, R>(
  operator: string,
  capacity: number,
  project: (value: T, index: number) => ObservableInput<R>,
  options: BufferOptions<T> | undefined,
  overflow: OverflowStrategy,
  knownKeys: readonly string[] = BUFFER_OPTION_KEYS,
): OperatorFunction<T, R> {
  check.nonNegativeIntegerOrInfinity(operator, 'capacity', capacity);
  check.isFunction(operator, 'project', project);
  check.options(operator, options, knownKeys);
  const { concurrency = 1, onDrop, delayError = false } = options ?? {};
  check.positiveIntegerOrInfinity(operator, 'concurrency', concurrency);
  check.optionalFunction(operator, 'onDrop', onDrop);
  check.optionalBoolean(operator, 'delayError', delayError);

  return (source) =>
    new Observable<R>((destination) => {
      let active = 0;
      const queue: GatedQueue<T> = new GatedQueue<T>(
        destination,
        { operator, capacity, overflow, onDrop, delayError },
        {
          canRelease: () => active < concurrency,
          busy: () => active > 0,
          admit: () => {
            active++;
          },
          release: (value, index) => {
            toObservable(operator, project(value, index)).subscribe(
              new OperatorSubscriber<R>(destination, {
                next: (result) => {
                  destination.next(result);
                },
                error: (err) => {
                  queue.fail(err);
                },
                complete: () => {
                  active--;
                  queue.drain();
                },
              }),
            );
          },
        },
      );
      queue.subscribeTo(source);
    });
}
