import {
  asyncScheduler,
  Observable,
  type MonoTypeOperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { BufferOverflowError, RateLimitExceededError } from '../errors.js';
import type { DropDetail, OnDrop, OverflowStrategy } from '../types.js';
import { SubscriptionClock } from './clock.js';
import { attachMeter, type FlowMeter } from '../monitoring/FlowMeter.js';
import { GatedQueue } from './GatedQueue.js';
import { watchLimit, type Limit, type LimitCheck } from './limits.js';
import * as check from './validate.js';
import { describe } from './validate.js';

/**
 * Differences below this many milliseconds are rounding, not time. Whole-millisecond parameters
 * produce whole-millisecond arithmetic, which this never changes.
 */
const EPSILON_MS = 1e-6;

/** A token bucket, validated as far as creation allows, with defaults applied. */
export interface TokenBucketSettings<T> {
  operator: string;
  /** Bucket size: the largest burst, in tokens. */
  capacity: Limit;
  /** Tokens accrued per `interval`. */
  tokensPerInterval: Limit;
  /** Milliseconds over which `tokensPerInterval` tokens accrue (0: refill at once). */
  interval: Limit;
  /**
   * How a change of rate applies: `'rescale'` (tokenBucket) keeps the tokens accrued so far and
   * accrues at the new rate from then on; `'shift'` (leakyBucket) makes the next release due one new
   * interval after the previous one.
   */
  rateChange: 'rescale' | 'shift';
  /** Tokens at subscription; `undefined`: full. */
  initialTokens: number | undefined;
  cost: number | ((value: T) => number);
  mode: 'shape' | 'police';
  /** Values allowed to wait (shape mode; 0 in police mode). */
  queueCapacity: Limit;
  overflow: OverflowStrategy;
  /** The longest a value may wait (shape mode). */
  ttl: number;
  scheduler: SchedulerLike | undefined;
  onDrop: OnDrop<T> | undefined;
  meter: FlowMeter | undefined;
}

/** Milliseconds per token; a RangeError when the parameters make it, or a full bucket's worth, overflow. */
export function tokenPeriod(
  operator: string,
  interval: number,
  tokensPerInterval: number,
  capacity: number,
): number {
  const period = interval / tokensPerInterval;
  if (!Number.isFinite(period) || !Number.isFinite(period * capacity)) {
    throw new RangeError(
      `${operator}: the token period (\`interval\` / \`tokensPerInterval\` = ${String(interval)} / ${String(tokensPerInterval)}) times \`capacity\` ${String(capacity)} must be finite`,
    );
  }
  return period;
}

/** The RangeError for a constant `cost` above `capacity`. */
export function costAboveCapacity(operator: string, cost: number, capacity: number): RangeError {
  return new RangeError(
    `${operator}: \`cost\` ${String(cost)} exceeds \`capacity\` ${String(capacity)}: no value could ever pass`,
  );
}

/** A bucket's rate limits as they are now, with the token period they make. */
export interface BucketLimits {
  capacity: number;
  tokensPerInterval: number;
  interval: number;
  /** Milliseconds per token (`interval / tokensPerInterval`). */
  period: number;
}

/**
 * Reads a bucket's limits before the source is subscribed: `capacity`, `tokensPerInterval`,
 * `interval` and `queueCapacity`, each a number or an Observable (subscribed for the life of
 * `destination`; see `watchLimit`). Returns the first values, or undefined when the stream has already
 * failed (a bad first value, or a period that overflows: sent to `destination`).
 *
 * A later change of a rate limit calls `retune` with all the limits as they are then, the period
 * recomputed and checked (a combination that overflows fails the stream through `fail` instead), and
 * the `queueCapacity` stream calls `queueCapacityChanged`.
 */
export function watchBucketLimits(
  operator: string,
  settings: Pick<
    TokenBucketSettings<unknown>,
    'capacity' | 'tokensPerInterval' | 'interval' | 'queueCapacity'
  >,
  destination: Subscriber<unknown>,
  fail: (err: unknown) => void,
  retune: (next: BucketLimits) => void,
  queueCapacityChanged: (n: number) => void,
): (BucketLimits & { queueCapacity: number }) | undefined {
  const watch = (option: string, limit: Limit, limitCheck: LimitCheck, change: (n: number) => void) =>
    watchLimit(operator, option, limit, limitCheck, destination, change, fail);
  let current: BucketLimits | undefined;
  const change = (next: Omit<BucketLimits, 'period'>): void => {
    let period: number;
    try {
      period = tokenPeriod(operator, next.interval, next.tokensPerInterval, next.capacity);
    } catch (err) {
      fail(err);
      return;
    }
    current = { ...next, period };
    retune(current);
  };
  // Until the first values are all in, `current` is undefined and nothing is retuned.
  const c0 = watch('capacity', settings.capacity, check.finitePositive, (n) => {
    if (current) change({ ...current, capacity: n });
  });
  if (c0 === undefined) return undefined;
  const r0 = watch('tokensPerInterval', settings.tokensPerInterval, check.finitePositive, (n) => {
    if (current) change({ ...current, tokensPerInterval: n });
  });
  if (r0 === undefined) return undefined;
  const i0 = watch('interval', settings.interval, check.finiteNonNegative, (n) => {
    if (current) change({ ...current, interval: n });
  });
  if (i0 === undefined) return undefined;
  const q0 = watch(
    'queueCapacity',
    settings.queueCapacity,
    check.nonNegativeIntegerOrInfinity,
    queueCapacityChanged,
  );
  if (q0 === undefined) return undefined;
  let period: number;
  try {
    period = tokenPeriod(operator, i0, r0, c0);
  } catch (err) {
    destination.error(err);
    return undefined;
  }
  current = { capacity: c0, tokensPerInterval: r0, interval: i0, period };
  return { ...current, queueCapacity: q0 };
}

/**
 * After `capacity` changed: waiting values whose cost is now above it can never pass, so the first
 * is rejected and the stream fails (see `GatedQueue.rejectCostAbove`). A constant `cost` above the
 * new capacity fails the stream even when nothing waits: no value could ever pass (as at creation).
 */
export function rejectCostAboveCapacity<T>(
  queue: GatedQueue<T>,
  operator: string,
  cost: number | ((value: T) => number),
  capacity: number,
): void {
  if (typeof cost === 'number' && cost > capacity) {
    // Every waiting value has this cost: the first is rejected, the rest cleared.
    if (!queue.rejectCostAbove(capacity, () => costAboveCapacity(operator, cost, capacity))) {
      queue.fail(costAboveCapacity(operator, cost, capacity));
    }
  } else {
    queue.rejectCostAbove(capacity, (_value, c) => tooExpensive(operator, c, capacity));
  }
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
 * A limit given as an Observable changes the parameters at the instant it emits: the tokens held
 * then are computed with the old parameters and `fullAt` recomputed from them with the new ones (see
 * `rateChange`), so nothing drifts however often they change.
 *
 * While values wait there is exactly one scheduled action, due when the head's tokens will have
 * accrued; none while nothing waits (plus the engine's one expiry action with a finite `ttl`).
 *
 * The clock is read through a {@link SubscriptionClock}: if it goes backwards between two reads of one
 * subscription (typically: subscribed on the real clock before `withVirtualTime` was entered, read
 * on the virtual one afterwards), the stream errors with a message that says so, waiting values
 * reported `'cleared'`, instead of waiting forever.
 */
export function createTokenBucket<T>(settings: TokenBucketSettings<T>): MonoTypeOperatorFunction<T> {
  const { operator, cost, mode, overflow, onDrop, ttl, rateChange } = settings;
  const scheduler = settings.scheduler ?? asyncScheduler;

  return (source) =>
    new Observable<T>((destination) => {
      // Every read of the clock goes through the guard: a clock that goes backwards (a subscription
      // made before withVirtualTime was entered) fails the stream instead of stalling it silently.
      const clock = new SubscriptionClock(operator, scheduler);
      const now = (): number => clock.now();
      // eslint-disable-next-line prefer-const -- assigned once the limits have been read; a failure before that goes straight downstream
      let queue: GatedQueue<T> | undefined;
      const fail = (err: unknown): void => {
        if (queue) queue.fail(err);
        else destination.error(err);
      };

      // The limits, read (and, for Observables, subscribed) before the source.
      let capacity = NaN;
      let period = NaN;
      /** Applies new parameters at the current instant (see `rateChange`). */
      const retune = (next: BucketLimits): void => {
        const t = now();
        if (rateChange === 'shift') {
          fullAt += next.period - period;
        } else {
          const held = Math.min(Math.max(0, tokensAt(t)), next.capacity);
          fullAt = t + (next.capacity - held) * next.period;
        }
        capacity = next.capacity;
        period = next.period;
        if (!queue) return;
        rejectCostAboveCapacity(queue, operator, cost, capacity);
        queue.drain();
      };
      const limits = watchBucketLimits(operator, settings, destination, fail, retune, (n) => {
        queue?.setCapacity(n);
      });
      if (limits === undefined) return;
      try {
        if (settings.initialTokens !== undefined) {
          check.numberInRange(operator, 'initialTokens', settings.initialTokens, 0, limits.capacity);
        }
        if (typeof cost === 'number' && cost > limits.capacity) {
          throw costAboveCapacity(operator, cost, limits.capacity);
        }
      } catch (err) {
        destination.error(err);
        return;
      }
      capacity = limits.capacity;
      period = limits.period;
      const q0 = limits.queueCapacity;
      const initialTokens = settings.initialTokens ?? capacity;
      const costOf = typeof cost === 'function' ? checkedCost(operator, cost, () => capacity) : () => cost;

      let fullAt = now() + (capacity - initialTokens) * period;
      /** The time read by the last canRelease. */
      let checkedAt = 0;
      /** When the head may pass. */
      const readyAt = (c: number): number => fullAt - (capacity - c) * period;
      /** Tokens held at `t`. */
      function tokensAt(t: number): number {
        return period === 0 ? capacity : capacity - Math.max(0, fullAt - t) / period;
      }
      /** A refusal at `t` of a value costing `c`: the tokens there were, and when there will be `c`. */
      const refusal = (c: number, t: number): DropDetail => ({
        cost: c,
        available: Math.max(0, tokensAt(t)),
        retryAfter: Math.max(0, readyAt(c) - t),
      });

      let timer: Subscription | undefined;
      let timerDue = NaN;
      /** The action currently running, so that it can reschedule itself instead of making a new one. */
      let running: SchedulerAction<unknown> | undefined;
      function onTimer(this: SchedulerAction<unknown>): void {
        timer = undefined;
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- the running action reschedules itself
        running = this;
        try {
          (queue as GatedQueue<T>).drain();
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
        (queue as GatedQueue<T>).fail(clock.error);
        return true;
      };

      queue = new GatedQueue<T>(
        destination,
        {
          operator,
          capacity: q0,
          overflow,
          onDrop,
          ttl,
          scheduler,
          clock,
          probe: settings.meter
            ? attachMeter(settings.meter, {
                capacity: () => (queue as GatedQueue<T>).capacityLimit,
                tokens: () => Math.max(0, tokensAt(now())),
              })
            : undefined,
          dropReason: mode === 'police' ? 'rejected' : 'overflow',
          // Police mode: the arrival was refused by the canRelease that just read the clock (NaN when
          // the clock went backwards: no detail then, the stream fails with the clock error next).
          dropDetail:
            mode === 'police'
              ? (_value, c) => (Number.isNaN(checkedAt) ? undefined : refusal(c, checkedAt))
              : undefined,
          overflowError: (value, c) => {
            // A clock that went backwards explains the refusal better than the limit does.
            const t = now();
            if (clock.error) return clock.error;
            if (mode === 'shape') return new BufferOverflowError(q0, value, operator);
            const { available, retryAfter } = refusal(c, t);
            return new RateLimitExceededError(value, c, available, operator, retryAfter);
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

/** The RangeError for a value whose cost is above `capacity`. */
export function tooExpensive(operator: string, c: number, capacity: number): RangeError {
  return new RangeError(
    `${operator}: a value costs ${String(c)} token(s) but the bucket holds at most \`capacity\` ${String(capacity)}, so it can never pass`,
  );
}

/** A `cost` function whose results are checked (a number >= 0, at most `capacity`). */
export function checkedCost<T>(
  operator: string,
  fn: (value: T) => number,
  capacity: () => number,
): (value: T) => number {
  return (value) => {
    const c: unknown = fn(value);
    if (typeof c !== 'number' || Number.isNaN(c) || c < 0) {
      throw new TypeError(`${operator}: \`cost\` must return a number >= 0, got ${describe(c)}`);
    }
    if (c > capacity()) throw tooExpensive(operator, c, capacity());
    return c;
  };
}
