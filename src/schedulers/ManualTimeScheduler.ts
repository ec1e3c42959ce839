import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import * as check from '../internal/validate.js';
import { describe } from '../internal/validate.js';

/** Options for {@link ManualTimeScheduler}. */
export interface ManualTimeSchedulerOptions {
  /**
   * How many actions one `flush()` call may run before it gives up with an error, so that a periodic
   * timer (such as `interval()`) that reschedules itself forever fails the test instead of hanging
   * it. A positive integer or `Infinity`.
   * @default 1_000_000
   */
  flushLimit?: number;
}

const DEFAULT_FLUSH_LIMIT = 1_000_000;
const NAME = 'ManualTimeScheduler';
const OPTION_KEYS: readonly (keyof ManualTimeSchedulerOptions)[] = ['flushLimit'];

/** What the timeline needs of an action. */
interface Entry {
  /** Position in the heap, or -1 when not pending. */
  slot: number;
  execute(): void;
}

const INITIAL_HEAP_SIZE = 64;
/** Children per heap node. */
const ARITY = 4;

/**
 * The state shared by a scheduler and its actions: the clock and the pending actions, kept in a
 * 4-ary min-heap (half the depth of a binary one) ordered by (due time, scheduling sequence). The keys live in typed arrays beside
 * the actions, so comparisons never touch the action objects; each action knows its own slot, so
 * rescheduling and cancelling are O(log n) without searching.
 */
class Timeline {
  clock: number;
  /** True while `advanceTo`/`flush` run actions; they may not be called again from inside. */
  running = false;
  private entries: (Entry | undefined)[] = [];
  private dues = new Float64Array(INITIAL_HEAP_SIZE);
  private sequences = new Float64Array(INITIAL_HEAP_SIZE);
  private length = 0;
  private nextSequence = 0;

  constructor(start: number) {
    this.clock = start;
  }

  get size(): number {
    return this.length;
  }

  /** When the first action is due, or `undefined` when nothing is pending. */
  firstDue(): number | undefined {
    return this.length > 0 ? this.dues[0] : undefined;
  }

  /** Queues the action at `due`, or moves it there if it is already pending. */
  enqueue(entry: Entry, due: number): void {
    const sequence = this.nextSequence++;
    if (entry.slot < 0) {
      if (this.length === this.dues.length) this.grow();
      this.siftUp(this.length++, entry, due, sequence);
    } else {
      // A later sequence number and a moved due time: the action may have to go either way.
      this.resift(entry.slot, entry, due, sequence);
    }
  }

  /** Takes the action out of the queue; does nothing if it is not pending. */
  remove(entry: Entry): void {
    const slot = entry.slot;
    if (slot < 0) return;
    entry.slot = -1;
    const last = --this.length;
    const moved = this.entries[last] as Entry;
    const due = this.dues[last] as number;
    const sequence = this.sequences[last] as number;
    this.entries[last] = undefined;
    if (slot < last) this.resift(slot, moved, due, sequence);
  }

  /** Removes and returns the action due first. Only call when `size > 0`. */
  pop(): Entry {
    const first = this.entries[0] as Entry;
    this.remove(first);
    return first;
  }

  private grow(): void {
    const size = this.dues.length * 2;
    const dues = new Float64Array(size);
    const sequences = new Float64Array(size);
    dues.set(this.dues);
    sequences.set(this.sequences);
    this.dues = dues;
    this.sequences = sequences;
  }

  private place(slot: number, entry: Entry, due: number, sequence: number): void {
    this.entries[slot] = entry;
    this.dues[slot] = due;
    this.sequences[slot] = sequence;
    entry.slot = slot;
  }

  /** Puts the entry with this key at `slot` (a hole) and restores the heap order in either direction. */
  private resift(slot: number, entry: Entry, due: number, sequence: number): void {
    if (slot > 0) {
      const parent = ((slot - 1) / ARITY) | 0;
      const parentDue = this.dues[parent] as number;
      if (due < parentDue || (due === parentDue && sequence < (this.sequences[parent] as number))) {
        this.siftUp(slot, entry, due, sequence);
        return;
      }
    }
    this.siftDown(slot, entry, due, sequence);
  }

  private siftUp(slot: number, entry: Entry, due: number, sequence: number): void {
    const { entries, dues, sequences } = this;
    while (slot > 0) {
      const parent = ((slot - 1) / ARITY) | 0;
      const parentDue = dues[parent] as number;
      const parentSequence = sequences[parent] as number;
      if (due > parentDue || (due === parentDue && sequence > parentSequence)) break;
      this.place(slot, entries[parent] as Entry, parentDue, parentSequence);
      slot = parent;
    }
    this.place(slot, entry, due, sequence);
  }

  private siftDown(slot: number, entry: Entry, due: number, sequence: number): void {
    const { entries, dues, sequences, length } = this;
    for (;;) {
      const first = ARITY * slot + 1;
      if (first >= length) break;
      let child = first;
      let childDue = dues[first] as number;
      let childSequence = sequences[first] as number;
      const end = first + ARITY < length ? first + ARITY : length;
      for (let other = first + 1; other < end; other++) {
        const otherDue = dues[other] as number;
        const otherSequence = sequences[other] as number;
        if (otherDue < childDue || (otherDue === childDue && otherSequence < childSequence)) {
          child = other;
          childDue = otherDue;
          childSequence = otherSequence;
        }
      }
      if (due < childDue || (due === childDue && sequence < childSequence)) break;
      this.place(slot, entries[child] as Entry, childDue, childSequence);
      slot = child;
    }
    this.place(slot, entry, due, sequence);
  }
}

/** Negative delays run at once (as with real timers); `NaN`, `Infinity` and non-numbers are refused. */
function checkDelay(method: string, delay: unknown): number {
  // Written without global lookups (Number.isNaN): this runs for every action, and globals are slow
  // inside test runners' sandboxes.
  if (typeof delay !== 'number') {
    throw new TypeError(`ManualTimeScheduler.${method}: \`delay\` must be a number, got ${describe(delay)}`);
  }
  if (delay !== delay || delay === Infinity) {
    throw new RangeError(
      `ManualTimeScheduler.${method}: \`delay\` must be a finite number of ms (negative counts as 0), got ${describe(delay)}`,
    );
  }
  return delay < 0 ? 0 : delay;
}

/**
 * One scheduled piece of work. Like RxJS's own actions it is a `Subscription`: unsubscribing cancels
 * it, and `work` runs with `this` bound to it so it can reschedule itself with `this.schedule()`.
 */
class ManualTimeAction<T> extends Subscription implements SchedulerAction<T>, Entry {
  /** Position in the timeline's heap, or -1 when not pending. */
  slot = -1;
  private work: ((this: SchedulerAction<T>, state: T) => void) | undefined;
  private state: T | undefined = undefined;

  constructor(
    private readonly timeline: Timeline,
    work: (this: SchedulerAction<T>, state: T) => void,
  ) {
    super();
    this.work = work;
  }

  /**
   * Runs the work again `delay` ms from now with `state`. On a pending action this replaces its due
   * time (it stays one pending action); on a cancelled one it does nothing.
   */
  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    const ms = checkDelay('schedule', delay);
    this.state = state;
    this.timeline.enqueue(this, this.timeline.clock + ms);
    return this;
  }

  /** Runs the work once; the action has already left the queue. A throw cancels the action. */
  execute(): void {
    const work = this.work;
    if (work === undefined) return;
    try {
      work.call(this, this.state as T);
    } catch (error) {
      this.unsubscribe();
      throw error;
    }
  }

  override unsubscribe(): void {
    if (this.closed) return;
    this.timeline.remove(this);
    this.work = undefined;
    this.state = undefined;
    super.unsubscribe();
  }
}

/**
 * An RxJS scheduler whose clock moves only when the test says so: nothing runs until `advanceBy`,
 * `advanceTo` or `flush` is called, and then everything due runs synchronously, in time order.
 *
 * Pass it wherever an operator accepts a `SchedulerLike` (`delay(10, scheduler)`,
 * `tokenBucket({ ..., scheduler })`), or let {@link withVirtualTime} install it under RxJS's own
 * `asyncScheduler` so that code which passes no scheduler runs on it too.
 *
 * Rules:
 * - Actions run in order of due time; actions due at the same time run in the order they were
 *   scheduled (a reschedule counts as scheduling again).
 * - While an action runs, `now()` is its due time. Actions it schedules that fall inside the
 *   window being advanced run in the same call.
 * - `schedule(work, delay, state)` returns the action, a `Subscription`: unsubscribing cancels it.
 *   Inside `work`, `this.schedule(state, delay)` reschedules the same action (the idiom RxJS's
 *   `interval`, `debounceTime` and `bufferTime` use); rescheduling a pending action moves it.
 *   An action that ran and was not rescheduled stays open and can be scheduled again, as RxJS's
 *   own actions can.
 * - Delays: negative delays count as 0; `NaN` or `Infinity` throw a `RangeError`, a non-number a
 *   `TypeError`. A `work` that is not a function is a `TypeError` from `schedule` itself.
 * - The constructor checks `startTime` (a finite number) and `options` (an object whose only key is
 *   `flushLimit`) at once; `null` is never taken for "default".
 * - An action that throws is cancelled and the error propagates out of `advanceBy`, `advanceTo` or
 *   `flush`; the clock stays at that action's due time, the remaining actions stay pending and the
 *   scheduler stays usable.
 * - `advanceBy`, `advanceTo` and `flush` cannot be called from inside a running action.
 *
 * ## Example
 * ```ts
 * import { timer } from 'rxjs';
 * import { ManualTimeScheduler } from 'rxjs-backpressure/testing';
 *
 * const scheduler = new ManualTimeScheduler();
 * const seen: number[] = [];
 * timer(100, scheduler).subscribe(() => seen.push(scheduler.now()));
 * scheduler.advanceBy(99);  // seen: []
 * scheduler.advanceBy(1);   // seen: [100]
 * scheduler.pendingCount;   // 0
 * ```
 *
 * @see {@link withVirtualTime}
 */
export class ManualTimeScheduler implements SchedulerLike {
  private readonly timeline: Timeline;
  private readonly flushLimit: number;

  /**
   * Checks its arguments at once, as the operators do: a bad one is an error here, not at the first
   * `schedule` or `flush`. Only `undefined` means "default"; `null` is refused.
   *
   * ```ts
   * new ManualTimeScheduler();                                   // starts at 0
   * new ManualTimeScheduler(1_700_000_000_000, { flushLimit: 10 });
   * new ManualTimeScheduler(0, { flushLimt: 10 });
   * // TypeError: ManualTimeScheduler: unknown option `flushLimt` (did you mean `flushLimit`?); known: `flushLimit`
   * ```
   *
   * @param startTime The clock's initial value in ms: any finite number. Default 0.
   * @param options `flushLimit`: how many actions one `flush()` may run (default 1,000,000).
   * @throws TypeError when `startTime` is not a number, `options` is not an object (`null`, an array,
   *   a function, a primitive) or has an unknown key, or `flushLimit` is not a number.
   * @throws RangeError when `startTime` is not finite or `flushLimit` is not a positive integer or
   *   `Infinity`.
   */
  constructor(startTime = 0, options?: ManualTimeSchedulerOptions) {
    check.finiteNumber(NAME, 'startTime', startTime);
    check.options(NAME, options, OPTION_KEYS);
    const { flushLimit = DEFAULT_FLUSH_LIMIT } = options ?? {};
    check.positiveIntegerOrInfinity(NAME, 'flushLimit', flushLimit);
    this.timeline = new Timeline(startTime);
    this.flushLimit = flushLimit;
  }

  /**
   * Actions scheduled and not yet run or cancelled. A rescheduled pending action counts once.
   *
   * ```ts
   * const action = scheduler.schedule(() => {}, 10);
   * scheduler.pendingCount; // 1
   * action.unsubscribe();
   * scheduler.pendingCount; // 0
   * ```
   */
  get pendingCount(): number {
    return this.timeline.size;
  }

  /**
   * When the next pending action is due, or `undefined` if nothing is pending.
   *
   * ```ts
   * scheduler.schedule(() => {}, 25);
   * scheduler.nextDueTime; // 25 (starting from 0)
   * ```
   */
  get nextDueTime(): number | undefined {
    return this.timeline.firstDue();
  }

  /**
   * The virtual clock in ms: the due time of the running action, otherwise the time last advanced to.
   *
   * ```ts
   * new ManualTimeScheduler(1000).now(); // 1000
   * ```
   *
   * @return The current virtual time.
   */
  now(): number {
    return this.timeline.clock;
  }

  /**
   * Schedules `work` to run `delay` ms from now (at the earliest on the next `advanceBy(0)`, never
   * synchronously).
   *
   * ```ts
   * scheduler.schedule(function (n: number) {
   *   if (n < 3) this.schedule(n + 1, 10); // runs at 0, 10, 20, 30
   * }, 0, 0);
   * ```
   *
   * @param work Runs with `this` bound to the action and the state as its argument.
   * @param delay Ms from now; default 0; negative counts as 0.
   * @param state Passed to `work` (`undefined` when omitted).
   * @return The action: unsubscribe to cancel it, `schedule(state, delay)` to move it.
   * @throws TypeError when `work` is not a function (rather than later, from inside `advanceBy`) or
   *   `delay` is not a number; RangeError when `delay` is `NaN` or infinite.
   */
  schedule<T>(work: (this: SchedulerAction<T>, state: T) => void, delay = 0, state?: T): SchedulerAction<T> {
    if (typeof work !== 'function') {
      throw new TypeError(`ManualTimeScheduler.schedule: \`work\` must be a function, got ${describe(work)}`);
    }
    const ms = checkDelay('schedule', delay);
    const action = new ManualTimeAction<T>(this.timeline, work);
    // Validated above, so the action's own check cannot throw after it was created.
    return action.schedule(state, ms) as SchedulerAction<T>;
  }

  /**
   * Moves the clock forward by `ms`, running every action due up to and including the new time,
   * in time order, including actions scheduled while advancing. The clock ends at `now() + ms`.
   *
   * ```ts
   * scheduler.advanceBy(1000); // one virtual second, at once
   * ```
   *
   * @param ms A finite, non-negative number of ms; `advanceBy(0)` runs what is due now.
   * @throws RangeError for a negative, `NaN` or infinite `ms`.
   * @throws Error when more than `flushLimit` actions run at one instant (an action that keeps
   *   rescheduling with no delay would otherwise never let the call return).
   */
  advanceBy(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new (typeof ms === 'number' ? RangeError : TypeError)(
        `ManualTimeScheduler.advanceBy: \`ms\` must be a finite, non-negative number, got ${describe(ms)}`,
      );
    }
    this.advance('advanceBy', this.timeline.clock + ms);
  }

  /**
   * Moves the clock forward to `time`, running every action due up to and including it, in time
   * order, including actions scheduled while advancing. The clock ends at `time`.
   *
   * ```ts
   * scheduler.advanceTo(5000); // now() === 5000 afterwards
   * ```
   *
   * @param time A finite time, not earlier than `now()`.
   * @throws RangeError when `time` is in the past or not finite.
   * @throws Error when more than `flushLimit` actions run at one instant (see `advanceBy`).
   */
  advanceTo(time: number): void {
    const timeline = this.timeline;
    if (typeof time !== 'number' || !Number.isFinite(time)) {
      throw new (typeof time === 'number' ? RangeError : TypeError)(
        `ManualTimeScheduler.advanceTo: \`time\` must be a finite number, got ${describe(time)}`,
      );
    }
    if (time < timeline.clock) {
      throw new RangeError(
        `ManualTimeScheduler.advanceTo: cannot go back in time from ${timeline.clock} to ${time}`,
      );
    }
    this.advance('advanceTo', time);
  }

  private advance(method: string, time: number): void {
    const timeline = this.timeline;
    const limit = this.flushLimit;
    this.run(method, () => {
      /** Actions run at the current instant: time cannot move on while one keeps rescheduling at 0. */
      let atInstant = 0;
      for (let due = timeline.firstDue(); due !== undefined && due <= time; due = timeline.firstDue()) {
        atInstant = due === timeline.clock ? atInstant + 1 : 1;
        if (atInstant > limit) {
          throw new Error(
            `ManualTimeScheduler.${method}: ran ${String(limit)} actions (flushLimit) at ${String(due)} ` +
              'without time moving on: an action keeps scheduling another with no delay. Look for a ' +
              'retry or a drain that reschedules itself at once while nothing changes.',
          );
        }
        this.runNext(due);
      }
      timeline.clock = time;
    });
  }

  /**
   * Runs actions in time order until nothing is pending, including actions scheduled meanwhile.
   * The clock ends at the due time of the last action run (unchanged if none ran).
   *
   * A periodic timer never stops rescheduling itself, so `flush()` throws an `Error` once it has run
   * `flushLimit` actions (constructor option, default 1,000,000) and work is still pending; use
   * `advanceBy`/`advanceTo` for such timers, or unsubscribe them first.
   *
   * ```ts
   * timer(60_000, scheduler).subscribe(done);
   * scheduler.flush(); // done was called; now() === 60000
   * ```
   *
   * @throws Error when more than `flushLimit` actions would run in this call.
   */
  flush(): void {
    const timeline = this.timeline;
    const limit = this.flushLimit;
    this.run('flush', () => {
      let ran = 0;
      while (timeline.size > 0) {
        if (ran >= limit) {
          throw new Error(
            `ManualTimeScheduler.flush: ran ${ran} actions (flushLimit) and work is still scheduled ` +
              `(${timeline.size} pending, next due at ${timeline.firstDue()}, now ${timeline.clock}): ` +
              'a periodic timer such as interval() keeps rescheduling itself. ' +
              'Use advanceBy(ms) or advanceTo(time) to run a bounded stretch of time, unsubscribe the timer ' +
              'first, or raise the flushLimit option.',
          );
        }
        this.runNext(timeline.firstDue() as number);
        ran++;
      }
    });
  }

  private runNext(due: number): void {
    const action = this.timeline.pop();
    this.timeline.clock = due;
    action.execute();
  }

  private run(method: string, body: () => void): void {
    const timeline = this.timeline;
    if (timeline.running) {
      throw new Error(
        `ManualTimeScheduler.${method}: cannot be called from inside a scheduled action (the scheduler is already running actions)`,
      );
    }
    timeline.running = true;
    try {
      body();
    } finally {
      timeline.running = false;
    }
  }
}
