import {
  asyncScheduler,
  Observable,
  type MonoTypeOperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { RateLimitExceededError } from '../errors.js';
import type { OnDrop, OverflowStrategy } from '../types.js';
import { GatedQueue } from './GatedQueue.js';
import { describe } from './validate.js';

/**
 * Differences below this many milliseconds are rounding, not time. Whole-millisecond parameters
 * produce whole-millisecond arithmetic, which this never changes.
 */
const EPSILON_MS = 1e-6;

/** A token bucket, fully validated and with defaults applied. */
export interface TokenBucketSettings<T> {
  operator: string;
  /** Bucket size: the largest burst, in tokens. */
  capacity: number;
  /** Milliseconds per token (`interval / tokensPerInterval`); 0 refills instantly. */
  period: number;
  initialTokens: number;
  cost: number | ((value: T) => number);
  mode: 'shape' | 'police';
  /** Values allowed to wait (shape mode; 0 in police mode). */
  queueCapacity: number;
  overflow: OverflowStrategy;
  scheduler: SchedulerLike | undefined;
  onDrop: OnDrop<T> | undefined;
}

/**
 * The token bucket that `tokenBucket` and `leakyBucket` share, as a gate on the library's queue.
 *
 * Tokens are not counted but derived from one number, `fullAt`: the instant at which the bucket will
 * be full again (the "theoretical arrival time" of the generic cell rate algorithm). At time `t` the
 * bucket holds `capacity - max(0, fullAt - t) / period` tokens; a value of cost `c` may pass when
 * `fullAt - t <= (capacity - c) * period`, and passing moves `fullAt` to `max(fullAt, t) + c * period`.
 * Every emission time is therefore computed from `scheduler.now()` and the parameters, never by adding
 * up timer intervals, and with a whole-millisecond period every quantity stays a whole number.
 *
 * While values wait there is exactly one scheduled action, due when the head's tokens will have
 * accrued; none while nothing waits.
 */
export function createTokenBucket<T>(settings: TokenBucketSettings<T>): MonoTypeOperatorFunction<T> {
  const { operator, capacity, period, initialTokens, cost, mode, queueCapacity, overflow, onDrop } = settings;
  const scheduler = settings.scheduler ?? asyncScheduler;
  // A constant cost was checked against the capacity when the operator was created.
  const costOf = typeof cost === 'function' ? checkedCost(operator, cost, capacity) : () => cost;

  return (source) =>
    new Observable<T>((destination) => {
      const now = (): number => scheduler.now();
      let fullAt = now() + (capacity - initialTokens) * period;
      /** The time read by the last canRelease. */
      let checkedAt = 0;
      /** When the head may pass. */
      const readyAt = (c: number): number => fullAt - (capacity - c) * period;
      const available = (): number =>
        period === 0 ? capacity : capacity - Math.max(0, fullAt - now()) / period;

      let timer: Subscription | undefined;
      let timerDue = NaN;
      /** The action currently running, so that it can reschedule itself instead of making a new one. */
      let running: SchedulerAction<unknown> | undefined;
      function onTimer(this: SchedulerAction<unknown>): void {
        timer = undefined;
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- the running action reschedules itself
        running = this;
        try {
          queue.drain();
        } finally {
          running = undefined;
        }
      }
      destination.add(() => {
        timer?.unsubscribe();
        timer = undefined;
      });

      const queue: GatedQueue<T> = new GatedQueue<T>(
        destination,
        {
          operator,
          capacity: queueCapacity,
          overflow,
          onDrop,
          dropReason: mode === 'police' ? 'rejected' : 'overflow',
          overflowError:
            mode === 'police'
              ? (value, c) => new RateLimitExceededError(value, c, available(), operator)
              : undefined,
        },
        {
          cost: costOf,
          canRelease: (c) => {
            checkedAt = now();
            return readyAt(c) - checkedAt <= EPSILON_MS;
          },
          // The engine admits right after a successful canRelease, so the clock is read once per value.
          admit: (c) => {
            fullAt = Math.max(fullAt, checkedAt) + c * period;
          },
          release: (value) => {
            destination.next(value);
          },
          blocked: (c) => {
            const due = readyAt(c);
            if (timer && timerDue === due) return;
            timer?.unsubscribe();
            timerDue = due;
            const delay = Math.max(0, due - now());
            if (running) {
              timer = running.schedule(undefined, delay);
            } else {
              timer = scheduler.schedule(onTimer, delay);
            }
          },
          idle: () => {
            if (timer) {
              timer.unsubscribe();
              timer = undefined;
            }
          },
        },
      );

      queue.subscribeTo(source);
    });
}

function tooExpensive(operator: string, c: number, capacity: number): RangeError {
  return new RangeError(
    `${operator}: a value costs ${String(c)} token(s) but the bucket holds at most \`capacity\` ${String(capacity)}, so it can never pass`,
  );
}

function checkedCost<T>(operator: string, fn: (value: T) => number, capacity: number): (value: T) => number {
  return (value) => {
    const c: unknown = fn(value);
    if (typeof c !== 'number' || Number.isNaN(c) || c < 0) {
      throw new TypeError(`${operator}: \`cost\` must return a number >= 0, got ${describe(c)}`);
    }
    if (c > capacity) throw tooExpensive(operator, c, capacity);
    return c;
  };
}
