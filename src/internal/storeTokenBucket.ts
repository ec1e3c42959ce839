import {
  asyncScheduler,
  Observable,
  Subscriber,
  tap,
  type MonoTypeOperatorFunction,
  type SchedulerAction,
  type Subscription,
} from 'rxjs';
import { BufferOverflowError, RateLimitExceededError } from '../errors.js';
import { attachMeter, type FlowProbe } from '../monitoring/FlowMeter.js';
import { decide, STORE_EPSILON_MS, type TokenGrant, type TokenStore } from '../stores/TokenStore.js';
import type { DropDetail, DropReason } from '../types.js';
import { SubscriptionClock } from './clock.js';
import { GatedQueue } from './GatedQueue.js';
import { reportUnhandledError } from './reportUnhandledError.js';
import { RingQueue } from './RingQueue.js';
import {
  checkedCost,
  costAboveCapacity,
  rejectCostAboveCapacity,
  watchBucketLimits,
  type TokenBucketSettings,
} from './tokenBucketInternals.js';
import { describe } from './validate.js';

/** What `tokenBucket` does while its `store` cannot be reached (see `TokenBucketOptions.onStoreError`). */
export type StoreErrorMode = 'error' | 'open' | 'closed' | 'local';

/** The `store` part of a token bucket's settings, validated, with defaults applied. */
export interface StoreSettings {
  store: TokenStore;
  onStoreError: StoreErrorMode;
  /** Processes sharing the store (`'local'` divides the rate by it); 1 otherwise. */
  instances: number;
  /** Least time between two attempts to reach the store again after a failure, in ms. */
  retryInterval: number;
  onStoreFailure: ((error: unknown, mode: StoreErrorMode) => void) | undefined;
}

/** A value of a shape-mode batch: handed over by the engine, waiting for the store and then its time. */
interface Held<T> {
  value: T;
  cost: number;
  /** Arrival time (only kept with a meter or a finite ttl; else 0). */
  arrival: number;
}

/** A police-mode value waiting for its answer. */
interface Pending<T> {
  value: T;
  cost: number;
  arrival: number;
  /** 0: waiting, 1: granted, 2: refused by the limit, 3: refused because the store failed (`'closed'`). */
  state: 0 | 1 | 2 | 3;
  /** Refused by the limit: tokens available at the decision. */
  available: number;
  /** Refused by the limit: milliseconds until `cost` tokens exist, as the store (or fallback) answered. */
  retryAfter: number;
}

/** Shape mode: the batch takes values (no request in flight). */
const FORMING = 0;
/** Shape mode: the batch's request is in flight. */
const ASKING = 1;
/** Shape mode: the batch's values leave at their times. */
const GRANTED = 2;
/** Shape mode: the batch's values are refused (`onStoreError: 'closed'` while the store fails). */
const REFUSED = 3;

/**
 * `tokenBucket` with a `store`: the bucket's state lives in a {@link TokenStore} (shared with other
 * operators or processes), and the operator only asks it, then paces or polices what it answers.
 * A separate path from `createTokenBucket`'s in-process bucket, so that path pays nothing for it.
 *
 * **Shape mode.** The engine's queue holds the values that wait for a request. Its gate lets values
 * through into one *batch* while no request is in flight (up to `capacity` tokens in total); when the
 * drain stops, one reserve request asks the store for the whole batch's cost. The answer's delay
 * `D` spreads the batch: its values' first `s` tokens exist at `D - (cost - s) * period` (the store
 * accrues one token per period), measured from the answer on the operator's scheduler. When the last
 * value of the batch has gone out, the next batch is formed from the values that waited meanwhile.
 * So a busy stream costs one round trip per batch. A batch value is still subject to `ttl`: if its
 * release time falls after its deadline it is reported `'expired'` at the deadline (its tokens are
 * spent). Batch values count against `queueCapacity` (the engine's limit is lowered by their number).
 *
 * **Police mode.** Every value is sent to the store as it arrives (requests overlap; the answers
 * are applied in arrival order): granted values are emitted, refused ones reported `'rejected'`.
 *
 * **Failures** (a throw, a rejected promise, an answer that is not a grant): see `onStoreError`. In
 * `'open'`, `'closed'` and `'local'` the operator stops asking the store and answers itself until
 * `retryInterval` has passed; the next request then goes to the store again, and a success ends the
 * fallback. `onStoreFailure` is told of the first failure and of every failed retry.
 *
 * **Teardown**: a request in flight is abandoned; its answer is ignored and the tokens it took stay
 * taken. One scheduled action at most (the next release or batch deadline), plus the engine's
 * expiry action with a finite `ttl`; none after teardown.
 */
export function createStoreTokenBucket<T>(
  settings: TokenBucketSettings<T>,
  storeSettings: StoreSettings,
): MonoTypeOperatorFunction<T> {
  const { operator, cost, mode, overflow, onDrop, ttl } = settings;
  const { store, onStoreError, instances, retryInterval, onStoreFailure } = storeSettings;
  const scheduler = settings.scheduler ?? asyncScheduler;

  return (source) =>
    new Observable<T>((destination) => {
      const clock = new SubscriptionClock(operator, scheduler);
      const now = (): number => clock.now();
      // eslint-disable-next-line prefer-const -- assigned once the limits have been read
      let queue: GatedQueue<T> | undefined;
      /** Set when the stream has failed or been torn down: nothing is asked, emitted or scheduled. */
      let closed = false;
      /** Read through a call, so that flow analysis does not assume an emission cannot close the stream. */
      const stopped = (): boolean => closed;

      // Shape mode: the batch.
      const held = new RingQueue<Held<T>>();
      let heldCost = 0;
      let phase = FORMING;
      /**
       * The batch's answer: at `grantedAt` (operator's clock) its `heldCost` tokens exist after
       * `grantedDelay`, the first ones earlier, one per `grantedPeriod`.
       */
      let grantedAt = 0;
      let grantedDelay = 0;
      let grantedPeriod = 0;
      /** Tokens of the batch whose values have left (released or expired). */
      let consumed = 0;
      // Police mode: values waiting for their answers, in arrival order.
      const pending = new RingQueue<Pending<T>>();

      /** The request in flight (shape mode), so that a late answer to an abandoned one is ignored. */
      let inFlight: object | undefined;
      /** While falling back: the operator answers itself until `retryAt`. */
      let degraded = false;
      let retryAt = 0;
      /** The in-process bucket of `'local'` (GCRA, like the stores): the instant it is full again. */
      let localFullAt = 0;

      /** Tells the user's meter; the engine's own probe only forwards to it (see `probe`). */
      let meterProbe: FlowProbe | undefined;

      // Older than anything in the engine's queue, so reported first (this runs before its teardown).
      destination.add(stop);

      const fail = (err: unknown): void => {
        if (queue) failAll(err);
        else destination.error(err);
      };

      let capacity = NaN;
      let period = NaN;
      let queueCapacity = NaN;
      const limits = watchBucketLimits(
        operator,
        settings,
        destination,
        fail,
        (next) => {
          // The store holds the tokens: the next request carries the new capacity and period.
          capacity = next.capacity;
          period = next.period;
          if (!queue) return;
          rejectCostAboveCapacity(queue, operator, cost, capacity);
          queue.drain();
        },
        (n) => {
          queueCapacity = n;
          limitQueue();
        },
      );
      if (limits === undefined) return;
      if (typeof cost === 'number' && cost > limits.capacity) {
        destination.error(costAboveCapacity(operator, cost, limits.capacity));
        return;
      }
      capacity = limits.capacity;
      period = limits.period;
      queueCapacity = limits.queueCapacity;
      const q0 = queueCapacity;
      const costOf = typeof cost === 'function' ? checkedCost(operator, cost, () => capacity) : () => cost;

      /** Values waiting anywhere (engine queue and batch) stay within `queueCapacity`. */
      function limitQueue(): void {
        queue?.setCapacity(Math.max(0, queueCapacity - held.length));
      }

      // ---- The one timer: the batch's next release or deadline ----
      let timer: Subscription | undefined;
      let timerDue = NaN;
      let running: SchedulerAction<unknown> | undefined;
      function onTimer(this: SchedulerAction<unknown>): void {
        timer = undefined;
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- the running action reschedules itself
        running = this;
        try {
          pump();
        } finally {
          running = undefined;
        }
      }
      function schedule(due: number, t: number): void {
        if (timer && timerDue === due) return;
        timer?.unsubscribe();
        timerDue = due;
        const delay = Math.max(0, due - t);
        timer = running ? running.schedule(undefined, delay) : scheduler.schedule(onTimer, delay);
      }
      function cancelTimer(): void {
        timer?.unsubscribe();
        timer = undefined;
      }

      // ---- Reporting ----
      /** Reports a value, or, while failing, reports it without letting `onDrop` throw anywhere. */
      function report(value: T, reason: DropReason, quietly: boolean, detail?: DropDetail): void {
        if (!quietly) {
          (queue as GatedQueue<T>).report(value, reason, detail);
          return;
        }
        try {
          (queue as GatedQueue<T>).report(value, reason);
        } catch (err) {
          reportUnhandledError(err);
        }
      }
      function clearHeld(): void {
        while (held.length > 0) {
          const entry = held.shift();
          meterProbe?.waiting(-1);
          report(entry.value, 'cleared', true);
        }
        heldCost = 0;
        while (pending.length > 0) report(pending.shift().value, 'cleared', true);
      }
      /** Stops for good: nothing more is asked, scheduled or emitted; batch and pending values cleared. */
      function stop(): void {
        closed = true;
        inFlight = undefined;
        cancelTimer();
        clearHeld();
      }
      /** Fails the stream: batch and pending values first (they are older), then the engine's queue. */
      function failAll(err: unknown): void {
        if (closed) return;
        stop();
        (queue as GatedQueue<T>).fail(err);
      }
      /** Checks the clock guard; fails the stream when the clock went backwards. */
      function failedClock(): boolean {
        if (clock.error === undefined) return false;
        failAll(clock.error);
        return true;
      }

      /** A promise callback: whatever it throws fails the stream instead of going unhandled. */
      function guarded(fn: (arg: unknown) => void): (arg: unknown) => void {
        return (arg) => {
          try {
            fn(arg);
          } catch (err) {
            if (closed) reportUnhandledError(err);
            else failAll(err);
          }
        };
      }

      // ---- Store failures ----
      /**
       * A request failed. Returns false when the stream failed (mode `'error'`, or a throwing
       * `onStoreFailure`); otherwise the operator now answers itself until `retryAt`.
       */
      function storeFailed(err: unknown, notify: boolean): boolean {
        meterProbe?.storeFailed();
        if (notify && onStoreFailure) {
          try {
            onStoreFailure(err, onStoreError);
          } catch (callbackError) {
            failAll(callbackError);
            return false;
          }
          if (closed) return false;
        }
        if (onStoreError === 'error') {
          failAll(err);
          return false;
        }
        const t = now();
        if (!degraded) {
          degraded = true;
          // The in-process bucket starts with this process's share of the burst, so that all
          // instances falling back together do not burst more than `capacity`.
          localFullAt = t + (capacity - capacity / instances) * period * instances;
        }
        retryAt = t + retryInterval;
        return true;
      }
      /** Whether to answer without the store now (falling back, and no retry due yet). */
      function answeringLocally(): boolean {
        if (!degraded) return false;
        const t = now();
        if (t < retryAt) return true;
        // A retry goes to the store; until it answers, later decisions stay local.
        retryAt = t + retryInterval;
        return false;
      }
      function backToStore(): void {
        degraded = false;
      }

      // ---- Shape mode ----
      /** Sends the formed batch to the store (or answers it locally while falling back). */
      function ask(): void {
        if (closed || phase !== FORMING || held.length === 0) return;
        if (heldCost === 0) {
          grant(0);
          return;
        }
        const retrying = degraded;
        if (answeringLocally()) {
          answerLocally();
          return;
        }
        phase = ASKING;
        const request = {};
        inFlight = request;
        const onError = (err: unknown): void => {
          if (inFlight !== request) return;
          inFlight = undefined;
          phase = FORMING;
          if (storeFailed(err, !degraded || retrying)) answerLocally();
        };
        let answer: TokenGrant | PromiseLike<TokenGrant>;
        try {
          answer = store.acquire({ mode: 'reserve', cost: heldCost, capacity, period });
        } catch (err) {
          onError(err);
          return;
        }
        const onAnswer = (g: unknown): void => {
          if (inFlight !== request) return;
          const problem = invalidGrant(operator, g, 'reserve');
          if (problem) {
            onError(problem);
            return;
          }
          inFlight = undefined;
          phase = FORMING;
          backToStore();
          grant((g as TokenGrant).delay);
        };
        if (isPromiseLike(answer)) {
          answer.then(guarded(onAnswer), guarded(onError));
          // Deadlines of the batch's values keep running while the request is in flight.
          if (ttl !== Infinity && inFlight === request) pump();
        } else {
          onAnswer(answer);
        }
      }
      /** The batch's answer while the store is not used. */
      function answerLocally(): void {
        if (onStoreError === 'open') {
          grant(0);
        } else if (onStoreError === 'closed') {
          phase = REFUSED;
          pump();
        } else {
          const localPeriod = period * instances;
          const decision = decide(localFullAt, now(), 'reserve', heldCost, capacity, localPeriod);
          localFullAt = decision.fullAt;
          grant(decision.delay, localPeriod);
        }
      }
      /** The batch's tokens exist `delay` ms from now (the first ones earlier, one per period). */
      function grant(delay: number, tokenPeriodMs = period): void {
        grantedAt = now();
        grantedDelay = delay;
        grantedPeriod = tokenPeriodMs;
        phase = GRANTED;
        pump();
      }

      let pumping = false;
      /** Set by a nested `pump()` call (a synchronous answer): the running loop goes round again. */
      let again = false;
      /** Read through a call: flow analysis cannot see a nested call setting `again`. */
      const goAgain = (): boolean => again && !closed;
      /**
       * Releases the batch's values that are due, expires those past their deadline, and once the
       * batch is done forms the next one; in a loop, so that synchronous answers never nest.
       */
      function pump(): void {
        if (pumping) {
          again = true;
          return;
        }
        pumping = true;
        try {
          do {
            again = false;
            if (mode === 'police') flushPending();
            else flushBatch();
          } while (goAgain());
        } catch (err) {
          // onDrop threw, or the engine did: the stream fails, as it would in the engine.
          failAll(err);
        } finally {
          pumping = false;
        }
      }
      function flushBatch(): void {
        if (closed) return;
        if (phase === GRANTED || (phase === ASKING && ttl !== Infinity)) {
          const t = now();
          if (failedClock()) return;
          while (held.length > 0) {
            const head = held.peek();
            const deadline = head.arrival + ttl;
            // While the request is in flight nothing is due, but deadlines still pass.
            const due =
              phase === GRANTED
                ? grantedAt + Math.max(0, grantedDelay - (heldCost - consumed - head.cost) * grantedPeriod)
                : Infinity;
            if (due - deadline > STORE_EPSILON_MS) {
              if (deadline - t > STORE_EPSILON_MS) {
                schedule(deadline, t);
                return;
              }
              // It would leave after its deadline: expired now, at the deadline (its tokens are spent).
              held.shift();
              consumed += head.cost;
              meterProbe?.waiting(-1);
              limitQueue();
              report(head.value, 'expired', false);
            } else if (due - t <= STORE_EPSILON_MS) {
              held.shift();
              consumed += head.cost;
              meterProbe?.waiting(-1);
              limitQueue();
              meterProbe?.released(t - head.arrival);
              destination.next(head.value);
            } else {
              schedule(due, t);
              return;
            }
            if (stopped()) return;
          }
          cancelTimer();
          // Every value of a batch in flight expired: the answer, when it comes, ends the batch.
          if (phase === ASKING) return;
          endBatch();
        } else if (phase === REFUSED) {
          while (held.length > 0) {
            const entry = held.shift();
            meterProbe?.waiting(-1);
            limitQueue();
            report(entry.value, 'rejected', false);
            if (stopped()) return;
          }
          endBatch();
        }
        // The next batch: the engine hands over what waited, then calls blocked/idle, which ask.
        if (phase === FORMING) (queue as GatedQueue<T>).drain();
      }
      /**
       * The engine's drain stopped (after an arrival, among others). A forming batch is sent to the
       * store; a granted one lets its due values leave now, though their timer may run later in the
       * same instant: like the in-process bucket, whose drain after an arrival reads the refilled
       * tokens (the arrival itself has already been queued or found the queue full).
       */
      function afterDrain(): void {
        if (failedClock()) return;
        if (phase === FORMING) ask();
        else if (phase === GRANTED || (phase === ASKING && ttl !== Infinity)) pump();
      }
      function endBatch(): void {
        heldCost = 0;
        consumed = 0;
        phase = FORMING;
      }

      // ---- Police mode ----
      function police(entry: Pending<T>): void {
        const retrying = degraded;
        if (answeringLocally()) {
          decideLocally(entry);
          return;
        }
        const c = entry.cost;
        const onError = (err: unknown): void => {
          if (closed || entry.state !== 0) return;
          if (storeFailed(err, !degraded || retrying)) {
            decideLocally(entry);
            pump();
          }
        };
        const onAnswer = (g: unknown): void => {
          if (closed || entry.state !== 0) return;
          const problem = invalidGrant(operator, g, 'police');
          if (problem) {
            onError(problem);
            return;
          }
          const { granted, delay } = g as TokenGrant;
          backToStore();
          entry.state = granted ? 1 : 2;
          if (!granted) {
            entry.available = period > 0 ? Math.max(0, c - delay / period) : 0;
            entry.retryAfter = delay;
          }
          pump();
        };
        let answer: TokenGrant | PromiseLike<TokenGrant>;
        try {
          answer = store.acquire({ mode: 'police', cost: c, capacity, period });
        } catch (err) {
          onError(err);
          return;
        }
        if (isPromiseLike(answer)) answer.then(guarded(onAnswer), guarded(onError));
        else onAnswer(answer);
      }
      function decideLocally(entry: Pending<T>): void {
        if (onStoreError === 'open') {
          entry.state = 1;
        } else if (onStoreError === 'closed') {
          entry.state = 3;
        } else {
          const localPeriod = period * instances;
          const decision = decide(localFullAt, now(), 'police', entry.cost, capacity, localPeriod);
          localFullAt = decision.fullAt;
          entry.state = decision.granted ? 1 : 2;
          if (!decision.granted) {
            entry.available = localPeriod > 0 ? Math.max(0, entry.cost - decision.delay / localPeriod) : 0;
            entry.retryAfter = decision.delay;
          }
        }
      }
      function flushPending(): void {
        while (!stopped() && pending.length > 0 && pending.peek().state !== 0) {
          const entry = pending.shift();
          if (entry.state === 1) {
            if (meterProbe) meterProbe.released(now() - entry.arrival);
            destination.next(entry.value);
          } else if (entry.state === 3) {
            // Refused because the store cannot be reached (`'closed'`): no limit to tell of.
            report(entry.value, 'rejected', false);
          } else {
            const { value, cost: c, available, retryAfter } = entry;
            report(value, 'rejected', false, { cost: c, available, retryAfter });
            if (overflow === 'error') {
              failAll(new RateLimitExceededError(value, c, available, operator, retryAfter));
            }
          }
        }
        if (!stopped() && pending.length === 0) (queue as GatedQueue<T>).drain();
      }

      // ---- The engine ----
      if (settings.meter) {
        meterProbe = attachMeter(settings.meter, {
          capacity: () => queueCapacity,
          tokens: () => {
            if (!degraded || onStoreError !== 'local') return 0;
            const localPeriod = period * instances;
            return localPeriod === 0
              ? capacity
              : Math.max(0, capacity - Math.max(0, localFullAt - now()) / localPeriod);
          },
        });
      }
      // Shape mode hands values to the batch, where they still wait: the engine's `released(wait)`
      // only tells when they arrived, and the meter counts them when they leave the batch.
      const keepArrival = mode === 'shape' && (meterProbe !== undefined || ttl !== Infinity);
      const user = meterProbe;
      const probe: FlowProbe | undefined = keepArrival
        ? {
            now: () => now(),
            received: () => user?.received(),
            // The engine calls this right after `release`: the value just added to the batch.
            released: (wait) => {
              if (held.length > 0) setNewestArrival(held, now() - wait);
            },
            dropped: (value, reason) => user?.dropped(value, reason),
            waiting: (delta) => user?.waiting(delta),
            started: () => user?.started(),
            ended: (duration, outcome) => user?.ended(duration, outcome),
            storeFailed: () => user?.storeFailed(),
            detach: () => user?.detach(),
          }
        : undefined;

      // The engine's output: when the engine fails by itself (a throwing onDrop or cost, a capacity
      // lowered below a waiting cost), the batch and pending values are reported before its error.
      // rxjs's Subscriber forwards an error before it unsubscribes, so the batch is reported while the
      // meter is still attached (the engine's teardown detaches it).
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the one place a plain Subscriber is the right tool
      const output = new Subscriber<T>({
        next: (value: T) => {
          destination.next(value);
        },
        error: (err: unknown) => {
          stop();
          destination.error(err);
        },
        complete: () => {
          destination.complete();
        },
      });
      destination.add(output);
      queue = new GatedQueue<T>(
        output,
        {
          operator,
          capacity: mode === 'police' ? 0 : q0,
          overflow,
          onDrop,
          ttl,
          scheduler,
          clock,
          probe: mode === 'shape' ? probe : meterProbe,
          dropReason: mode === 'police' ? 'rejected' : 'overflow',
          overflowError: (value) => {
            // The engine fails next: the batch (older than its queue) is reported first.
            stop();
            return new BufferOverflowError(queueCapacity, value, operator);
          },
        },
        mode === 'police'
          ? {
              cost: costOf,
              canRelease: () => true,
              admit: noop,
              release: (value, _index, c) => {
                const entry: Pending<T> = {
                  value,
                  cost: c,
                  arrival: meterProbe ? now() : 0,
                  state: 0,
                  available: 0,
                  retryAfter: 0,
                };
                pending.push(entry);
                police(entry);
                if (entry.state !== 0) pump();
                // Counted when it leaves (granted) or reported (refused), not now.
                return false;
              },
              busy: () => pending.length > 0,
              idle: () => {
                failedClock();
              },
            }
          : {
              cost: costOf,
              canRelease: (c) => phase === FORMING && heldCost + c <= capacity,
              admit: (c) => {
                heldCost += c;
              },
              release: (value, _index, c) => {
                held.push({ value, cost: c, arrival: 0 });
                meterProbe?.waiting(1);
                limitQueue();
                return true;
              },
              busy: () => held.length > 0,
              blocked: afterDrain,
              idle: afterDrain,
            },
      );
      limitQueue();

      // A source error clears the batch and the pending values before the engine clears its queue.
      queue.subscribeTo(
        source.pipe(
          tap({
            error: stop,
          }),
        ),
      );
    });
}

/** Sets the arrival time of the newest entry of a batch. */
function setNewestArrival<T>(held: RingQueue<Held<T>>, arrival: number): void {
  const newest = held.pop();
  newest.arrival = arrival;
  held.push(newest);
}

function noop(): void {
  // Nothing to take: the store decides.
}

function isPromiseLike<V>(value: V | PromiseLike<V>): value is PromiseLike<V> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Why an answer is not a usable grant, or undefined when it is. */
function invalidGrant(operator: string, g: unknown, mode: 'reserve' | 'police'): TypeError | undefined {
  if (
    typeof g === 'object' &&
    g !== null &&
    typeof (g as TokenGrant).granted === 'boolean' &&
    typeof (g as TokenGrant).delay === 'number' &&
    Number.isFinite((g as TokenGrant).delay) &&
    (g as TokenGrant).delay >= 0 &&
    (mode === 'police' || (g as TokenGrant).granted)
  ) {
    return undefined;
  }
  return new TypeError(
    `${operator}: the store answered ${describeGrant(g)} to a ${mode} request; expected { granted: ${mode === 'reserve' ? 'true' : 'boolean'}, delay: a finite number >= 0, time }`,
  );
}

function describeGrant(g: unknown): string {
  if (typeof g !== 'object' || g === null) return describe(g);
  try {
    return JSON.stringify(g);
  } catch {
    return describe(g);
  }
}
