import { asyncScheduler } from 'rxjs';
import { isThenable } from '../internal/is.js';
import { ManualTimeScheduler, type ManualTimeSchedulerOptions } from './ManualTimeScheduler.js';

/** Options for {@link withVirtualTime}. */
export interface VirtualTimeOptions extends ManualTimeSchedulerOptions {
  /**
   * The virtual clock's initial value in ms.
   * @default 0
   */
  startTime?: number;
}

/**
 * Marks `asyncScheduler` while it is patched. A registered symbol, so that two copies of this library
 * in one process (an ESM and a CommonJS build, say) still see each other's patch.
 */
const ACTIVE = Symbol.for('rxjs-backpressure.withVirtualTime.active');

const PATCHED_KEYS = ['now', 'schedule'] as const;

/** Points `asyncScheduler` at `scheduler`; returns a function that puts back exactly what was there. */
function patchAsyncScheduler(scheduler: ManualTimeScheduler): () => void {
  const target: object = asyncScheduler;
  const saved = PATCHED_KEYS.map((key) => [key, Object.getOwnPropertyDescriptor(target, key)] as const);
  const replacements: Record<(typeof PATCHED_KEYS)[number], unknown> = {
    now: () => scheduler.now(),
    schedule: (...args: Parameters<ManualTimeScheduler['schedule']>) => scheduler.schedule(...args),
  };
  for (const key of PATCHED_KEYS) {
    Object.defineProperty(target, key, {
      value: replacements[key],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Object.defineProperty(target, ACTIVE, { value: true, configurable: true });
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [key, descriptor] of saved) {
      if (descriptor === undefined) {
        Reflect.deleteProperty(target, key);
      } else {
        Object.defineProperty(target, key, descriptor);
      }
    }
    Reflect.deleteProperty(target, ACTIVE);
  };
}

/**
 * Runs `fn` with RxJS's own `asyncScheduler` driven by a fresh {@link ManualTimeScheduler}, so that
 * everything that uses it by default (`timer`, `interval`, `delay`, `debounceTime`, `throttleTime`,
 * `bufferTime`, `timeout`, and this library's operators when no `scheduler` is passed) waits for
 * the test to advance the clock instead of for real time.
 *
 * The real timers come back when `fn` returns or throws; if `fn` returns a promise (any thenable),
 * when that promise settles, and the promise returned here settles only after that. While a promise
 * is pending, every use of `asyncScheduler` in the process is virtual.
 *
 * Limits:
 * - Calls cannot be nested or overlap: calling `withVirtualTime` while another call is active (also
 *   one still waiting on its promise) throws an `Error`.
 * - Only `asyncScheduler` is replaced (by setting its own `now` and `schedule` properties). Timers
 *   scheduled before the call stay real, and `asapScheduler`, `queueScheduler`,
 *   `animationFrameScheduler`, `Date.now()` and `setTimeout` are untouched.
 * - Subscriptions left open when `fn` ends keep their virtual actions; they never run unless the
 *   scheduler is advanced again. Unsubscribe in the test.
 *
 * ## Example
 * ```ts
 * import { timer } from 'rxjs';
 * import { withVirtualTime } from 'rxjs-backpressure/testing';
 *
 * withVirtualTime((scheduler) => {
 *   let fired = false;
 *   timer(60_000).subscribe(() => (fired = true)); // no scheduler argument
 *   scheduler.advanceBy(59_999);
 *   expect(fired).toBe(false);
 *   scheduler.advanceBy(1);
 *   expect(fired).toBe(true);
 * });
 * ```
 *
 * @see {@link ManualTimeScheduler}
 * @param fn The test body; it receives the scheduler that now drives `asyncScheduler`.
 * @param options `startTime` (default 0) and `flushLimit` (default 1,000,000), passed to the
 *   {@link ManualTimeScheduler}.
 * @return What `fn` returns; for a promise, a promise of the same outcome that settles after the
 *   real timers are restored.
 * @throws Error when another `withVirtualTime` call is active.
 */
export function withVirtualTime<R>(
  fn: (scheduler: ManualTimeScheduler) => R,
  options: VirtualTimeOptions = {},
): R {
  if (typeof fn !== 'function') {
    throw new TypeError('withVirtualTime: `fn` must be a function');
  }
  if (Object.prototype.hasOwnProperty.call(asyncScheduler, ACTIVE)) {
    throw new Error(
      'withVirtualTime: already active. Calls cannot be nested or overlap (an async body keeps virtual ' +
        'time on until its promise settles); use the scheduler passed to the running call instead.',
    );
  }
  const { startTime = 0, ...schedulerOptions } = options;
  const scheduler = new ManualTimeScheduler(startTime, schedulerOptions);
  const restore = patchAsyncScheduler(scheduler);
  let result: R;
  try {
    result = fn(scheduler);
  } catch (error) {
    restore();
    throw error;
  }
  if (!isThenable(result)) {
    restore();
    return result;
  }
  return Promise.resolve(result).then(
    (value) => {
      restore();
      return value;
    },
    (error: unknown) => {
      restore();
      throw error;
    },
  ) as R;
}
