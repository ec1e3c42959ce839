import {
  Observable,
  type ObservableInput,
  type OperatorFunction,
  type SchedulerLike,
  type Subscriber,
} from 'rxjs';
import type { OnDrop } from '../types.js';
import { GatedQueue, type EngineOverflow } from './GatedQueue.js';
import { checkLimit, watchLimit, type Limit } from './limits.js';
import { attachMeter, checkMeter, type FlowMeter, type FlowProbe } from '../monitoring/FlowMeter.js';
import {
  isAdaptiveConcurrency,
  type AdaptiveConcurrency,
  type LimitController,
} from '../adaptive/adaptiveConcurrency.js';
import { isAdaptiveCapacity, type AdaptiveCapacity } from '../adaptive/adaptiveCapacity.js';
import { OperatorSubscriber } from './OperatorSubscriber.js';
import { toObservable } from './toObservable.js';
import * as check from './validate.js';

/**
 * What a failed inner does to the stream: `'error'` errors the output (as `mergeMap` does);
 * `'continue'` swallows the error (the value counts as released, its slot frees, the stream goes
 * on); a function returns a fallback whose values are emitted in place of the failed work's.
 */
export type OnInnerError<T, R> = 'error' | 'continue' | ((error: unknown, value: T) => ObservableInput<R>);

/** Options shared by `bufferFixed`, `bufferDropping`, `bufferSliding`, `bufferBounded` and `bufferPriority`. */
export interface BufferOptions<T, R = never> {
  /**
   * How many `project` inners may run at once: a positive integer or `Infinity`, or an Observable of
   * them that changes the limit while the stream runs (it must emit at once on subscription; raising
   * the limit starts waiting values at once, lowering it never cancels running work).
   * @default 1
   */
  concurrency?: number | Observable<number> | AdaptiveConcurrency;
  /**
   * Called once for every value that is discarded, with the reason: `'overflow'` (`'shed'` for
   * `bufferPriority`), `'expired'` or `'cleared'`.
   */
  onDrop?: OnDrop<T>;
  /**
   * When the source errors: `false` sends the error at once (waiting values are reported
   * `'cleared'`); `true` works off the queue and the running inners first, then sends it.
   * @default false
   */
  delayError?: boolean;
  /**
   * The longest a value may wait for a slot, in ms: a finite number >= 0, or `Infinity`. A value
   * still waiting after the releases of the instant `arrival + ttl` is reported `'expired'` and
   * never reaches `project`.
   * @default Infinity
   */
  ttl?: number;
  /**
   * Where a finite `ttl` reads time and schedules its one expiry action.
   * @default asyncScheduler (virtual under `TestScheduler.run` and `withVirtualTime`)
   */
  scheduler?: SchedulerLike;
  /**
   * What a failed inner does: `'error'` errors the output; `'continue'` swallows the error, frees the
   * slot and goes on; a function `(error, value) => fallback` emits the fallback's values in place of
   * the failed work's (if the fallback errors, the output errors). A throwing `project` errors the
   * output whatever this says: that is a programming error, not failed work.
   * @default 'error'
   */
  onError?: OnInnerError<T, R>;
  /** Counts what flows through this operator (see {@link FlowMeter}). */
  meter?: FlowMeter;
}

/** The keys of {@link BufferOptions}. */
export const BUFFER_OPTION_KEYS: readonly string[] = [
  'concurrency',
  'onDrop',
  'delayError',
  'ttl',
  'scheduler',
  'onError',
  'meter',
];

/** The subscriber of one run of `project`, as a {@link RunWatch} sees it. */
export interface WatchedRun {
  /** Ends the run early with an error: the inner is unsubscribed and the run fails. */
  error(error: unknown): void;
}

/** What one run of `project` reports to a {@link RunPolicy}. */
export interface RunWatch {
  /** The inner completed, failed (with its error), or was cancelled (unsubscribed before it ended). */
  end(outcome: 'completed' | 'failed' | 'cancelled', error?: unknown): void;
  /** The run's subscriber, before the inner is subscribed (a call timeout errors it). */
  attach(run: WatchedRun): void;
}

/** How a {@link RunPolicy} answers a value that got a slot. */
export type RunTicket<R> = RunWatch | RunFallback<R> | 'refused' | 'wait';

/** A {@link RunTicket}: run this instead of `project` (a class, so that telling it apart is cheap). */
export class RunFallback<R> {
  constructor(readonly input: ObservableInput<R>) {}
}

/**
 * Hooks around each run of `project`, made per subscription (the circuit breaker's `protect` is a
 * buffer with a policy). Without one, every value that gets a slot runs.
 */
export interface RunPolicy<T, R> {
  /** A condition beside a free slot for a value to leave the queue (e.g. the breaker lets calls through). */
  canStart?(): boolean;
  /**
   * A value got a slot. Returns a watch for its run; or a fallback to run in the slot instead (its
   * values emitted, its error erroring the output, nothing reported to the policy); `'refused'`
   * (the policy has reported or failed it; the slot frees); or `'wait'` (it may not start after all:
   * it goes back to the head of the queue).
   */
  begin(value: T): RunTicket<R>;
  /** Values wait and cannot start (see the engine's gate). */
  blocked?(): void;
  /** Nothing waits any more. */
  idle?(): void;
}

/** The per-subscription context a {@link RunPolicy} is made with. */
export interface RunContext<T> {
  queue: GatedQueue<T>;
  /** The output's subscriber: what the policy starts belongs to it (teardown with `add`). */
  destination: Subscriber<unknown>;
}

/** What the buffers vary: the overflow handling, and for `bufferPriority` the rank of each value. */
export interface BufferVariant<T, R = unknown> {
  overflow: EngineOverflow;
  rank?: (value: T) => number;
  knownKeys?: readonly string[];
  /** Makes the run policy of one subscription (see {@link RunPolicy}). */
  policy?: (context: RunContext<T>) => RunPolicy<T, R>;
}

/** A bounded buffer in front of async work, with the overflow strategy given by the operator. */
export function createBufferOperator<T, R>(
  operator: string,
  capacity: Limit | AdaptiveCapacity,
  project: (value: T, index: number) => ObservableInput<R>,
  options: BufferOptions<T, R> | undefined,
  { overflow, rank, knownKeys = BUFFER_OPTION_KEYS, policy: makePolicy }: BufferVariant<T, R>,
): OperatorFunction<T, R> {
  const sized = isAdaptiveCapacity(capacity) ? capacity : undefined;
  if (!sized) checkLimit(operator, 'capacity', capacity, check.nonNegativeIntegerOrInfinity);
  check.isFunction(operator, 'project', project);
  check.options(operator, options, knownKeys);
  const {
    concurrency = 1,
    onDrop,
    delayError = false,
    ttl = Infinity,
    scheduler,
    onError = 'error',
    meter,
  } = options ?? {};
  const adaptive = isAdaptiveConcurrency(concurrency) ? concurrency : undefined;
  if (!adaptive) checkLimit(operator, 'concurrency', concurrency, check.positiveIntegerOrInfinity);
  check.optionalFunction(operator, 'onDrop', onDrop);
  check.optionalBoolean(operator, 'delayError', delayError);
  check.nonNegativeOrInfinity(operator, 'ttl', ttl);
  check.scheduler(operator, scheduler);
  check.onInnerError(operator, onError);
  checkMeter(operator, meter);

  return (source) =>
    new Observable<R>((destination) => {
      let active = 0;
      let limit = 1;
      /** An adaptive limit's controller for this subscription. */
      const controller = adaptive?.controller();
      const probe = meter
        ? attachMeter(meter, { capacity: () => queue.capacityLimit, concurrency: () => limit })
        : undefined;
      const queue: GatedQueue<T> = new GatedQueue<T>(
        destination,
        {
          operator,
          capacity: 0,
          overflow,
          onDrop,
          delayError,
          ttl,
          scheduler,
          rank,
          probe,
          timed: adaptive !== undefined,
          estimator: sized?.estimator(),
        },
        {
          canRelease: () => active < limit && (policy?.canStart?.() ?? true),
          busy: () => active > 0,
          admit: () => {
            active++;
          },
          release: (value, index) => {
            if (!policy) {
              subscribeInner(toObservable(operator, project(value, index)), value, onError);
              return true;
            }
            const ticket = policy.begin(value);
            if (ticket === 'refused' || ticket === 'wait') {
              // Refused: reported by the policy. Wait: it goes back to the head of the queue.
              active--;
              return ticket === 'wait' ? 'wait' : false;
            }
            if (ticket instanceof RunFallback) {
              subscribeInner(toObservable(operator, ticket.input, 'the fallback'), value, 'error');
              return true;
            }
            let inner: Observable<R>;
            try {
              inner = toObservable(operator, project(value, index));
            } catch (err) {
              // A throwing project is a programming error, not an outcome of the call.
              ticket.end('cancelled');
              throw err;
            }
            subscribeInner(inner, value, onError, ticket);
            return true;
          },
          blocked: () => policy?.blocked?.(),
          idle: () => policy?.idle?.(),
        },
      );
      /**
       * A run's slot frees (the same for every run of this subscription). `at`: the clock reading the
       * run's end took, when no user code has run since: the drain it starts uses it (see `drain`).
       */
      const done = (at = NaN): void => {
        active--;
        if (sized) queue.completed();
        queue.drain(at);
      };
      const policy = makePolicy?.({ queue, destination });
      const fail = (err: unknown): void => {
        queue.fail(err);
      };

      /**
       * Runs one inner (or, after it failed, its fallback) in a slot; the slot frees once, when the
       * run ends (`done`). The meter sees each run start and end (a fallback is a run of its own).
       */
      const subscribeInner = (
        inner: Observable<R>,
        value: T,
        whenFailed: OnInnerError<T, R>,
        watch?: RunWatch,
      ): void => {
        const startedAt = probe || controller ? queue.time() : 0;
        // An adaptive limit samples calls, not fallbacks: only a run watched as a call, or any run
        // of `project` when there is no policy.
        const sampled =
          controller !== undefined && (watch !== undefined || !policy) && whenFailed === onError;
        probe?.started();
        const run = new InnerRun<T, R>(scope, value, whenFailed, watch, startedAt, sampled, active);
        watch?.attach(run);
        // An inner cancelled by teardown is not sampled: detaching the probe returns `running` to 0.
        inner.subscribe(run);
      };

      /** What every run of this subscription shares (see {@link InnerRun}). */
      const scope: RunScope<T, R> = {
        operator,
        destination,
        queue,
        probe,
        controller,
        policy,
        onError,
        done,
        run: subscribeInner,
      };

      const initialCapacity = sized
        ? 0
        : watchLimit(
            operator,
            'capacity',
            capacity as Limit,
            check.nonNegativeIntegerOrInfinity,
            destination,
            (n) => {
              queue.setCapacity(n);
            },
            fail,
          );
      if (initialCapacity === undefined) return;
      queue.setCapacity(initialCapacity);
      const initialConcurrency = controller
        ? controller.limit
        : watchLimit(
            operator,
            'concurrency',
            concurrency as Limit,
            check.positiveIntegerOrInfinity,
            destination,
            (n) => {
              limit = n;
              queue.drain();
            },
            fail,
          );
      if (initialConcurrency === undefined) return;
      limit = initialConcurrency;
      controller?.listen((n) => {
        limit = n;
        queue.drain();
      });
      queue.subscribeTo(source);
    });
}

/** What the runs of one subscription share: one object per subscription, not per run. */
interface RunScope<T, R> {
  readonly operator: string;
  readonly destination: Subscriber<unknown>;
  readonly queue: GatedQueue<T>;
  readonly probe: FlowProbe | undefined;
  readonly controller: LimitController | undefined;
  readonly policy: RunPolicy<T, R> | undefined;
  /** The operator's `onError`. */
  readonly onError: OnInnerError<T, R>;
  /**
   * A run's slot frees. `at`: the clock reading the run's end took, when no user code has run since:
   * the drain it starts uses it (see `GatedQueue.drain`).
   */
  done(at?: number): void;
  /** Runs an inner in the slot of `value` (a fallback, after a failed run). */
  run(inner: Observable<R>, value: T, whenFailed: OnInnerError<T, R>, watch?: RunWatch): void;
}

/**
 * One run of `project` (or of a fallback) in a slot: its subscriber, and what its end does, in one
 * object. On its end it tells the meter, the adaptive limit and the policy, in that order, then frees
 * the slot; on failure, `whenFailed` decides (fail the output, go on, or run a fallback in the slot).
 */
class InnerRun<T, R> extends OperatorSubscriber<R> {
  constructor(
    private readonly scope: RunScope<T, R>,
    private readonly value: T,
    private readonly whenFailed: OnInnerError<T, R>,
    private readonly watch: RunWatch | undefined,
    /** `time()` when the run started (read only for a meter or an adaptive limit). */
    private readonly startedAt: number,
    /** The adaptive limit samples this run. */
    private readonly sampled: boolean,
    /** Runs in progress when this one started, for the adaptive limit's sample. */
    private readonly inflight: number,
  ) {
    super(scope.destination);
  }

  protected override onNext(result: R): void {
    this.destination.next(result);
  }

  protected override onError(err: unknown): void {
    const { scope, whenFailed, sampled } = this;
    const { probe } = scope;
    // One clock read for the meter and the adaptive limit.
    const took = probe || sampled ? scope.queue.time() - this.startedAt : 0;
    if (probe) probe.ended(took, 'failed');
    if (sampled) (scope.controller as LimitController).sample(took, this.inflight, true);
    // The policy (the breaker) counts the failure first, whatever onError says.
    this.watch?.end('failed', err);
    if (whenFailed === 'error') {
      scope.queue.fail(err);
    } else if (whenFailed === 'continue') {
      scope.done();
    } else {
      // The fallback runs in the failed work's slot; if it fails too, the output fails.
      let fallback: Observable<R>;
      try {
        fallback = toObservable(scope.operator, whenFailed(err, this.value), '`onError`');
      } catch (thrown) {
        scope.queue.fail(thrown);
        return;
      }
      scope.run(fallback, this.value, 'error');
    }
  }

  protected override onComplete(): void {
    const { scope, sampled, watch } = this;
    const { probe } = scope;
    const end = probe || sampled ? scope.queue.time() : NaN;
    const took = probe || sampled ? end - this.startedAt : 0;
    if (probe) probe.ended(took, 'completed');
    if (sampled) (scope.controller as LimitController).sample(took, this.inflight, false);
    watch?.end('completed');
    // The drain this end starts reads the time of the same instant: the end's reading serves,
    // unless a policy or an adaptive limit ran code of its own in between.
    scope.done(watch || scope.controller ? NaN : end);
  }

  protected override onCancelled(): void {
    this.watch?.end('cancelled');
  }
}
