import { asyncScheduler, Observable, Subject, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { Histogram, type Distribution } from '../internal/Histogram.js';
import * as check from '../internal/validate.js';
import type { DropReason } from '../types.js';

export type { Distribution } from '../internal/Histogram.js';

/** Options of {@link FlowMeter}. */
export interface FlowMeterOptions {
  /** The flow's name, reported in every snapshot and as the OpenTelemetry attribute. Required, non-empty. */
  name: string;
  /**
   * Where snapshot times are read and `snapshots$` schedules its action.
   * @default asyncScheduler (virtual under `TestScheduler.run` and `withVirtualTime`)
   */
  scheduler?: SchedulerLike;
}

/** One dropped value, as `drops$` tells it. */
export interface FlowDrop {
  /** The value, as the operator's `onDrop` received it. */
  value: unknown;
  /** Why it was dropped. */
  reason: DropReason;
  /** When it was dropped, on the meter's scheduler. */
  time: number;
}

/**
 * What a {@link FlowMeter} has seen. Counts are cumulative since the meter was created; gauges are
 * read at the instant of the snapshot and add up over every subscription the meter watches.
 */
export interface FlowSnapshot {
  /** The meter's `name`. */
  name: string;
  /** The meter's scheduler time. */
  time: number;
  /** Values that reached the operators. */
  received: number;
  /** Values handed on: to `project`, or emitted (buckets, pullFeedback), or pulled and passed on. */
  released: number;
  /** Values reported to `onDrop`, by reason (every reason present). */
  dropped: Record<DropReason, number>;
  /** Values reported to `onDrop`, all reasons together. */
  droppedTotal: number;
  /** Values waiting now (in a queue, or held for demand or for `'drain'`). */
  waiting: number;
  /** The most values waiting at once since the meter was created. */
  maxWaiting: number;
  /** Inners in progress now (project-based operators). */
  running: number;
  /** The most inners in progress at once since the meter was created. */
  maxRunning: number;
  /** Inners that completed (project-based operators). */
  completed: number;
  /** Inners that failed (project-based operators). */
  failed: number;
  /** Values allowed to wait (the sum over subscriptions; `Infinity` when unbounded). */
  capacity: number;
  /** Inners allowed at once (project-based operators). */
  concurrency: number;
  /** Tokens available now (token and leaky buckets), computed from the bucket's clock. */
  tokens: number;
  /** Time from arrival to release, in ms. */
  wait: Distribution;
  /** Time from release to the inner's end, completed or failed, in ms (cancelled inners not sampled). */
  duration: Distribution;
  /** Subscriptions active now. */
  subscriptions: number;
  /**
   * Requests to a shared token store (`tokenBucket`'s `store`) that failed or timed out, each
   * answered by `onStoreError`'s fallback: the visible trace of running without the shared limit.
   */
  storeFailures: number;
}

/** The limits an operator's subscription has in force, read when a snapshot is taken. */
export interface FlowGauges {
  capacity?(): number;
  concurrency?(): number;
  tokens?(): number;
}

/**
 * What one subscription of an operator tells its meter. Operators get one from {@link attachMeter};
 * it is not part of the public API.
 */
export interface FlowProbe {
  /** The meter's time, for operators that have no scheduler of their own. */
  now(): number;
  received(): void;
  /** A value was handed on after waiting `wait` ms. */
  released(wait: number): void;
  dropped(value: unknown, reason: DropReason): void;
  /** Values waiting changed by `delta`. */
  waiting(delta: number): void;
  /** An inner started. */
  started(): void;
  /** An inner ended after `duration` ms: completed, failed, or cancelled (not sampled). */
  ended(duration: number, outcome: 'completed' | 'failed' | 'cancelled'): void;
  /** A request to a shared token store failed (its `onStoreError` fallback applies). */
  storeFailed(): void;
  /** The subscription ended: its gauges return to 0. */
  detach(): void;
}

const REASONS: readonly DropReason[] = ['overflow', 'rejected', 'expired', 'shed', 'cleared'];

/** The key under which a meter hands out probes: registered, so that two copies of the library agree. */
const ATTACH = Symbol.for('rxjs-backpressure.FlowMeter.attach');

/**
 * Counts what flows through the operators it is passed to (`meter` option), so that queues, drops,
 * waits and limits can be watched, logged, alerted on and exported (see `rxjs-backpressure/opentelemetry`).
 *
 * One meter may watch several operators or subscriptions: counts and gauges add up, `max*` are the
 * maxima of the sums. A meter never changes what an operator does, holds no reference to any value,
 * and costs nothing where it is not passed.
 *
 * ```text
 * source:   a-b-c----|        bufferFixed(1, project 4 frames, { meter })
 * snapshot at 3: received 2, released 1, waiting 1, running 1
 * ```
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { bufferFixed, FlowMeter } from 'rxjs-backpressure';
 *
 * const meter = new FlowMeter({ name: 'uploads' });
 * of(1, 2, 3).pipe(bufferFixed(100, (n) => of(n), { concurrency: 4, meter })).subscribe();
 * meter.snapshot().released; // 3
 * meter.drops$.subscribe(({ value, reason }) => console.warn('dropped', value, reason));
 * meter.snapshots$(10_000).subscribe((s) => console.log(s.name, s.waiting, s.wait.p99));
 * ```
 */
export class FlowMeter {
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isFlowMeter = true;
  /** The flow's name, from the options. */
  readonly name: string;
  /** Every drop as it happens (hot): synchronously, after `onDrop`, in the same order. */
  readonly drops$: Observable<FlowDrop>;
  private readonly scheduler: SchedulerLike;
  private readonly drops = new Subject<FlowDrop>();
  private received = 0;
  private released = 0;
  private readonly dropped: Record<DropReason, number> = {
    overflow: 0,
    rejected: 0,
    expired: 0,
    shed: 0,
    cleared: 0,
  };
  private waiting = 0;
  private maxWaiting = 0;
  private running = 0;
  private maxRunning = 0;
  private completed = 0;
  private failed = 0;
  private storeFailures = 0;
  private readonly wait = new Histogram();
  private readonly duration = new Histogram();
  private readonly active = new Set<FlowGauges>();

  constructor(options: FlowMeterOptions) {
    check.options('FlowMeter', options, ['name', 'scheduler'], { required: true });
    const { name, scheduler } = options;
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`FlowMeter: \`name\` must be a non-empty string, got ${check.describe(name)}`);
    }
    check.scheduler('FlowMeter', scheduler);
    this.name = name;
    this.scheduler = scheduler ?? asyncScheduler;
    this.drops$ = this.drops.asObservable();
  }

  /** What the meter has seen, now. */
  snapshot(): FlowSnapshot {
    let capacity = 0;
    let concurrency = 0;
    let tokens = 0;
    for (const gauges of this.active) {
      capacity += gauges.capacity?.() ?? 0;
      concurrency += gauges.concurrency?.() ?? 0;
      tokens += gauges.tokens?.() ?? 0;
    }
    let droppedTotal = 0;
    for (const reason of REASONS) droppedTotal += this.dropped[reason];
    return {
      name: this.name,
      time: this.scheduler.now(),
      received: this.received,
      released: this.released,
      dropped: { ...this.dropped },
      droppedTotal,
      waiting: this.waiting,
      maxWaiting: this.maxWaiting,
      running: this.running,
      maxRunning: this.maxRunning,
      completed: this.completed,
      failed: this.failed,
      capacity,
      concurrency,
      tokens,
      wait: this.wait.summary(),
      duration: this.duration.summary(),
      subscriptions: this.active.size,
      storeFailures: this.storeFailures,
    };
  }

  /**
   * A snapshot every `period` ms on the meter's scheduler, the first after one period (like
   * `interval`). One scheduled action per subscription, none after unsubscribe.
   * @param period A finite number > 0.
   */
  snapshots$(period: number): Observable<FlowSnapshot> {
    check.finitePositive('FlowMeter.snapshots$', 'period', period);
    return new Observable<FlowSnapshot>((subscriber) =>
      this.scheduler.schedule(
        function (this: SchedulerAction<FlowMeter>, meter) {
          subscriber.next((meter as FlowMeter).snapshot());
          if (!subscriber.closed) this.schedule(meter, period);
        },
        period,
        this,
      ),
    );
  }

  /** @internal Hands out the probe for one subscription of an operator (see {@link attachMeter}). */
  [ATTACH](gauges: FlowGauges): FlowProbe {
    this.active.add(gauges);
    let waiting = 0;
    let running = 0;
    let attached = true;
    return {
      now: () => this.scheduler.now(),
      received: () => {
        this.received++;
      },
      released: (wait) => {
        this.released++;
        this.wait.record(wait);
      },
      dropped: (value, reason) => {
        this.dropped[reason]++;
        if (this.drops.observed) this.drops.next({ value, reason, time: this.scheduler.now() });
      },
      waiting: (delta) => {
        waiting += delta;
        this.waiting += delta;
        if (this.waiting > this.maxWaiting) this.maxWaiting = this.waiting;
      },
      started: () => {
        running++;
        this.running++;
        if (this.running > this.maxRunning) this.maxRunning = this.running;
      },
      ended: (duration, outcome) => {
        running--;
        this.running--;
        if (outcome === 'cancelled') return;
        if (outcome === 'completed') this.completed++;
        else this.failed++;
        this.duration.record(duration);
      },
      storeFailed: () => {
        this.storeFailures++;
      },
      detach: () => {
        if (!attached) return;
        attached = false;
        this.waiting -= waiting;
        this.running -= running;
        waiting = running = 0;
        this.active.delete(gauges);
      },
    };
  }
}

/** True for a {@link FlowMeter} from any copy of this library. */
export function isFlowMeter(value: unknown): value is FlowMeter {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { isFlowMeter?: unknown }).isFlowMeter === true &&
    typeof (value as Record<symbol, unknown>)[ATTACH] === 'function'
  );
}

/** Checks a `meter` option at creation. */
export function checkMeter(operator: string, value: unknown): void {
  if (value !== undefined && !isFlowMeter(value)) {
    throw new TypeError(`${operator}: \`meter\` must be a FlowMeter, got ${check.describe(value)}`);
  }
}

/** The probe for one subscription; the subscription's teardown detaches it. */
export function attachMeter(meter: FlowMeter, gauges: FlowGauges): FlowProbe {
  return meter[ATTACH](gauges);
}
