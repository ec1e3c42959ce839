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
  /** What the probes count, written by them directly. */
  private readonly tally = new Tally();

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
    const { tally } = this;
    let capacity = 0;
    let concurrency = 0;
    let tokens = 0;
    tally.settle();
    for (const { gauges } of tally.active) {
      capacity += gauges.capacity?.() ?? 0;
      concurrency += gauges.concurrency?.() ?? 0;
      tokens += gauges.tokens?.() ?? 0;
    }
    let droppedTotal = 0;
    for (const reason of REASONS) droppedTotal += tally.dropped[reason];
    return {
      name: this.name,
      time: this.scheduler.now(),
      received: tally.base.received,
      released: tally.base.released,
      dropped: { ...tally.dropped },
      droppedTotal,
      waiting: tally.waiting,
      maxWaiting: tally.maxWaiting,
      running: tally.running,
      maxRunning: tally.maxRunning,
      completed: tally.base.completed,
      failed: tally.base.failed,
      capacity,
      concurrency,
      tokens,
      wait: tally.wait.summary(),
      duration: tally.duration.summary(),
      subscriptions: tally.active.size,
      storeFailures: tally.storeFailures,
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
    const probe = new MeterProbe(this.tally, this.scheduler, this.drops, gauges);
    this.tally.active.add(probe);
    return probe;
  }
}

/**
 * The counts a probe keeps at each value (one increment each, on the probe itself), added into the
 * meter's when a snapshot is taken or the subscription ends.
 */
class Counts {
  received = 0;
  released = 0;
  completed = 0;
  failed = 0;
  /** Waits and durations of 0 (a value released at once, a run that ended in the same ms). */
  zeroWaits = 0;
  zeroDurations = 0;

  /** Moves these counts into `tally`'s (this becomes all zeros). */
  moveTo(tally: Tally): void {
    const { base } = tally;
    base.received += this.received;
    base.released += this.released;
    base.completed += this.completed;
    base.failed += this.failed;
    tally.wait.recordZeros(this.zeroWaits);
    tally.duration.recordZeros(this.zeroDurations);
    this.received = this.released = this.completed = this.failed = 0;
    this.zeroWaits = this.zeroDurations = 0;
  }
}

/**
 * A meter's counts and gauges: the sums over every subscription it watches. The gauges (`waiting`,
 * `running`, their maxima, the samples other than 0) are kept up to date at each event; the counts in
 * {@link Counts} are kept by each probe and added in at every snapshot, so that a snapshot at any
 * instant reads exactly what an eager count would.
 */
class Tally {
  /** The counts of subscriptions that ended, and of what was folded in from the active ones. */
  readonly base = new Counts();
  readonly dropped: Record<DropReason, number> = {
    overflow: 0,
    rejected: 0,
    expired: 0,
    shed: 0,
    cleared: 0,
  };
  waiting = 0;
  maxWaiting = 0;
  running = 0;
  maxRunning = 0;
  storeFailures = 0;
  readonly wait = new Histogram();
  readonly duration = new Histogram();
  /** The probes of the subscriptions attached now. */
  readonly active = new Set<MeterProbe>();

  /** Adds in what the probes have counted since the last time (before a snapshot reads the counts). */
  settle(): void {
    for (const probe of this.active) probe.fold();
    // Zeros counted after a subscription ended (see MeterProbe) go to the distributions too.
    const { base } = this;
    this.wait.recordZeros(base.zeroWaits);
    this.duration.recordZeros(base.zeroDurations);
    base.zeroWaits = base.zeroDurations = 0;
  }
}

/**
 * The probe of one subscription: a class rather than an object of closures, so that every call site
 * in the operators sees one shape and one set of methods, whatever the subscription. What it counts
 * per value goes to its own {@link Counts}; once detached, to the meter's directly (a release that
 * finishes after its subscription was torn down from inside it is still counted), while its gauges
 * (`waiting`, `running`) stay at 0: a run started after the teardown is never subscribed.
 */
class MeterProbe implements FlowProbe {
  /** Where the counts go: the probe's own until detached, then the meter's `base`. */
  private counts = new Counts();
  /** This subscription's share of the meter's `waiting` and `running`, given back on detach. */
  private waitingHere = 0;
  private runningHere = 0;
  private attached = true;

  constructor(
    private readonly tally: Tally,
    private readonly scheduler: SchedulerLike,
    private readonly drops: Subject<FlowDrop>,
    readonly gauges: FlowGauges,
  ) {}

  /** Adds the counts kept here into the meter's. */
  fold(): void {
    if (this.attached) this.counts.moveTo(this.tally);
  }

  now(): number {
    return this.scheduler.now();
  }

  received(): void {
    this.counts.received++;
  }

  released(wait: number): void {
    const { counts } = this;
    counts.released++;
    if (wait > 0) this.tally.wait.record(wait);
    else counts.zeroWaits++;
  }

  dropped(value: unknown, reason: DropReason): void {
    this.tally.dropped[reason]++;
    if (this.drops.observed) this.drops.next({ value, reason, time: this.scheduler.now() });
  }

  waiting(delta: number): void {
    // A subscription that has ended has no values waiting and no runs: its gauges stay at 0.
    if (!this.attached) return;
    const { tally } = this;
    this.waitingHere += delta;
    tally.waiting += delta;
    if (tally.waiting > tally.maxWaiting) tally.maxWaiting = tally.waiting;
  }

  started(): void {
    if (!this.attached) return;
    const { tally } = this;
    this.runningHere++;
    tally.running++;
    if (tally.running > tally.maxRunning) tally.maxRunning = tally.running;
  }

  ended(duration: number, outcome: 'completed' | 'failed' | 'cancelled'): void {
    if (this.attached) {
      // (A run that ends after detach was taken out of `running` by the detach.)
      this.runningHere--;
      this.tally.running--;
    }
    if (outcome === 'cancelled') return;
    const { tally } = this;
    const { counts } = this;
    if (outcome === 'completed') counts.completed++;
    else counts.failed++;
    if (duration > 0) tally.duration.record(duration);
    else counts.zeroDurations++;
  }

  storeFailed(): void {
    this.tally.storeFailures++;
  }

  detach(): void {
    if (!this.attached) return;
    const { tally } = this;
    this.counts.moveTo(tally);
    this.counts = tally.base;
    this.attached = false;
    tally.waiting -= this.waitingHere;
    tally.running -= this.runningHere;
    this.waitingHere = this.runningHere = 0;
    tally.active.delete(this);
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
