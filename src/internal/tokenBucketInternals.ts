import {
  asyncScheduler,
  Observable,
  type MonoTypeOperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { BufferOverflowError, RateLimitExceededError } from '../errors.js';
import type { OnDrop, OverflowStrategy } from '../types.js';
import { SubscriptionClock } from './clock.js';
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
 *
 * The clock is read through a {@link SubscriptionClock}: if it goes backwards between two reads of one
 * subscription (typically: subscribed on the real clock before `withVirtualTime` was entered, read
 * on the virtual one afterwards), the stream errors with a message that says so, waiting values
 * reported `'cleared'`, instead of waiting forever.
 */
export function createTokenBucket<T>(settings: TokenBucketSettings<T>): MonoTypeOperatorFunction<T> {
  const { operator, capacity, period, initialTokens, cost, mode, queueCapacity, overflow, onDrop } = settings;
  const scheduler = settings.scheduler ?? asyncScheduler;
  // A constant cost was checked against the capacity when the operator was created.
  const costOf = typeof cost === 'function' ? checkedCost(operator, cost, capacity) : () => cost;

  return (source) =>
    new Observable<T>((destination) => {
      // Every read of the clock goes through the guard: a clock that goes backwards (a subscription
      // made before withVirtualTime was entered) fails the stream instead of stalling it silently.
      const clock = new SubscriptionClock(operator, scheduler);
      const now = (): number => clock.now();
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

      /**
       * Fails the stream if the clock was seen going backwards. A read that sees it returns NaN, so
       * canRelease said no; the engine then queued or dropped the value and, after draining, always
       * calls `blocked` or `idle`, which call this: failing through the queue reports every waiting
       * value (the arriving one included) as 'cleared'.
       */
      const failedClock = (): boolean => {
        if (clock.error === undefined) return false;
        queue.fail(clock.error);
        return true;
      };

      const queue: GatedQueue<T> = new GatedQueue<T>(
        destination,
        {
          operator,
          capacity: queueCapacity,
          overflow,
          onDrop,
          dropReason: mode === 'police' ? 'rejected' : 'overflow',
          overflowError: (value, c) => {
            // A clock that went backwards explains the refusal better than the limit does.
            now();
            return (
              clock.error ??
              (mode === 'police'
                ? new RateLimitExceededError(value, c, available(), operator)
                : new BufferOverflowError(queueCapacity, value, operator))
            );
          },
        },
        {
          cost: costOf,
          canRelease: (c) => {
            // NaN when the clock went backwards: the comparison is false and the value waits.
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
            if (failedClock()) return;
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
            failedClock();
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
