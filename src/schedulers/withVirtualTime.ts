import { asyncScheduler } from 'rxjs';
import { isThenable } from '../internal/is.js';
import * as check from '../internal/validate.js';
import { ManualTimeScheduler, type ManualTimeSchedulerOptions } from './ManualTimeScheduler.js';

/** Options for {@link withVirtualTime}. */
export interface VirtualTimeOptions extends ManualTimeSchedulerOptions {
  /**
   * The virtual clock's initial value in ms.
   * @default 0
   */
  startTime?: number;
}

const NAME = 'withVirtualTime';
const OPTION_KEYS: readonly (keyof VirtualTimeOptions)[] = ['startTime', 'flushLimit'];

/**
 * Marks `asyncScheduler` while it is patched; its value is the active call's restore function. A
 * registered symbol, so that two copies of this library in one process (an ESM and a CommonJS build,
 * say) see each other's patch, and `resetVirtualTime` from either copy can undo it.
 */
const ACTIVE = Symbol.for('rxjs-backpressure.withVirtualTime.active');

const PATCHED_KEYS = ['now', 'schedule'] as const;

/** The patch marker on `asyncScheduler`: a restore function, `undefined` when not patched. */
function activeMarker(): { value?: unknown } | undefined {
  return Object.getOwnPropertyDescriptor(asyncScheduler, ACTIVE);
}

/**
 * Points `asyncScheduler` at `scheduler`; returns a function that puts back exactly what was there.
 * The function is also the patch marker: it only undoes the patch while the marker is still itself,
 * so a call whose patch `resetVirtualTime` already undid cannot, when its promise settles later,
 * undo the patch of a newer call.
 */
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
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (activeMarker()?.value !== restore) return; // undone already; another call may be active now
    for (const [key, descriptor] of saved) {
      if (descriptor === undefined) {
        Reflect.deleteProperty(target, key);
      } else {
        Object.defineProperty(target, key, descriptor);
      }
    }
    Reflect.deleteProperty(target, ACTIVE);
  };
  Object.defineProperty(target, ACTIVE, { value: restore, configurable: true });
  return restore;
}

/**
 * Puts the real timers back if a {@link withVirtualTime} call is still active, typically one whose
 * async body awaits something that never settles (a test that timed out, or awaited before it
 * advanced the clock). Without it, that call keeps `asyncScheduler` virtual for the rest of the
 * test file: every later `withVirtualTime` throws "already active" and real timers (`timer`,
 * `delay`, ...) in later tests never fire. Call it in `afterEach`.
 *
 * The abandoned call is over: if its promise settles later, it restores nothing (it cannot undo a
 * newer call's patch), and if its body ever resumes, it runs on the real clock. Works across copies
 * of this library in one process (the patch marker is a registered symbol holding the active call's
 * restore function).
 *
 * ## Example
 * ```ts
 * import { resetVirtualTime, withVirtualTime } from 'rxjs-backpressure/testing';
 *
 * afterEach(() => {
 *   // A test that hung on an await must not leave virtual time on for the next one.
 *   resetVirtualTime();
 * });
 *
 * it('paces requests', async () => {
 *   await withVirtualTime(async (scheduler) => {
 *     // ...
 *   });
 * });
 * ```
 *
 * @see {@link withVirtualTime}
 * @return `true` if a call was active and the real timers were restored, `false` if nothing was
 *   patched.
 */
export function resetVirtualTime(): boolean {
  const restore = activeMarker()?.value;
  if (typeof restore !== 'function') return false;
  (restore as () => void)();
  return true;
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
 *   one still waiting on its promise) throws an `Error`. An async body that awaits something that
 *   never settles keeps its call active for good: put {@link resetVirtualTime} in `afterEach` so that
 *   one hung test does not break the rest of the file.
 * - Only `asyncScheduler` is replaced (by setting its own `now` and `schedule` properties). Timers
 *   scheduled before the call stay real, and `asapScheduler`, `queueScheduler`,
 *   `animationFrameScheduler`, `Date.now()` and `setTimeout` are untouched.
 * - Subscribe inside the call (create the service, `TestBed.inject` it, inside `fn`). A subscription
 *   made before it read the real clock: `tokenBucket` and `leakyBucket` notice that their clock went
 *   backwards and error with a message saying so; RxJS's own `timer`, `delay`, ... just fire on the
 *   real clock. `withVirtualTime` cannot list such timers when it is entered: RxJS's
 *   `asyncScheduler` keeps no registry of pending actions (each one holds its own `setInterval`,
 *   bound to the scheduler's `flush` when it was scheduled), and the only hook that sees them
 *   (`intervalProvider`) is RxJS internal API.
 * - Subscriptions left open when `fn` ends keep their virtual actions; they never run unless the
 *   scheduler is advanced again. Unsubscribe in the test.
 * - Arguments are checked first, with errors that name `withVirtualTime`: `fn` must be a function,
 *   `options` `undefined` or an object with only `startTime` (a finite number) and `flushLimit` (a
 *   positive integer or `Infinity`); `null` is never taken for "default".
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
 * @see {@link resetVirtualTime}
 * @param fn The test body; it receives the scheduler that now drives `asyncScheduler`.
 * @param options `startTime` (default 0) and `flushLimit` (default 1,000,000), passed to the
 *   {@link ManualTimeScheduler}.
 * @return What `fn` returns; for a promise, a promise of the same outcome that settles after the
 *   real timers are restored.
 * @throws Error when another `withVirtualTime` call is active.
 * @throws TypeError or RangeError for a bad `fn` or `options`, before anything is patched.
 */
export function withVirtualTime<R>(
  fn: (scheduler: ManualTimeScheduler) => R,
  options?: VirtualTimeOptions,
): R {
  check.isFunction(NAME, 'fn', fn);
  // Checked here, not by ManualTimeScheduler, so that the errors name the function the user called.
  check.options(NAME, options, OPTION_KEYS);
  const { startTime = 0, flushLimit } = options ?? {};
  check.finiteNumber(NAME, 'startTime', startTime);
  if (flushLimit !== undefined) check.positiveIntegerOrInfinity(NAME, 'flushLimit', flushLimit);
  if (activeMarker() !== undefined) {
    throw new Error(
      'withVirtualTime: already active. Calls cannot be nested or overlap (an async body keeps virtual ' +
        'time on until its promise settles); use the scheduler passed to the running call instead. ' +
        'If an earlier test left a call running (it awaited something that never settled), call ' +
        'resetVirtualTime() in afterEach to put the real timers back between tests.',
    );
  }
  const scheduler = new ManualTimeScheduler(startTime, { flushLimit });
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
