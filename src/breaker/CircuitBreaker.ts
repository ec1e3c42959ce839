import {
  asyncScheduler,
  Observable,
  type MonoTypeOperatorFunction,
  type ObservableInput,
  type OperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { CallTimeoutError, CircuitOpenError } from '../errors.js';
import {
  createBufferOperator,
  RunFallback,
  type OnInnerError,
  type RunPolicy,
  type RunWatch,
  type WatchedRun,
} from '../internal/bufferInternals.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import { RingQueue } from '../internal/RingQueue.js';
import * as check from '../internal/validate.js';
import { checkMeter, type FlowMeter } from '../monitoring/FlowMeter.js';
import type { AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import type { AdaptiveConcurrency } from '../adaptive/adaptiveConcurrency.js';
import type { OnDrop, OverflowStrategy } from '../types.js';
import { CountWindow, TimeWindow, type OutcomeWindow, type WindowJSON } from './windows.js';
export type { WindowJSON } from './windows.js';

/** Where a {@link CircuitBreaker} stands. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

/** One state of a breaker, as `state$` tells it. */
export interface CircuitStateChange {
  /** The state entered. */
  state: CircuitState;
  /** When it entered that state (scheduler time). */
  since: number;
  /** Why, in a few words: the trip rule that was met, `'probes succeeded'`, `'reset'`... */
  reason: string;
}

/** What `toJSON()` writes and `initialState` reads: plain JSON. */
export interface CircuitBreakerSnapshot {
  /** The format's version: 1. */
  version: 1;
  /** The state when the snapshot was taken (isolation is not kept: an isolated breaker is written as `'closed'`). */
  state: 'closed' | 'open' | 'half-open';
  /** Consecutive opens without closing (what `openDuration` is given). */
  opens: number;
  /** With state `'open'`: how long it had been open when the snapshot was taken, in ms. */
  openedFor: number;
  /** Consecutive failures counted so far (closed). */
  consecutiveFailures: number;
  /** The outcomes the rate rules read, as the window held them. */
  window: WindowJSON;
}

/** Options of {@link CircuitBreaker}. At least one trip rule is required. */
export interface CircuitBreakerOptions {
  /** Open after this many counted failures in a row. A positive integer. */
  consecutiveFailures?: number;
  /** Open when failures / calls over the window is at least this, in (0, 1]. */
  failureRateThreshold?: number;
  /** Open when slow calls / calls over the window is at least this, in (0, 1]. Needs `slowCallDuration`. */
  slowCallRateThreshold?: number;
  /** A call taking at least this many ms is slow. A finite number >= 0. */
  slowCallDuration?: number;
  /**
   * What the rate rules look at: the last `calls` counted outcomes, or the outcomes that ended in the
   * last `duration` ms, in `buckets` buckets (default 10) aligned to the breaker's creation.
   * @default { calls: 100 }
   */
  window?:
    | {
        /** Count the last this many outcomes. A positive integer. */
        calls: number;
      }
    | {
        /** Count the outcomes that ended in the last this many ms. A finite number > 0. */
        duration: number;
        /** Slices of `duration` the window moves by. A positive integer. @default 10 */
        buckets?: number;
      };
  /**
   * The rate rules apply only once the window holds this many calls. A positive integer.
   * @default 10 (for `{ calls: n }`: min(10, n))
   */
  minimumCalls?: number;
  /**
   * Milliseconds open before half-open; a function gets 1, 2, 3... for consecutive opens without
   * closing (a backoff). A finite number >= 0.
   * @default 30_000
   */
  openDuration?: number | ((opens: number) => number);
  /**
   * Calls let through at once while half-open; this many successes close it. A positive integer.
   * @default 1
   */
  halfOpenProbes?: number;
  /**
   * Ms after the first probe started: if half-open has not decided by then (a hung probe), it opens
   * again. A finite number > 0 or `Infinity`.
   * @default Infinity
   */
  halfOpenMaxWait?: number;
  /** Which errors count as failures; `false` means the error is ignored (not counted). Default: every error. */
  isFailure?: (error: unknown) => boolean;
  /** A call running longer than this many ms is cancelled and counts as a failure ({@link CallTimeoutError}). */
  callTimeout?: number;
  /**
   * Where time is read and timers are scheduled.
   * @default asyncScheduler (virtual under `TestScheduler.run` and `withVirtualTime`)
   */
  scheduler?: SchedulerLike;
  /** From `toJSON()`, to resume after a restart. */
  initialState?: CircuitBreakerSnapshot;
}

/** Options of {@link CircuitBreaker.protect}. */
export interface ProtectOptions<T, R = never> {
  /**
   * Calls running at once: a positive integer or `Infinity`, or an Observable of them.
   * @default Infinity (as `mergeMap`)
   */
  concurrency?: number | Observable<number> | AdaptiveConcurrency;
  /**
   * What a value that would start does while the breaker refuses calls: `'error'` errors the output
   * with {@link CircuitOpenError} (the value reported `'rejected'`, waiting ones `'cleared'`);
   * `'drop'` reports it `'rejected'` and goes on; `'wait'` keeps it (and all behind it) waiting
   * until calls are let through (needs `capacity`); a function's result is emitted as its fallback.
   * @default 'error'
   */
  whenOpen?: 'error' | 'drop' | 'wait' | ((value: T, error: CircuitOpenError) => ObservableInput<R>);
  /**
   * Values allowed to wait: a non-negative integer or `Infinity`, or an Observable of them.
   * Required with `whenOpen: 'wait'`.
   * @default Infinity
   */
  capacity?: number | Observable<number> | AdaptiveCapacity;
  /** What a full queue does with an arriving value. @default 'drop-incoming' */
  overflow?: OverflowStrategy;
  /** The longest a value may wait, in ms; then it is reported `'expired'`. @default Infinity */
  ttl?: number;
  /**
   * A failed call (after the breaker counted it): `'error'` errors the output; `'continue'` goes on;
   * a function's result is emitted in place of the call's.
   * @default 'error'
   */
  onError?: OnInnerError<T, R>;
  /** Called once for every value not passed to `project` or a fallback, with the reason. */
  onDrop?: OnDrop<T>;
  /** Counts what flows through (see {@link FlowMeter}). */
  meter?: FlowMeter;
}

const NAME = 'CircuitBreaker';
const PROTECT = 'protect';

/** What the breaker reads of a call when its outcome is counted ({@link BreakerCall}, {@link GuardedCall}). */
interface Permit {
  /** The breaker's epoch when the call started: an outcome after a change of state is not counted. */
  readonly epoch: number;
  /** When the call started (read only for the slow-call rule; 0 otherwise). */
  readonly start: number;
  /** Let through as a half-open probe. */
  readonly probe: boolean;
  /** The timeout error made for this call, if it timed out (a failure whatever isFailure says). */
  readonly timeout: CallTimeoutError | undefined;
}

/** A call whose `callTimeout` action is due. */
interface TimedCall {
  timedOut(): void;
}

function timeOut(this: SchedulerAction<TimedCall>, call: TimedCall | undefined): void {
  (call as TimedCall).timedOut();
}

/**
 * One call of `protect`, from its permit to its outcome: the breaker's epoch when it started, its
 * start time and its timeout. One object per call.
 */
class BreakerCall implements RunWatch, Permit {
  timeout: CallTimeoutError | undefined = undefined;
  private timer: Subscription | undefined = undefined;
  private run: WatchedRun | undefined = undefined;
  private ended = false;

  constructor(
    private readonly settle: Settle,
    readonly epoch: number,
    readonly start: number,
    readonly probe: boolean,
    scheduler: SchedulerLike,
    private readonly callTimeout: number,
  ) {
    if (callTimeout !== Infinity) this.timer = scheduler.schedule(timeOut, callTimeout, this);
  }

  attach(run: WatchedRun): void {
    this.run = run;
  }

  /** The call timed out: it fails with a {@link CallTimeoutError}. */
  timedOut(): void {
    this.timer = undefined;
    this.timeout = new CallTimeoutError(this.callTimeout);
    this.run?.error(this.timeout);
  }

  end(outcome: 'completed' | 'failed' | 'cancelled', error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) {
      this.timer.unsubscribe();
      this.timer = undefined;
    }
    this.settle(this, outcome, error);
  }
}

/**
 * One subscription through `guard`: the call (its permit, timeout and outcome) and the subscriber to
 * the source in one object. The outcome is counted before it is forwarded; unsubscribed before the
 * source ended, the call is counted `'cancelled'` (the rest is {@link OperatorSubscriber}'s rules).
 */
class GuardedCall<T> extends OperatorSubscriber<T> implements Permit {
  timeout: CallTimeoutError | undefined = undefined;
  private timer: Subscription | undefined = undefined;

  constructor(
    destination: Subscriber<T>,
    private readonly settle: Settle,
    readonly epoch: number,
    readonly start: number,
    readonly probe: boolean,
    scheduler: SchedulerLike,
    private readonly callTimeout: number,
  ) {
    super(destination);
    if (callTimeout !== Infinity) this.timer = scheduler.schedule(timeOut, callTimeout, this);
  }

  /** The call timed out: it fails with a {@link CallTimeoutError}. */
  timedOut(): void {
    this.timer = undefined;
    this.timeout = new CallTimeoutError(this.callTimeout);
    this.error(this.timeout);
  }

  protected override onNext(value: T): void {
    this.destination.next(value);
  }

  protected override onError(err: unknown): void {
    this.end('failed', err);
    this.destination.error(err);
  }

  protected override onComplete(): void {
    this.end('completed', undefined);
    this.destination.complete();
  }

  protected override onCancelled(): void {
    this.end('cancelled', undefined);
  }

  /** Called once: from `error`, `complete`, or a cancelling `unsubscribe`. */
  private end(outcome: 'completed' | 'failed' | 'cancelled', error: unknown): void {
    if (this.timer) {
      this.timer.unsubscribe();
      this.timer = undefined;
    }
    this.settle(this, outcome, error);
  }
}

/** The breaker's outcome counting, as a call reports it. */
type Settle = (call: Permit, outcome: 'completed' | 'failed' | 'cancelled', error: unknown) => void;

interface StateListener {
  subscriber: Subscriber<CircuitStateChange>;
  timer: Subscription | undefined;
  /** The sequence number of the last change it was told (the state it got on subscribe counts). */
  seen: number;
}

/**
 * A circuit breaker for Observables: it counts the outcomes of calls, opens when a trip rule is met
 * so that a failing downstream is left alone, lets probes through after `openDuration`, and closes
 * when they succeed. Every timer runs on its scheduler, so every transition is testable in virtual
 * time; its state is an Observable; unsubscribing a call releases its permit.
 *
 * ```text
 * consecutiveFailures: 2, openDuration: 10              (1 frame = 1 ms)
 * calls:     -x-x----------o--        x fails, o succeeds
 * state$:    c--o---------hc--        c closed, o open (at 3), h half-open (at 13), c closed (at 14)
 * ```
 *
 * Use {@link CircuitBreaker.protect} as an operator in front of calls (a bounded buffer whose gate
 * also asks the breaker), or {@link CircuitBreaker.guard} on an Observable that is one call per
 * subscription. One breaker may serve any number of both at once: counts and state are shared.
 *
 * ## Example
 * ```ts
 * import { Observable, of } from 'rxjs';
 * import { CircuitBreaker } from 'rxjs-backpressure';
 *
 * declare const orders$: Observable<{ id: string }>;
 * declare function send(order: { id: string }): Observable<string>;
 *
 * const breaker = new CircuitBreaker({ failureRateThreshold: 0.5, window: { calls: 20 }, openDuration: 10_000 });
 * orders$.pipe(breaker.protect(send, { concurrency: 4, whenOpen: 'wait', capacity: 100, ttl: 30_000 }));
 * breaker.state$.subscribe(({ state, reason }) => console.log('breaker', state, reason));
 * ```
 */
export class CircuitBreaker {
  private readonly scheduler: SchedulerLike;
  private readonly window: OutcomeWindow;
  /** The window counts by time (it needs the time of each outcome). */
  private readonly timeWindow: boolean;
  private readonly consecutiveRule: number;
  private readonly failureRate: number;
  private readonly slowRate: number;
  private readonly slowCallDuration: number;
  private readonly minimumCalls: number;
  private readonly openDurationOf: (opens: number) => number;
  private readonly halfOpenProbes: number;
  private readonly halfOpenMaxWait: number;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly callTimeout: number;

  private current: CircuitState = 'closed';
  private since: number;
  private reason = 'created';
  /** Incremented on every change of state (and on a reset from open or half-open). */
  private epoch = 0;
  private opens = 0;
  private openedAt = 0;
  private halfOpenAt = 0;
  private consecutive = 0;
  /** The rate rules were last evaluated in this era of the window, with at least `minimumCalls`. */
  private judged = false;
  private judgedEra = NaN;
  private probesRunning = 0;
  private probesSucceeded = 0;
  private halfOpenTimer: Subscription | undefined;
  private isolations = 0;
  private readonly stateListeners = new Set<StateListener>();
  /** Transitions numbered in order; those not yet told to every `state$` subscriber. */
  private changes = 0;
  private readonly undelivered = new RingQueue<{ seq: number; change: CircuitStateChange }>();
  private delivering = false;
  /** Told whenever calls may have become possible (a state change, a permit returned). */
  private readonly readyListeners = new Set<() => void>();
  /** `settle`, bound once: every call of this breaker reports its outcome through it. */
  private readonly settleCall: Settle = (call, outcome, error) => {
    this.settle(call, outcome, error);
  };

  constructor(options: CircuitBreakerOptions) {
    check.options(
      NAME,
      options,
      [
        'consecutiveFailures',
        'failureRateThreshold',
        'slowCallRateThreshold',
        'slowCallDuration',
        'window',
        'minimumCalls',
        'openDuration',
        'halfOpenProbes',
        'halfOpenMaxWait',
        'isFailure',
        'callTimeout',
        'scheduler',
        'initialState',
      ],
      { required: true },
    );
    const o = options;
    if (
      o.consecutiveFailures === undefined &&
      o.failureRateThreshold === undefined &&
      o.slowCallRateThreshold === undefined
    ) {
      throw new TypeError(
        `${NAME}: at least one trip rule is required: \`consecutiveFailures\`, \`failureRateThreshold\` or \`slowCallRateThreshold\``,
      );
    }
    this.consecutiveRule =
      o.consecutiveFailures === undefined
        ? Infinity
        : check.positiveInteger(NAME, 'consecutiveFailures', o.consecutiveFailures);
    this.failureRate =
      o.failureRateThreshold === undefined
        ? Infinity
        : rate(NAME, 'failureRateThreshold', o.failureRateThreshold);
    this.slowRate =
      o.slowCallRateThreshold === undefined
        ? Infinity
        : rate(NAME, 'slowCallRateThreshold', o.slowCallRateThreshold);
    if (o.slowCallRateThreshold !== undefined && o.slowCallDuration === undefined) {
      throw new TypeError(`${NAME}: \`slowCallDuration\` is required with \`slowCallRateThreshold\``);
    }
    this.slowCallDuration =
      o.slowCallDuration === undefined
        ? Infinity
        : check.finiteNonNegative(NAME, 'slowCallDuration', o.slowCallDuration);
    check.scheduler(NAME, o.scheduler);
    this.scheduler = o.scheduler ?? asyncScheduler;
    const now = this.scheduler.now();
    this.since = now;

    const { window = { calls: 100 } } = o;
    check.options(NAME, window, 'calls' in window ? ['calls'] : ['duration', 'buckets'], {
      required: true,
      option: 'window',
    });
    let defaultMinimum = 10;
    if ('calls' in window) {
      const calls = check.positiveInteger(NAME, 'window.calls', window.calls);
      this.window = new CountWindow(calls);
      this.timeWindow = false;
      defaultMinimum = Math.min(10, calls);
    } else {
      const duration = check.finitePositive(NAME, 'window.duration', window.duration);
      const { buckets = 10 } = window;
      check.positiveInteger(NAME, 'window.buckets', buckets);
      this.window = new TimeWindow(duration, buckets, now);
      this.timeWindow = true;
    }
    const { minimumCalls = defaultMinimum } = o;
    this.minimumCalls = check.positiveInteger(NAME, 'minimumCalls', minimumCalls);

    const { openDuration = 30_000 } = o;
    if (typeof openDuration === 'function') {
      this.openDurationOf = (opens) => {
        const ms: unknown = openDuration(opens);
        return check.finiteNonNegative(NAME, 'openDuration', ms);
      };
    } else {
      check.finiteNonNegative(NAME, 'openDuration', openDuration);
      this.openDurationOf = () => openDuration;
    }
    const { halfOpenProbes = 1, halfOpenMaxWait = Infinity, isFailure, callTimeout = Infinity } = o;
    this.halfOpenProbes = check.positiveInteger(NAME, 'halfOpenProbes', halfOpenProbes);
    this.halfOpenMaxWait = check.positiveOrInfinity(NAME, 'halfOpenMaxWait', halfOpenMaxWait);
    check.optionalFunction(NAME, 'isFailure', isFailure);
    this.isFailure = isFailure ?? (() => true);
    this.callTimeout = check.positiveOrInfinity(NAME, 'callTimeout', callTimeout);
    if (o.initialState !== undefined) this.restore(o.initialState, now);
  }

  /** The state now (open turns half-open at its instant for whoever looks). */
  get state(): CircuitState {
    this.refresh();
    return this.current;
  }

  /**
   * The current state on subscribe, then every transition, at the instant it happens (while open,
   * one scheduled action per subscription fires at the half-open instant).
   */
  readonly state$: Observable<CircuitStateChange> = new Observable<CircuitStateChange>((subscriber) => {
    this.refresh();
    const listener: StateListener = { subscriber, timer: undefined, seen: this.changes };
    this.stateListeners.add(listener);
    subscriber.next(this.change());
    this.armStateTimer(listener);
    return () => {
      listener.timer?.unsubscribe();
      this.stateListeners.delete(listener);
    };
  });

  /**
   * Holds the breaker open (`'isolated'`: every call refused, `retryAfter` Infinity) until every
   * handle is released; then it is closed, with the window cleared.
   */
  isolate(): {
    /** Ends this handle's hold; calling it again does nothing. */
    release(): void;
  } {
    this.isolations++;
    if (this.isolations === 1) this.transition('isolated', 'isolated');
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.isolations--;
        if (this.isolations === 0) {
          this.clearCounts();
          this.transition('closed', 'isolation released');
        }
      },
    };
  }

  /** Back to closed, window and counts cleared; running calls keep running. Does not end an isolation. */
  reset(): void {
    this.clearCounts();
    if (this.current === 'open' || this.current === 'half-open') this.transition('closed', 'reset');
  }

  /** The state, for `initialState` after a restart. Isolation is not kept (its handles belong to this process). */
  toJSON(): CircuitBreakerSnapshot {
    this.refresh();
    const now = this.scheduler.now();
    const state = this.current === 'isolated' ? 'closed' : this.current;
    return {
      version: 1,
      state,
      opens: this.opens,
      openedFor: state === 'open' ? now - this.openedAt : 0,
      consecutiveFailures: this.consecutive,
      window: this.window.toJSON(now),
    };
  }

  /**
   * An operator that runs `project` for each value as a call through the breaker: a bounded buffer
   * (the library's buffer rules: `capacity`, `overflow`, `concurrency`, `ttl`) whose gate also asks
   * the breaker. With the defaults nothing waits while the breaker is closed, as with `mergeMap`.
   *
   * ```text
   * breaker { consecutiveFailures: 1, openDuration: 5 }   (1 frame = 1 ms; calls answer at once)
   * protect(call, { whenOpen: 'drop', onError: 'continue' })
   * source:   a-b-c-d-|          a's call fails: open at 0, half-open at 5
   * output:   ------D-|          onDrop: b 'rejected', c 'rejected'; d is the probe, and closes it
   * ```
   *
   * Every value is, exactly once, passed to `project`, handed to the `whenOpen` fallback, or reported
   * to `onDrop`. A failed call is counted by the breaker first, then `onError` applies.
   *
   * @param project The call per value; returns any `ObservableInput`.
   * @param options See {@link ProtectOptions}.
   */
  protect<T, R>(
    project: (value: T, index: number) => ObservableInput<R>,
    options?: ProtectOptions<NoInfer<T>, NoInfer<R>>,
  ): OperatorFunction<T, R> {
    check.isFunction(PROTECT, 'project', project);
    check.options(PROTECT, options, [
      'concurrency',
      'whenOpen',
      'capacity',
      'overflow',
      'ttl',
      'onError',
      'onDrop',
      'meter',
    ]);
    const {
      concurrency = Infinity,
      whenOpen = 'error',
      capacity,
      overflow = 'drop-incoming',
      ttl = Infinity,
      onError = 'error',
      onDrop,
      meter,
    } = options ?? {};
    if (
      whenOpen !== 'error' &&
      whenOpen !== 'drop' &&
      whenOpen !== 'wait' &&
      typeof whenOpen !== 'function'
    ) {
      throw new (typeof whenOpen === 'string' ? RangeError : TypeError)(
        `${PROTECT}: \`whenOpen\` must be 'error', 'drop', 'wait' or a function (value, error) => fallback, got ${check.describe(whenOpen)}`,
      );
    }
    if (whenOpen === 'wait' && capacity === undefined) {
      throw new TypeError(
        `${PROTECT}: \`capacity\` is required with whenOpen 'wait' (how many values may wait while it is open)`,
      );
    }
    check.overflowStrategy(PROTECT, overflow);
    checkMeter(PROTECT, meter);
    const wait = whenOpen === 'wait';
    return createBufferOperator<T, R>(
      PROTECT,
      capacity ?? Infinity,
      project,
      { concurrency, ttl, onError, onDrop, meter, scheduler: this.scheduler },
      {
        overflow,
        policy: ({ queue, destination }) => {
          const ready = (): void => {
            queue.drain();
          };
          if (wait) {
            this.readyListeners.add(ready);
            destination.add(() => this.readyListeners.delete(ready));
          }
          /**
           * With `whenOpen: 'wait'`, while open with values waiting: the one action that drains at
           * the half-open instant. Without 'wait' nothing waits for the breaker, so there is none
           * (and no `blocked`, `idle` or finalizer for it).
           */
          let halfOpenDrain: Subscription | undefined;
          if (wait) destination.add(() => halfOpenDrain?.unsubscribe());
          const policy: RunPolicy<T, R> = {
            canStart: wait ? () => this.canCall() : undefined,
            begin: (value) => {
              // true: a half-open probe; false: closed; else the error that refuses the call.
              const permit = this.acquire();
              if (typeof permit !== 'boolean') {
                if (whenOpen === 'error') {
                  queue.report(value, 'rejected');
                  queue.fail(permit);
                  return 'refused';
                }
                if (typeof whenOpen === 'function') return new RunFallback(whenOpen(value, permit));
                // A value admitted while calls were let through, whose turn came after the breaker
                // opened (fed back from inside a call that opened it): it waits like the others.
                if (wait) return 'wait';
                queue.report(value, 'rejected');
                return 'refused';
              }
              return new BreakerCall(
                this.settleCall,
                this.epoch,
                this.startTime(),
                permit,
                this.scheduler,
                this.callTimeout,
              );
            },
            blocked: wait
              ? () => {
                  if (halfOpenDrain) return;
                  // The state as of now: values can also be blocked by full slots, in which case the
                  // breaker was not asked and may still read 'open' past its half-open instant. A
                  // drain scheduled for that instant would find the slots full and schedule itself
                  // again at once, without end; the end of a run drains anyway.
                  this.refresh();
                  if (this.current !== 'open') return;
                  const delay = Math.max(0, this.halfOpenAt - this.scheduler.now());
                  halfOpenDrain = this.scheduler.schedule(() => {
                    halfOpenDrain = undefined;
                    queue.drain();
                  }, delay);
                }
              : undefined,
            idle: wait
              ? () => {
                  halfOpenDrain?.unsubscribe();
                  halfOpenDrain = undefined;
                }
              : undefined,
          };
          return policy;
        },
      },
    );
  }

  /**
   * An operator that makes each subscription to the source one call through the breaker: refused at
   * once with {@link CircuitOpenError} while the breaker does not let calls through; its completion,
   * error or unsubscription is the call's outcome.
   *
   * ```text
   * source (per subscription):  --x|  or  --#
   * guard():                    --x|  or  #  (CircuitOpenError, while open)
   * ```
   */
  guard<T>(): MonoTypeOperatorFunction<T> {
    return (source) =>
      new Observable<T>((subscriber) => {
        const permit = this.acquire();
        if (typeof permit !== 'boolean') {
          subscriber.error(permit);
          return;
        }
        const call = new GuardedCall<T>(
          subscriber,
          this.settleCall,
          this.epoch,
          this.startTime(),
          permit,
          this.scheduler,
          this.callTimeout,
        );
        source.subscribe(call);
      });
  }

  /** Whether a call would be let through now. */
  private canCall(): boolean {
    this.refresh();
    if (this.current === 'closed') return true;
    return this.current === 'half-open' && this.probesRunning < this.halfOpenProbes;
  }

  /**
   * Takes a permit for a call: whether the call is a half-open probe, or the error that refuses it.
   * The caller then makes the call's object, with the breaker's epoch and {@link startTime}.
   */
  private acquire(): boolean | CircuitOpenError {
    this.refresh();
    switch (this.current) {
      case 'closed':
        return false;
      case 'half-open':
        if (this.probesRunning >= this.halfOpenProbes) return new CircuitOpenError('half-open', 0);
        this.probesRunning++;
        if (
          !this.halfOpenTimer &&
          this.halfOpenMaxWait !== Infinity &&
          this.probesSucceeded === 0 &&
          this.probesRunning === 1
        ) {
          const epoch = this.epoch;
          this.halfOpenTimer = this.scheduler.schedule(() => {
            this.halfOpenTimer = undefined;
            if (this.epoch === epoch && this.current === 'half-open')
              this.open(this.opens + 1, 'half-open max wait passed');
          }, this.halfOpenMaxWait);
        }
        return true;
      case 'open':
        return new CircuitOpenError('open', Math.max(0, this.halfOpenAt - this.scheduler.now()));
      case 'isolated':
        return new CircuitOpenError('isolated', Infinity);
    }
  }

  /** A call's start time: it matters only to the slow-call rule, so the clock is not read otherwise. */
  private startTime(): number {
    return this.slowCallDuration === Infinity ? 0 : this.scheduler.now();
  }

  /** Counts a call's outcome (rule 1), then applies the rules of the state it started in. */
  private settle(permit: Permit, outcome: 'completed' | 'failed' | 'cancelled', error: unknown): void {
    this.refresh();
    const sameState = permit.epoch === this.epoch;
    if (permit.probe && sameState) this.probesRunning--;
    let failed = false;
    if (outcome === 'failed') {
      if (permit.timeout !== undefined && error === permit.timeout) {
        failed = true;
      } else {
        try {
          failed = this.isFailure(error);
        } catch {
          // A throwing isFailure cannot say the error is harmless.
          failed = true;
        }
      }
    }
    const counted = sameState && (outcome === 'completed' || failed);
    if (counted) {
      // The clock is read only when a rule needs it: the slow-call rule or a time window.
      const now = this.slowCallDuration === Infinity && !this.timeWindow ? 0 : this.scheduler.now();
      const slow = now - permit.start >= this.slowCallDuration;
      if (this.current === 'closed') this.countClosed(now, failed, slow);
      else if (this.current === 'half-open') this.countProbe(failed, slow);
    }
    this.notifyReady();
  }

  private countClosed(now: number, failed: boolean, slow: boolean): void {
    const era = this.window.record(now, failed, slow);
    if (failed) this.consecutive++;
    else this.consecutive = 0;
    if (this.consecutive >= this.consecutiveRule) {
      this.open(1, `${String(this.consecutive)} consecutive failures`);
      return;
    }
    if (this.failureRate === Infinity && this.slowRate === Infinity) return;
    // A quick call that succeeds cannot raise either rate, unless outcomes left the window since the
    // last look (a new era of a time window), or the window had too few calls to judge then.
    if (!failed && !slow && this.judged && era === this.judgedEra) return;
    const { calls, failures, slow: slowCalls } = this.window.totals(now);
    this.judgedEra = era;
    this.judged = calls >= this.minimumCalls;
    if (!this.judged) return;
    if (failures / calls >= this.failureRate) {
      this.open(1, `failure rate ${String(failures)}/${String(calls)}`);
    } else if (slowCalls / calls >= this.slowRate) {
      this.open(1, `slow call rate ${String(slowCalls)}/${String(calls)}`);
    }
  }

  private countProbe(failed: boolean, slow: boolean): void {
    if (failed || (slow && this.slowRate !== Infinity)) {
      this.open(this.opens + 1, failed ? 'probe failed' : 'probe was slow');
      return;
    }
    this.probesSucceeded++;
    if (this.probesSucceeded >= this.halfOpenProbes) {
      this.clearCounts();
      this.transition('closed', 'probes succeeded');
    }
  }

  private open(opens: number, reason: string): void {
    const now = this.scheduler.now();
    this.opens = opens;
    this.openedAt = now;
    this.halfOpenAt = now + this.openDurationOf(opens);
    this.consecutive = 0;
    this.transition('open', reason, now);
  }

  /** Open turns half-open at its instant, for whoever looks. */
  private refresh(): void {
    if (this.current === 'open' && this.scheduler.now() >= this.halfOpenAt) {
      this.transition('half-open', 'open duration passed', this.halfOpenAt);
    }
  }

  private transition(state: CircuitState, reason: string, at = this.scheduler.now()): void {
    this.current = state;
    this.since = at;
    this.reason = reason;
    this.epoch++;
    this.probesRunning = 0;
    this.probesSucceeded = 0;
    this.halfOpenTimer?.unsubscribe();
    this.halfOpenTimer = undefined;
    this.undelivered.push({ seq: ++this.changes, change: this.change() });
    this.deliverChanges();
    this.notifyReady();
  }

  /**
   * Tells every `state$` subscriber every transition, in order, from one loop: a subscriber that
   * changes the state as it is told queues the new transition behind the one being told.
   */
  private deliverChanges(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.undelivered.length > 0) {
        const next = this.undelivered.shift();
        for (const listener of [...this.stateListeners]) {
          if (listener.seen >= next.seq || listener.subscriber.closed) continue;
          listener.seen = next.seq;
          listener.subscriber.next(next.change);
        }
      }
    } finally {
      this.delivering = false;
    }
    for (const listener of this.stateListeners) this.armStateTimer(listener);
  }

  private clearCounts(): void {
    this.window.clear();
    this.judged = false;
    this.consecutive = 0;
    this.opens = 0;
  }

  private change(): CircuitStateChange {
    return { state: this.current, since: this.since, reason: this.reason };
  }

  private notifyReady(): void {
    if (this.readyListeners.size === 0) return;
    for (const ready of [...this.readyListeners]) ready();
  }

  /** A `state$` subscription holds one action while open, due at the half-open instant. */
  private armStateTimer(listener: StateListener): void {
    listener.timer?.unsubscribe();
    listener.timer = undefined;
    if (this.current !== 'open' || listener.subscriber.closed) return;
    const delay = Math.max(0, this.halfOpenAt - this.scheduler.now());
    listener.timer = this.scheduler.schedule(
      function (this: SchedulerAction<CircuitBreaker>, breaker) {
        (breaker as CircuitBreaker).refresh();
      },
      delay,
      this,
    );
  }

  private restore(snapshot: unknown, now: number): void {
    const s = snapshot as Partial<CircuitBreakerSnapshot> | null;
    const bad = (what: string): never => {
      throw new TypeError(`${NAME}: \`initialState\` must come from toJSON(): ${what}`);
    };
    if (typeof s !== 'object' || s === null || s.version !== 1) bad('version 1 expected');
    const { state, opens, openedFor, consecutiveFailures, window } = s as Record<string, unknown>;
    if (state !== 'closed' && state !== 'open' && state !== 'half-open')
      bad(`unknown state ${check.describe(state)}`);
    if (!(typeof opens === 'number' && Number.isInteger(opens) && opens >= 0)) {
      bad('`opens` must be a non-negative integer');
    }
    if (!(typeof openedFor === 'number' && openedFor >= 0 && Number.isFinite(openedFor))) {
      bad('`openedFor` must be a finite number >= 0');
    }
    if (!(
      typeof consecutiveFailures === 'number' &&
      Number.isInteger(consecutiveFailures) &&
      consecutiveFailures >= 0
    )) {
      bad('`consecutiveFailures` must be a non-negative integer');
    }
    const kind = (window as { kind?: unknown } | null)?.kind;
    if (kind !== 'calls' && kind !== 'duration') bad('`window` is not a window');
    const snap = s as CircuitBreakerSnapshot;
    this.window.restore(snap.window, now);
    this.consecutive = snap.consecutiveFailures;
    this.opens = snap.opens;
    this.current = snap.state;
    this.reason = 'restored';
    if (snap.state === 'open') {
      this.openedAt = now - snap.openedFor;
      this.halfOpenAt = this.openedAt + this.openDurationOf(Math.max(1, snap.opens));
      this.since = this.openedAt;
    }
  }
}

function rate(operator: string, option: string, value: unknown): number {
  if (typeof value !== 'number')
    throw new TypeError(
      `${operator}: \`${option}\` must be a number in (0, 1], got ${check.describe(value)}`,
    );
  if (!(value > 0 && value <= 1))
    throw new RangeError(
      `${operator}: \`${option}\` must be a number in (0, 1], got ${check.describe(value)}`,
    );
  return value;
}
