import {
  asyncScheduler,
  type Observable,
  type SchedulerAction,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { BufferOverflowError } from '../errors.js';
import type { CapacityEstimator } from '../adaptive/adaptiveCapacity.js';
import type { FlowProbe } from '../monitoring/FlowMeter.js';
import { SubscriptionClock } from './clock.js';
import type { DropDetail, DropReason, OnDrop, OverflowStrategy } from '../types.js';
import { OperatorSubscriber } from './OperatorSubscriber.js';
import { PriorityWaitQueue } from './PriorityWaitQueue.js';
import { RingQueue } from './RingQueue.js';
import { reportUnhandledError } from './reportUnhandledError.js';
import { describe } from './validate.js';
import { FifoWaitQueue, type WaitQueue } from './WaitQueue.js';

/**
 * What opens and closes the queue. Each operator supplies one:
 * - the bounded buffers: a free concurrency slot;
 * - the token and leaky buckets: enough accrued tokens;
 * - pull feedback: outstanding demand.
 */
export interface Gate<T> {
  /**
   * Tokens (or other units) the value needs; called once per value on arrival, before anything else.
   * A throw reports the value as `'rejected'` and errors the stream. Optional: defaults to 1.
   */
  cost?(value: T): number;
  /** Whether a value of this cost may be released now. A throw errors the stream. */
  canRelease(cost: number): boolean;
  /**
   * Takes what a value of this cost needs from the gate (a slot, tokens, demand), without any effect
   * user code can see. Called right after a successful `canRelease`, before `release`; for a value
   * fed back synchronously from inside a release, at its arrival, with the release itself deferred
   * until the running release returns. So the gate's accounting is exact and nothing is released
   * re-entrantly.
   */
  admit(cost: number): void;
  /**
   * Hands the value on (starts its work, or emits it); `admit` was called for it. A throw errors the
   * stream. Returns `false` when the value was refused instead (the gate reported it itself, or the
   * stream is failing): it is then not counted as released; `'wait'` when it may not leave after all
   * (its gate closed between `canRelease` and now): it is put back at the head of the queue.
   */
  release(value: T, index: number, cost: number): boolean | 'wait' | undefined;
  /** True while released work is still running; completion waits for it. Optional: never busy. */
  busy?(): boolean;
  /** The drain stopped with `cost` at the head of the queue: arrange for `drain()` to run later. */
  blocked?(cost: number): void;
  /** Nothing waits any more: cancel whatever `blocked` arranged. */
  idle?(): void;
}

interface Admitted<T> {
  value: T;
  index: number;
  cost: number;
  rank: number;
}

/**
 * What a queue does when it is full: one of the public strategies, or `'priority'`: shed the oldest
 * of the lowest-ranked waiting values if it ranks below the arrival, else the arrival
 * (`bufferPriority`; needs `rank`).
 */
export type EngineOverflow = OverflowStrategy | 'priority';

export interface GatedQueueSettings<T> {
  /** Operator name, for error messages. */
  operator: string;
  /** Values allowed to wait (not counting released ones); changed later with `setCapacity`. */
  capacity: number;
  overflow: EngineOverflow;
  onDrop: OnDrop<T> | undefined;
  /** Hold a source error until the queue is worked off and the gate is not busy. */
  delayError?: boolean;
  /** The reason given to `onDrop` for values the overflow strategy discards. Default `'overflow'`. */
  dropReason?: DropReason;
  /** The error sent under `overflow: 'error'`. Default: a {@link BufferOverflowError}. */
  overflowError?: (value: T, cost: number) => Error;
  /** What `onDrop` is told beside the reason when an arrival is refused (a rate limit's `DropDetail`). */
  dropDetail?: (value: T, cost: number) => DropDetail | undefined;
  /**
   * The longest a value may wait, in ms; a value still waiting after the releases of the instant
   * `arrival + ttl` is reported `'expired'`. Default `Infinity` (no clock is read, no timer made).
   */
  ttl?: number;
  /** Where a finite `ttl` reads time and schedules its one expiry action. */
  scheduler?: SchedulerLike;
  /**
   * The subscription's clock on `scheduler`, when the operator reads time itself (the buckets), so
   * that the engine and the gate share one guard against a clock going backwards. Default: the
   * engine makes one when `ttl` is finite.
   */
  clock?: SubscriptionClock;
  /**
   * A value's priority, read once on arrival; higher leaves first (then arrival order). Its presence
   * selects the priority order. A throw, or anything but a finite number, reports the value
   * `'rejected'` and errors the output.
   */
  rank?: (value: T) => number;
  /** Tells a meter what happens (see `FlowMeter`); detached at teardown. */
  probe?: FlowProbe;
  /** Keep time even without `ttl` or a meter (for `time()`: an adaptive limit times each call). */
  timed?: boolean;
  /**
   * A capacity sized by the consumer's speed (`adaptiveCapacity`): read at each arrival instead of
   * `capacity`. It learns from `completed()` calls, or from every release with `countReleases`.
   */
  estimator?: CapacityEstimator;
  /** Feed the estimator one completion per release (the buckets, pullFeedback). */
  countReleases?: boolean;
}

/**
 * The engine behind every operator in the library: a bounded queue that applies the overflow
 * strategies and expiry, drained in one trampolined loop whenever the gate opens.
 *
 * One instance lives per subscription. The operator feeds it the source's notifications (`push`,
 * `complete`, `error`) and calls `drain()` when its gate may have opened. Its parts:
 * - the **wait queue** ({@link WaitQueue}): arrival order, or priority order when `rank` is given;
 * - the **overflow strategy**, applied to arrivals that find `capacity` values waiting (the capacity
 *   may change while the stream runs: `setCapacity`);
 * - the **gate** ({@link Gate}): a slot, tokens or demand, supplied by the operator;
 * - **expiry** (`ttl`): one scheduled action, due at the earliest deadline, none while nothing waits.
 *
 * The engine guarantees:
 * - values are released in queue order, never more than one loop on the stack (re-entrant calls to
 *   `drain()` from inside a release just let the running loop continue);
 * - every value is released exactly once or reported to `onDrop` exactly once: `'overflow'` (or the
 *   configured reason) when discarded, `'shed'` when shed for priority, `'expired'` when its `ttl`
 *   ran out, `'cleared'` when still waiting at error or unsubscribe;
 * - on failure, queued values are reported before the error is sent downstream;
 * - the output completes once the source has completed, nothing waits and the gate is not busy.
 */
export class GatedQueue<T> {
  /** Waiting values, in the order they leave. */
  private readonly queue: WaitQueue<T>;
  /**
   * Values fed back synchronously from inside a release while the gate was open: already admitted
   * (they hold their slot, tokens or demand, and take no place in the queue), released in order as
   * soon as the running release returns.
   */
  private readonly admitted = new RingQueue<Admitted<T>>();
  /** The subscription to the source, once `subscribeTo` has been called. */
  private source: OperatorSubscriber<T> | undefined;
  private readonly dropReason: DropReason;
  private capacity: number;
  private readonly ttl: number;
  private readonly scheduler: SchedulerLike;
  /** Reads `scheduler`'s time (only with a finite `ttl`), failing the stream if it goes backwards. */
  private readonly clock: SubscriptionClock | undefined;
  private readonly estimator: CapacityEstimator | undefined;
  private readonly countReleases: boolean;
  /** The clock's reading when the subscription started; `now()` counts from it. */
  private origin = 0;
  /** The meter's probe for this subscription, if any. */
  private readonly probe: FlowProbe | undefined;
  /** Values waiting, as last told to the meter. */
  private meteredWaiting = 0;
  /** The expiry action while one is scheduled. */
  private expiry: Subscription | undefined;
  private nextIndex = 0;
  private draining = false;
  private sourceDone = false;
  private hasPendingError = false;
  private pendingError: unknown = undefined;
  /** Set once the output has terminated or been unsubscribed; after that nothing is released. */
  private closed = false;

  constructor(
    private readonly destination: Subscriber<unknown>,
    private readonly settings: GatedQueueSettings<T>,
    private readonly gate: Gate<T>,
  ) {
    this.dropReason = settings.dropReason ?? 'overflow';
    this.capacity = settings.capacity;
    this.ttl = settings.ttl ?? Infinity;
    this.scheduler = settings.scheduler ?? asyncScheduler;
    this.probe = settings.probe;
    // Arrival times are kept for expiry, and for the meter's wait times.
    this.estimator = settings.estimator;
    this.countReleases = settings.countReleases === true && this.estimator !== undefined;
    const timed =
      this.ttl !== Infinity ||
      this.probe !== undefined ||
      settings.timed === true ||
      this.estimator !== undefined;
    if (timed) {
      this.clock = settings.clock ?? new SubscriptionClock(settings.operator, this.scheduler);
      // Times are kept relative to the subscription's start: small numbers, stored unboxed.
      this.origin = this.clock.now();
    }
    this.queue = settings.rank
      ? new PriorityWaitQueue<T>(timed)
      : new FifoWaitQueue<T>(gate.cost !== undefined, timed);
    destination.add(() => {
      this.closed = true;
      this.cancelExpiry();
      // Stop listening before reporting: a value the source sends from inside onDrop(..., 'cleared')
      // must not reach a queue that can neither release nor report it (as in `fail`).
      this.source?.unsubscribe();
      this.clear();
      this.probe?.detach();
    });
  }

  /** Values waiting. */
  get length(): number {
    return this.queue.length;
  }

  /** The limit on waiting values in force. */
  get capacityLimit(): number {
    return this.estimator ? this.estimator.capacityAt(this.now()) : this.capacity;
  }

  /** The consumer finished one value (for an adaptive capacity). */
  completed(): void {
    this.estimator?.completed(this.now());
  }

  /**
   * The subscription's time on the operator's scheduler, through the clock guard; only when the
   * engine keeps time (a finite `ttl`, or a meter). `NaN` once the clock went backwards.
   */
  time(): number {
    return this.now();
  }

  /** True once the output has terminated or been unsubscribed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Read through a call so that flow analysis does not assume a release cannot close the queue. */
  private isStopped(): boolean {
    return this.closed;
  }

  /**
   * A new limit on waiting values. Raising it lets more values wait; lowering it drops nothing: the
   * queue counts as full for arrivals until it has drained below the new limit.
   */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
  }

  /** Feeds the source's notifications to `push`, `error` and `complete`. */
  subscribeTo(source: Observable<T>): void {
    this.source = new OperatorSubscriber<T>(this.destination, {
      next: (value) => {
        this.push(value);
      },
      error: (err) => {
        this.error(err);
      },
      complete: () => {
        this.complete();
      },
    });
    source.subscribe(this.source);
  }

  /** A value from the source. */
  push(value: T): void {
    if (this.closed) return;
    this.probe?.received();
    const index = this.nextIndex++;
    const { gate, queue } = this;
    let cost = 1;
    let rank = 0;
    if (gate.cost || this.settings.rank) {
      try {
        if (gate.cost) cost = gate.cost(value);
        if (this.settings.rank) rank = this.rankOf(value);
      } catch (err) {
        this.reportThenFail(value, 'rejected', err);
        return;
      }
    }
    let open: boolean;
    try {
      open = queue.length === 0 && gate.canRelease(cost);
    } catch (err) {
      // The value was neither released nor queued: it is reported with the waiting ones.
      this.reportThenFail(value, 'cleared', err);
      return;
    }
    let ownsDrain = false;
    try {
      if (open) {
        if (!this.draining) {
          // Fast path: nothing waits and the gate is open.
          this.draining = ownsDrain = true;
          gate.admit(cost);
          this.handOn(value, index, cost, 0, rank, NaN, true);
          this.draining = ownsDrain = false;
          this.drain();
          return;
        }
        // Fed back synchronously from inside a release (user code pushing into the source) while the
        // gate is open: it passes now, as if nothing were running, without taking a place in the
        // queue. Its release waits for the running one to return, so nothing nests.
        gate.admit(cost);
        this.admitted.push({ value, index, cost, rank });
        return;
      }
      this.offer(value, index, cost, rank);
    } catch (err) {
      if (ownsDrain) this.draining = false;
      this.fail(err);
      return;
    }
    this.drain();
  }

  /** The source completed. */
  complete(): void {
    if (this.closed) return;
    this.sourceDone = true;
    this.drain();
  }

  /** The source errored. */
  error(err: unknown): void {
    if (this.closed) return;
    if (this.settings.delayError) {
      this.sourceDone = true;
      if (!this.hasPendingError) {
        this.hasPendingError = true;
        this.pendingError = err;
      }
      this.drain();
      return;
    }
    this.fail(err);
  }

  /**
   * Releases waiting values while the gate lets them through; then completes if all is done.
   * @param at A reading of `time()` taken at this same instant, with no user code run since (the end
   * of the run whose slot frees): the drain's time, for expiry and the meter's waits, instead of a
   * second read of the clock. `NaN` (the default): read when first needed.
   */
  drain(at = NaN): void {
    this.drainQueue(at);
    if (this.probe) this.syncWaiting();
  }

  private drainQueue(at: number): void {
    if (this.draining || this.closed) return;
    const { queue, gate, ttl } = this;
    this.draining = true;
    /** The time of this drain (for a ttl, and the meter's waits): `at`, or read once when first needed. */
    let now = at;
    /** Admitted values the gate sent back (it closed after admitting them). */
    let sentBack: Admitted<T>[] | undefined;
    try {
      const { admitted } = this;
      while (!this.isStopped()) {
        if (admitted.length > 0) {
          const next = admitted.shift();
          if (!this.handOn(next.value, next.index, next.cost, 0, next.rank, NaN, false)) {
            // Sent back: the ones admitted after it go through the gate too (each may be sent back),
            // and all sent back return to the head of the queue in arrival order below.
            (sentBack ??= []).push(next);
          }
        } else if (queue.length === 0 || !gate.canRelease(queue.headCost())) {
          break;
        } else if (
          ttl !== Infinity &&
          queue.headArrival() + ttl < (Number.isNaN(now) ? (now = this.now()) : now)
        ) {
          // Its deadline passed before the expiry action could run (a late timer): never release it.
          this.report(queue.shift(), 'expired');
        } else {
          let wait = 0;
          if (this.probe) {
            if (Number.isNaN(now)) now = this.now();
            wait = now - queue.headArrival();
          }
          const value = queue.shift();
          const { takenIndex, takenCost, takenArrival, takenRank } = queue;
          gate.admit(takenCost);
          if (!this.handOn(value, takenIndex, takenCost, wait, takenRank, takenArrival, true)) break;
        }
      }
    } catch (err) {
      this.draining = false;
      this.fail(err);
      return;
    }
    if (sentBack) {
      const since = this.clock ? this.now() : 0;
      for (let i = sentBack.length - 1; i >= 0; i--) {
        const { value, index, cost, rank } = sentBack[i] as Admitted<T>;
        queue.unshift(value, index, cost, since, rank);
      }
    }
    this.draining = false;
    if (this.isStopped()) return;
    if (queue.length > 0) {
      if (ttl !== Infinity && !this.expiry) this.scheduleExpiry();
      gate.blocked?.(queue.headCost());
      return;
    }
    this.cancelExpiry();
    gate.idle?.();
    if (this.isStopped()) return;
    if (this.sourceDone && !gate.busy?.()) {
      this.closed = true;
      if (this.hasPendingError) {
        const err = this.pendingError;
        this.pendingError = undefined;
        this.destination.error(err);
      } else {
        this.destination.complete();
      }
    }
  }

  /**
   * Ends the output early and completes it, as `take` does: the source is unsubscribed, waiting
   * values are reported `'cleared'`, then the output completes. For a gate that can never open again.
   */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelExpiry();
    this.source?.unsubscribe();
    this.clear();
    this.destination.complete();
  }

  /**
   * Tears down with an error: queued values are reported `'cleared'` first, then the error is sent.
   * Safe to call more than once; only the first call does anything.
   */
  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelExpiry();
    // Stop listening first: a value the source sends while the error is delivered (a Subject fed
    // from an error handler) must not reach a queue that can neither release nor report it.
    this.source?.unsubscribe();
    this.clear();
    this.destination.error(err);
  }

  /** Releases a value through the gate; the meter counts it unless the gate refused it. */
  /**
   * Releases a value through the gate; the meter counts it unless the gate refused it. A gate that
   * answers `'wait'` (it closed meanwhile) gets the value back: put back at the head of the queue
   * with `putBack` (the caller stops draining), or left to the caller. Returns false then.
   * `arrival` NaN: it never waited, its arrival is now.
   */
  private handOn(
    value: T,
    index: number,
    cost: number,
    wait: number,
    rank: number,
    arrival: number,
    putBack: boolean,
  ): boolean {
    const result = this.gate.release(value, index, cost);
    if (result === 'wait') {
      if (putBack) {
        const since = Number.isNaN(arrival) ? (this.clock ? this.now() : 0) : arrival;
        this.queue.unshift(value, index, cost, since, rank);
      }
      return false;
    }
    if (result === false) return true;
    this.probe?.released(wait);
    if (this.countReleases) this.completed();
    return true;
  }

  /** Reports a value that is not released (`onDrop`); a throwing `onDrop` errors the stream. */
  report(value: T, reason: DropReason, detail?: DropDetail): void {
    const { onDrop } = this.settings;
    const { probe } = this;
    if (!probe) {
      if (onDrop) onDrop(value, reason, detail);
      return;
    }
    try {
      if (onDrop) onDrop(value, reason, detail);
    } finally {
      // Counted (and told to drops$) after onDrop, even when onDrop throws: the value is gone.
      probe.dropped(value, reason);
    }
  }

  private reportThenFail(value: T, reason: DropReason, err: unknown): void {
    this.reportQuietly(value, reason);
    this.fail(err);
  }

  /** Reports a value when the stream is already failing: a throwing `onDrop` has nowhere to go. */
  private reportQuietly(value: T, reason: DropReason): void {
    try {
      this.report(value, reason);
    } catch (err) {
      reportUnhandledError(err);
    }
  }

  /**
   * A new limit on a waiting value's cost (a token bucket's capacity lowered): the first waiting value
   * that costs more can never pass, so it is reported `'rejected'` and the output errors with
   * `error(value, cost)`. Returns whether that happened.
   */
  rejectCostAbove(limit: number, error: (value: T, cost: number) => Error): boolean {
    if (this.closed || !this.queue.removeFirstCostAbove(limit)) return false;
    const value = this.queue.takenValue as T;
    this.reportThenFail(value, 'rejected', error(value, this.queue.takenCost));
    return true;
  }

  private rankOf(value: T): number {
    const rank = (this.settings.rank as (value: T) => number)(value);
    if (typeof rank !== 'number' || !Number.isFinite(rank)) {
      throw new TypeError(
        `${this.settings.operator}: \`priority\` must return a finite number, got ${describe(rank)}`,
      );
    }
    return rank;
  }

  private offer(value: T, index: number, cost: number, rank: number): void {
    const { queue, settings } = this;
    let arrival = 0;
    // The clock is read only for a value that may wait (not one refused by a full queue at once).
    if (
      this.clock &&
      (this.estimator !== undefined ||
        queue.length < this.capacity ||
        (settings.overflow !== 'drop-incoming' && settings.overflow !== 'error'))
    ) {
      arrival = this.now();
      if (Number.isNaN(arrival)) {
        this.reportThenFail(value, 'cleared', this.clockError());
        return;
      }
    }
    const capacity = this.estimator ? this.estimator.capacityAt(arrival) : this.capacity;
    if (queue.length < capacity) {
      try {
        queue.push(value, index, cost, arrival, rank);
      } catch (err) {
        // The queue could not grow (more values than it can ever hold): the value never got in.
        this.reportThenFail(value, 'cleared', err);
      }
      return;
    }
    const reason = this.dropReason;
    if (settings.overflow === 'priority') {
      if (queue.removeRankedBelow(rank)) {
        queue.push(value, index, cost, arrival, rank);
        this.report(queue.takenValue as T, 'shed');
      } else {
        this.report(value, 'shed');
      }
      return;
    }
    const detail = settings.dropDetail?.(value, cost);
    if (queue.length === 0 && settings.overflow !== 'error') {
      // Capacity 0: there is nothing to evict, so the arriving value is the one that goes.
      this.report(value, reason, detail);
      return;
    }
    switch (settings.overflow) {
      case 'drop-incoming':
        this.report(value, reason, detail);
        return;
      case 'drop-oldest': {
        const evicted = queue.removeOldest();
        queue.push(value, index, cost, arrival, rank);
        this.report(evicted, reason);
        return;
      }
      case 'drop-newest-queued': {
        const evicted = queue.removeNewest();
        queue.push(value, index, cost, arrival, rank);
        this.report(evicted, reason);
        return;
      }
      case 'drop-queue': {
        // Take every evicted value out and queue the arrival before telling onDrop anything: onDrop may
        // push into the source, and such a value must meet the queue as it now is.
        const evicted: T[] = [];
        while (queue.length > 0) evicted.push(queue.removeOldest());
        queue.push(value, index, cost, arrival, rank);
        for (let i = 0; i < evicted.length; i++) {
          try {
            this.report(evicted[i] as T, reason);
          } catch (err) {
            // The stream fails with this error: the values not yet reported are reported 'cleared' with
            // the rest of the queue (they are older than what it holds, so they come first).
            for (let j = i + 1; j < evicted.length; j++) this.reportQuietly(evicted[j] as T, 'cleared');
            throw err;
          }
        }
        return;
      }
      case 'error': {
        this.report(value, reason, detail);
        const make = settings.overflowError;
        this.fail(make ? make(value, cost) : new BufferOverflowError(capacity, value, settings.operator));
        return;
      }
    }
  }

  /**
   * Arms the one expiry action for the earliest deadline. When it is due it hops once more on the
   * same scheduler (so that whatever else is due at that instant, a freed slot, tokens, demand, runs
   * first), then releases what the gate lets through, expires what is still waiting past its
   * deadline, and re-arms itself for the next deadline while values wait.
   */
  private scheduleExpiry(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the action's own `this` is the action
    const engine = this;
    const now = this.now();
    if (Number.isNaN(now)) {
      this.fail(this.clockError());
      return;
    }
    const delay = Math.max(0, this.queue.oldestArrival() + this.ttl - now);
    this.expiry = this.scheduler.schedule(
      function (this: SchedulerAction<boolean>, hopped) {
        // Some schedulers (TestScheduler's) run a rescheduled action as a new one: track the running one.
        engine.expiry = this;
        if (!hopped) {
          engine.expiry = this.schedule(true, 0);
          return;
        }
        engine.expire(this);
      },
      delay,
      false,
    );
  }

  private expire(action: SchedulerAction<boolean>): void {
    this.drain();
    if (this.closed) return;
    const { queue, ttl } = this;
    const now = this.now();
    if (Number.isNaN(now)) {
      this.fail(this.clockError());
      return;
    }
    try {
      while (queue.length > 0 && queue.oldestArrival() + ttl <= now) {
        this.report(queue.removeOldest(), 'expired');
        if (this.isStopped()) return;
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.probe) this.syncWaiting();
    if (queue.length > 0) {
      // The same action again, unless a drain above found the queue empty and cancelled it.
      if (this.expiry === action && !action.closed) {
        this.expiry = action.schedule(false, Math.max(0, queue.oldestArrival() + ttl - now));
      } else if (!this.expiry) {
        this.scheduleExpiry();
      }
      return;
    }
    this.drain();
  }

  /** The time, for a finite `ttl`; `NaN` once the clock has gone backwards (see `clockError`). */
  private now(): number {
    return (this.clock as SubscriptionClock).now() - this.origin;
  }

  private clockError(): Error {
    return (this.clock as SubscriptionClock).error as Error;
  }

  private cancelExpiry(): void {
    if (this.expiry) {
      this.expiry.unsubscribe();
      this.expiry = undefined;
    }
  }

  /** Reports every waiting value as `'cleared'`, oldest first (admitted ones first: they came first). */
  private clear(): void {
    this.admitted.drainTo((entry) => {
      this.reportQuietly(entry.value, 'cleared');
    });
    if (this.queue.length === 0) {
      if (this.probe) this.syncWaiting();
      return;
    }
    this.queue.drainTo((value) => {
      this.reportQuietly(value, 'cleared');
    });
    if (this.probe) this.syncWaiting();
  }

  /**
   * Tells the meter how many values wait now: the queue. Admitted values are not waiting: they passed
   * the gate on arrival and leave as soon as the running release returns (within the same call).
   */
  private syncWaiting(): void {
    const n = this.queue.length;
    const delta = n - this.meteredWaiting;
    if (delta !== 0) {
      this.meteredWaiting = n;
      (this.probe as FlowProbe).waiting(delta);
    }
  }
}
