import type { SchedulerAction, Subscriber, Unsubscribable } from 'rxjs';
import { RingQueue } from '../internal/RingQueue.js';
import * as check from '../internal/validate.js';
import type { ManualTimeScheduler } from '../schedulers/ManualTimeScheduler.js';
import { checkServiceTime, quantileOf, type Quantile, type ServiceTime } from './distributions.js';
import type { SimulatedResponse } from './types.js';

/** A change of the downstream at a given instant (an incident, a recovery, a deploy). */
export interface DownstreamPhase {
  /** When it applies, in virtual ms from the start. Phases must be in strictly increasing order. */
  at: number;
  /** The new number of workers: a non-negative integer (0: an outage). Running requests finish. */
  workers?: number;
  /** The service time of requests that start from then on. */
  serviceTime?: ServiceTime | number;
}

/** Options of {@link downstream}. */
export interface DownstreamOptions {
  /** Requests served at once; more wait in the downstream's own FIFO queue. A positive integer. Required. */
  workers: number;
  /** How long one request takes to serve: {@link fixed}, {@link exponential}, {@link lognormal} or a number of ms. Required. */
  serviceTime: ServiceTime | number;
  /**
   * The caller gives up on a request not answered this many ms after it called: the call errors with
   * a `DownstreamTimeoutError`, and the downstream, which does not know, still serves the request. A
   * finite number > 0, or `Infinity`.
   * @default Infinity
   */
  timeout?: number;
  /**
   * Requests allowed to wait in the downstream's own queue; one more is answered at once with a
   * `DownstreamOverloadError`. A non-negative integer or `Infinity`.
   * @default Infinity
   */
  queueLimit?: number;
  /** Changes of `workers` or `serviceTime` at given instants, in increasing order of `at`. @default [] */
  phases?: readonly DownstreamPhase[];
}

/** A checked phase, as {@link Downstream} holds it. */
export interface DownstreamPhaseSpec {
  /** When it applies, in virtual ms from the start. */
  readonly at: number;
  /** The new number of workers, if it changes. */
  readonly workers?: number;
  /** The service time of requests that start from then on, if it changes. */
  readonly serviceTime?: ServiceTime;
}

/** The simulated consumer, as plain data. Made by {@link downstream}. */
export interface Downstream {
  /** Always `'downstream'`. */
  readonly kind: 'downstream';
  /** Requests served at once (before any phase). */
  readonly workers: number;
  /** How long one request takes to serve (before any phase). */
  readonly serviceTime: ServiceTime;
  /** The caller gives up after this many ms (`Infinity`: never). */
  readonly timeout: number;
  /** Requests allowed to wait in the downstream's own queue (`Infinity`: no limit). */
  readonly queueLimit: number;
  /** Changes of `workers` or `serviceTime`, in increasing order of `at`. */
  readonly phases: readonly DownstreamPhaseSpec[];
}

const NAME = 'downstream';
const KEYS = ['workers', 'serviceTime', 'timeout', 'queueLimit', 'phases'];
const PHASE_KEYS = ['at', 'workers', 'serviceTime'];

/**
 * The consumer a policy protects: `workers` requests are served at once, each for a time drawn from
 * `serviceTime`; more wait in its own FIFO queue (up to `queueLimit`, beyond which it answers with an
 * overload error at once); the caller gives up after `timeout`; `phases` change `workers` or
 * `serviceTime` at given instants.
 *
 * ```ts
 * downstream({
 *   workers: 8,
 *   serviceTime: lognormal({ median: 15, p99: 60 }),
 *   timeout: 1_000,
 *   phases: [{ at: 20_000, workers: 2 }, { at: 40_000, workers: 8 }], // an incident and its recovery
 * });
 * ```
 *
 * @param options See {@link DownstreamOptions}.
 * @return Plain, frozen data for a scenario's `downstream`.
 * @throws TypeError or RangeError naming `downstream` and the option: an unknown key, workers that
 *   are not a positive integer, phases out of order...
 */
export function downstream(options: DownstreamOptions): Downstream {
  return checkDownstream(NAME, 'options', options, true);
}

/**
 * Checks downstream options given to `fn` (`option` names them in messages; `'options'` for
 * {@link downstream} itself), and returns them as frozen {@link Downstream} data. Accepts what
 * {@link downstream} returns as well.
 */
export function checkDownstream(fn: string, option: string, value: unknown, factory = false): Downstream {
  const path = (name: string) => (option === 'options' ? name : `${option}.${name}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${fn}: \`${option}\` must be ${factory ? 'an object' : 'a downstream made by downstream({ workers, serviceTime, ... })'}, got ${check.describe(value)}`,
    );
  }
  const given = value as Record<string, unknown>;
  const known = factory ? KEYS : ['kind', ...KEYS];
  check.options(fn, value, known, { required: true, option });
  if (!factory && given.kind !== 'downstream') {
    throw new TypeError(
      `${fn}: \`${option}\` must be a downstream made by downstream({ workers, serviceTime, ... }), got an object whose \`kind\` is ${check.describe(given.kind)}`,
    );
  }
  check.positiveInteger(fn, path('workers'), given.workers);
  if (given.serviceTime === undefined) {
    throw new TypeError(
      `${fn}: \`${path('serviceTime')}\` is required (fixed(ms), exponential({ mean }) or lognormal({ median, p99 }))`,
    );
  }
  const serviceTime = checkServiceTime(fn, path('serviceTime'), given.serviceTime);
  const timeout = check.positiveOrInfinity(fn, path('timeout'), given.timeout ?? Infinity);
  const queueLimit = check.nonNegativeIntegerOrInfinity(fn, path('queueLimit'), given.queueLimit ?? Infinity);
  const phasesValue = given.phases ?? [];
  if (!Array.isArray(phasesValue)) {
    throw new TypeError(
      `${fn}: \`${path('phases')}\` must be an array of { at, workers?, serviceTime? }, got ${check.describe(phasesValue)}`,
    );
  }
  const phases: DownstreamPhaseSpec[] = [];
  let previous = -Infinity;
  (phasesValue as unknown[]).forEach((phase, i) => {
    const where = `${path('phases')}[${String(i)}]`;
    check.options(fn, phase, PHASE_KEYS, { required: true, option: where });
    const p = phase as Record<string, unknown>;
    check.finiteNonNegative(fn, `${where}.at`, p.at);
    const at = p.at as number;
    if (!(at > previous)) {
      throw new RangeError(
        `${fn}: \`${path('phases')}\` must be in increasing order of \`at\`: phase ${String(i)} (at ${String(at)}) does not come after phase ${String(i - 1)} (at ${String(previous)})`,
      );
    }
    previous = at;
    if (p.workers === undefined && p.serviceTime === undefined) {
      throw new TypeError(
        `${fn}: \`${where}\` changes nothing: give it \`workers\`, \`serviceTime\` or both`,
      );
    }
    const spec: { at: number; workers?: number; serviceTime?: ServiceTime } = { at };
    if (p.workers !== undefined) {
      spec.workers = checkWorkers(fn, `${where}.workers`, p.workers);
    }
    if (p.serviceTime !== undefined)
      spec.serviceTime = checkServiceTime(fn, `${where}.serviceTime`, p.serviceTime);
    phases.push(Object.freeze(spec));
  });
  return Object.freeze({
    kind: 'downstream',
    workers: given.workers as number,
    serviceTime: Object.freeze({ ...serviceTime }),
    timeout,
    queueLimit,
    phases: Object.freeze(phases),
  });
}

function checkWorkers(fn: string, option: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: \`${option}\` must be a non-negative integer, got ${check.describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${fn}: \`${option}\` must be a non-negative integer, got ${check.describe(value)}`);
  }
  return value;
}

// ------------------------------------------------------------------------------------------------
// The model that runs in a simulation.

/** A call in progress: it is the call's teardown too (unsubscribing abandons it). */
export class CallRecord<R> implements Unsubscribable {
  /** `undefined` once the caller unsubscribed or the call ended. */
  subscriber: Subscriber<SimulatedResponse> | undefined;
  /** When a worker took it; `NaN` while it waits. */
  startedAt = NaN;
  /** When its service ends; `Infinity` while it waits. */
  finishAt = Infinity;
  /** When the caller gives up; `Infinity` without a timeout. */
  deadline = Infinity;
  /** Order of service start, to break ties between equal finishing times. */
  sequence = 0;

  constructor(
    subscriber: Subscriber<SimulatedResponse>,
    /** What the simulator attached to the call (its request). */
    readonly request: R,
    readonly calledAt: number,
    /** The uniform draw that becomes its service time when it starts. */
    readonly draw: number,
  ) {
    this.subscriber = subscriber;
  }

  unsubscribe(): void {
    this.subscriber = undefined;
  }
}

/** What the model tells the simulation. */
export interface DownstreamListener<R> {
  /** The call was answered in time. */
  answered(record: CallRecord<R>): void;
  /** The call failed. */
  failed(record: CallRecord<R>, cause: 'timeout' | 'overload'): void;
  /**
   * Time reached `now`, at or past the end of the current window: the simulation closes the windows
   * that ended (each calls {@link DownstreamModel.sample}) before the model changes anything at `now`.
   */
  roll(now: number): void;
}

/** Time integrals of the model's gauges since the last {@link DownstreamModel.sample}. */
export interface DownstreamGauges {
  /** Integral of busy workers over time (worker-ms). */
  busy: number;
  /** Integral of available workers (at least the busy ones) over time (worker-ms). */
  capacity: number;
  /** Integral of the queue's length over time (request-ms). */
  queue: number;
  /** The longest the queue was. */
  queueMax: number;
}

/**
 * The downstream during a run: `workers` servers behind one FIFO queue, on the run's scheduler. Three
 * actions at most, each rescheduled rather than recreated: the next service completion (a heap of
 * the requests in service), the next caller timeout (a FIFO: every call has the same timeout and
 * calls happen in time order), and the overload answers of the current instant.
 */
export class DownstreamModel<R> {
  private workers: number;
  private busy = 0;
  private quantile: Quantile;
  private readonly queue = new RingQueue<CallRecord<R>>();
  private readonly inService: CallRecord<R>[] = [];
  private sequence = 0;
  private serviceAction: SchedulerAction<undefined> | undefined;
  private serviceDue = Infinity;
  private completing = false;
  private readonly timeouts = new RingQueue<CallRecord<R>>();
  private timeoutAction: SchedulerAction<undefined> | undefined;
  private timeoutDue = Infinity;
  private readonly refused = new RingQueue<CallRecord<R>>();
  private refuseAction: SchedulerAction<undefined> | undefined;
  private refusePending = false;
  private readonly timeout: number;
  private readonly queueLimit: number;
  // Gauges, integrated lazily up to `lastTouch`.
  private lastTouch = 0;
  private busyIntegral = 0;
  private capacityIntegral = 0;
  private queueIntegral = 0;
  private queueMax = 0;
  /** The end of the current window: the gauges are split there. */
  private boundary = Infinity;
  private readonly completeWork = (): void => this.complete();
  private readonly expireWork = (): void => this.expire();
  private readonly refuseWork = (): void => this.refuse();

  constructor(
    spec: Downstream,
    private readonly scheduler: ManualTimeScheduler,
    private readonly listener: DownstreamListener<R>,
  ) {
    this.workers = spec.workers;
    this.quantile = quantileOf(spec.serviceTime);
    this.timeout = spec.timeout;
    this.queueLimit = spec.queueLimit;
    for (const phase of spec.phases) {
      scheduler.schedule(() => this.enterPhase(phase), phase.at);
    }
  }

  /**
   * Schedules `action` (created on first use: an action that ran stays usable, so each of the three is
   * one object for the whole run) `delay` ms from now.
   */
  private at(
    action: SchedulerAction<undefined> | undefined,
    work: () => void,
    delay: number,
  ): SchedulerAction<undefined> {
    if (action === undefined) return this.scheduler.schedule<undefined>(work, delay);
    action.schedule(undefined, delay);
    return action;
  }

  /** A new call: served at once, queued, or refused. */
  accept(record: CallRecord<R>, now: number): void {
    if (this.busy < this.workers && this.queue.length === 0) {
      this.start(record, now);
    } else if (this.queue.length >= this.queueLimit) {
      this.refused.push(record);
      if (!this.refusePending) {
        this.refusePending = true;
        this.refuseAction = this.at(this.refuseAction, this.refuseWork, 0);
      }
      return;
    } else {
      this.touch(now);
      this.queue.push(record);
      if (this.queue.length > this.queueMax) this.queueMax = this.queue.length;
    }
    if (this.timeout !== Infinity) {
      record.deadline = now + this.timeout;
      this.timeouts.push(record);
      if (this.timeoutDue === Infinity) {
        this.timeoutDue = record.deadline;
        this.timeoutAction = this.at(this.timeoutAction, this.expireWork, this.timeout);
      }
    }
  }

  /** The gauges' integrals up to `time` (a window's end), then starts them again from 0 up to `next`. */
  sample(time: number, next: number): DownstreamGauges {
    this.integrate(time);
    this.boundary = next;
    const gauges = {
      busy: this.busyIntegral,
      capacity: this.capacityIntegral,
      queue: this.queueIntegral,
      queueMax: this.queueMax,
    };
    this.busyIntegral = this.capacityIntegral = this.queueIntegral = 0;
    this.queueMax = this.queue.length;
    return gauges;
  }

  /** Cancels the model's actions (the run is over). */
  stop(): void {
    this.serviceAction?.unsubscribe();
    this.timeoutAction?.unsubscribe();
    this.refuseAction?.unsubscribe();
  }

  /** Brings the gauges' integrals up to `now`, closing the windows that ended first. */
  private touch(now: number): void {
    if (now >= this.boundary) this.listener.roll(now);
    this.integrate(now);
  }

  private integrate(now: number): void {
    const dt = now - this.lastTouch;
    if (dt > 0) {
      const busy = this.busy;
      this.busyIntegral += busy * dt;
      this.capacityIntegral += (busy > this.workers ? busy : this.workers) * dt;
      this.queueIntegral += this.queue.length * dt;
      this.lastTouch = now;
    }
  }

  private start(record: CallRecord<R>, now: number): void {
    this.touch(now);
    this.busy++;
    record.startedAt = now;
    record.finishAt = now + this.quantile(record.draw);
    record.sequence = this.sequence++;
    this.push(record);
    if (!this.completing && record.finishAt < this.serviceDue) {
      this.serviceDue = record.finishAt;
      this.serviceAction = this.at(this.serviceAction, this.completeWork, record.finishAt - now);
    }
  }

  private startWaiting(now: number): void {
    while (this.busy < this.workers && this.queue.length > 0) {
      // `start` integrates the gauges up to now before the queue shrinks.
      this.touch(now);
      this.start(this.queue.shift(), now);
    }
  }

  /** The service action: every request whose service ends now leaves, and its caller is answered. */
  private complete(): void {
    const now = this.scheduler.now();
    this.serviceDue = Infinity;
    this.completing = true;
    const heap = this.inService;
    while (heap.length > 0 && (heap[0] as CallRecord<R>).finishAt <= now) {
      const record = this.pop();
      this.touch(now);
      this.busy--;
      this.startWaiting(now);
      if (record.subscriber !== undefined && record.finishAt <= record.deadline) {
        this.listener.answered(record);
      }
    }
    this.completing = false;
    if (heap.length > 0) {
      const due = (heap[0] as CallRecord<R>).finishAt;
      this.serviceDue = due;
      this.serviceAction = this.at(this.serviceAction, this.completeWork, due - now);
    }
  }

  /** The timeout action: callers whose deadline is now give up (unless answered at this instant). */
  private expire(): void {
    const now = this.scheduler.now();
    this.timeoutDue = Infinity;
    const timeouts = this.timeouts;
    while (timeouts.length > 0 && timeouts.peek().deadline <= now) {
      const record = timeouts.shift();
      // Answered already, abandoned, or answered at exactly its deadline (that counts as in time).
      if (record.subscriber === undefined || record.finishAt <= record.deadline) continue;
      this.listener.failed(record, 'timeout');
    }
    if (timeouts.length > 0) {
      const due = timeouts.peek().deadline;
      this.timeoutDue = due;
      this.timeoutAction = this.at(this.timeoutAction, this.expireWork, due - now);
    }
  }

  /** The overload action: refused calls are answered at the instant they were made. */
  private refuse(): void {
    this.refusePending = false;
    const refused = this.refused;
    while (refused.length > 0) {
      const record = refused.shift();
      if (record.subscriber !== undefined) this.listener.failed(record, 'overload');
    }
  }

  private enterPhase(phase: DownstreamPhaseSpec): void {
    const now = this.scheduler.now();
    this.touch(now);
    if (phase.workers !== undefined) this.workers = phase.workers;
    if (phase.serviceTime !== undefined) this.quantile = quantileOf(phase.serviceTime);
    this.startWaiting(now);
  }

  // A binary min-heap of the requests in service, by (finishAt, sequence).

  private before(a: CallRecord<R>, b: CallRecord<R>): boolean {
    return a.finishAt < b.finishAt || (a.finishAt === b.finishAt && a.sequence < b.sequence);
  }

  private push(record: CallRecord<R>): void {
    const heap = this.inService;
    let i = heap.length;
    heap.push(record);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent] as CallRecord<R>;
      if (!this.before(record, above)) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = record;
  }

  private pop(): CallRecord<R> {
    const heap = this.inService;
    const top = heap[0] as CallRecord<R>;
    const last = heap.pop() as CallRecord<R>;
    const n = heap.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        let child = left;
        if (right < n && this.before(heap[right] as CallRecord<R>, heap[left] as CallRecord<R>))
          child = right;
        const below = heap[child] as CallRecord<R>;
        if (!this.before(below, last)) break;
        heap[i] = below;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
