import {
  Observable,
  type OperatorFunction,
  type SchedulerAction,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import * as check from '../internal/validate.js';
import { FlowMeter } from '../monitoring/FlowMeter.js';
import type { ManualTimeScheduler } from '../schedulers/ManualTimeScheduler.js';
import { withVirtualTime } from '../schedulers/withVirtualTime.js';
import type { DropReason } from '../types.js';
import { checkArrivals, startArrivals, type Arrivals, type ArrivalStream } from './arrivals.js';
import {
  CallRecord,
  checkDownstream,
  DownstreamModel,
  type Downstream,
  type DownstreamListener,
} from './downstream.js';
import { DownstreamOverloadError, DownstreamTimeoutError } from './errors.js';
import { LogHistogram } from './histogram.js';
import { STREAM, uniformStream, type Uniform } from './random.js';
import { REASON_INDEX, REASONS, Tally, WindowRecord } from './tally.js';
import type {
  Arrival,
  Call,
  FlowStats,
  Policy,
  PolicyTools,
  RunOutcome,
  SimulatedResponse,
  SimulateOptions,
  SimulationReport,
  WindowStats,
} from './types.js';

/** A scenario after its checks, with the defaults filled in. */
export interface CheckedScenario {
  duration: number;
  seed: number;
  arrivals: Arrivals;
  downstream: Downstream;
  sampleEvery: number;
  drainTimeout: number;
}

const SCENARIO_KEYS = ['duration', 'seed', 'arrivals', 'downstream', 'sampleEvery', 'drainTimeout'];
const DEFAULT_SEED = 1;
const DEFAULT_SAMPLE_EVERY = 1000;
const DEFAULT_DRAIN_TIMEOUT = 60_000;
/** More windows than this is surely a mistake (and a report of hundreds of megabytes). */
const MAX_WINDOWS = 1_000_000;

/** Checks the scenario part of `simulate`'s or `compare`'s options (`extra`: the other keys allowed). */
export function checkScenario(fn: string, options: unknown, extra: readonly string[]): CheckedScenario {
  check.options(fn, options, [...SCENARIO_KEYS, ...extra], { required: true });
  const o = options as Record<string, unknown>;
  for (const key of ['duration', 'arrivals', 'downstream']) {
    if (o[key] === undefined) throw new TypeError(`${fn}: \`${key}\` is required`);
  }
  const duration = check.finitePositive(fn, 'duration', o.duration);
  const seed = o.seed ?? DEFAULT_SEED;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new (typeof seed === 'number' ? RangeError : TypeError)(
      `${fn}: \`seed\` must be a safe integer, got ${check.describe(seed)}`,
    );
  }
  const arrivals = checkArrivals(fn, 'arrivals', o.arrivals);
  const downstream = checkDownstream(fn, 'downstream', o.downstream);
  const sampleEvery = check.finitePositive(fn, 'sampleEvery', o.sampleEvery ?? DEFAULT_SAMPLE_EVERY);
  const drainTimeout = check.finiteNonNegative(fn, 'drainTimeout', o.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT);
  if ((duration + drainTimeout) / sampleEvery > MAX_WINDOWS) {
    throw new RangeError(
      `${fn}: \`sampleEvery\` ${String(sampleEvery)} ms makes more than ${String(MAX_WINDOWS)} windows over \`duration\` + \`drainTimeout\` (${String(duration + drainTimeout)} ms)`,
    );
  }
  return { duration, seed, arrivals, downstream, sampleEvery, drainTimeout };
}

/** Checks a policy given to `fn` as `option`. */
export function checkPolicy(fn: string, option: string, policy: unknown): Policy {
  if (typeof policy !== 'function') {
    throw new TypeError(
      `${fn}: \`${option}\` must be a function (call, tools) => operator, got ${check.describe(policy)}`,
    );
  }
  return policy as Policy;
}

/**
 * Runs one policy through a scenario in virtual time and reports what happened to every value.
 *
 * The run draws every random number from `seed`, so the same options give a byte-identical report
 * (`JSON.stringify` it to compare). `asyncScheduler` is virtual during the run (as under
 * `withVirtualTime`), so operators that use it by default (`tokenBucket`, `ttl`, `CircuitBreaker`,
 * RxJS's `timer` and `delay`) run in the simulation's time.
 *
 * ## Example
 * ```ts
 * import { bufferSliding } from 'rxjs-backpressure';
 * import { downstream, lognormal, poisson, simulate } from 'rxjs-backpressure/simulation';
 *
 * const report = simulate({
 *   duration: 60_000,
 *   seed: 42,
 *   arrivals: poisson({ rate: 400 }),
 *   downstream: downstream({ workers: 8, serviceTime: lognormal({ median: 15, p99: 60 }), timeout: 1_000 }),
 *   policy: (call, { onDrop }) => bufferSliding(50, call, { concurrency: 8, onDrop, onError: 'continue' }),
 * });
 * report.summary.latency.p99; // ms
 * ```
 *
 * @param options The scenario (`duration`, `seed`, `arrivals`, `downstream`, `sampleEvery`,
 *   `drainTimeout`) and the `policy`.
 * @return `{ summary, series, outcome }`: plain data.
 * @throws TypeError or RangeError for bad options, naming `simulate` and the option; Error when the
 *   policy throws when called, returns something other than an operator, is handed a value the
 *   simulator did not offer (to `call`, `onDrop` or the meter), or when `withVirtualTime` is active.
 */
export function simulate(options: SimulateOptions): SimulationReport {
  const scenario = checkScenario('simulate', options, ['policy']);
  const policy = checkPolicy('simulate', 'policy', (options as { policy?: unknown }).policy);
  return runScenario('simulate', 'policy', scenario, policy);
}

/** Runs a checked scenario; `fn` and `label` name the caller and the policy in errors. */
export function runScenario(
  fn: string,
  label: string,
  scenario: CheckedScenario,
  policy: Policy,
): SimulationReport {
  // An object, so that the type checker sees the callback change it.
  const progress = { entered: false };
  try {
    return withVirtualTime(
      (scheduler) => {
        progress.entered = true;
        return new Simulation(fn, label, scenario, scheduler).run(policy);
      },
      { flushLimit: Infinity },
    );
  } catch (error) {
    if (progress.entered) throw error;
    throw new Error(
      `${fn}: cannot run while withVirtualTime is active (the simulation drives asyncScheduler itself); call it outside withVirtualTime`,
      { cause: error },
    );
  }
}

// States of a value.
const PENDING = 0;
const SUCCEEDED = 1;
const FAILED = 2;
const DROPPED = 3;
const LOST = 4;

const TIMEOUT = 'timeout';

let runs = 0;

/** An offered value: what the policy sees ({@link Arrival}) plus what the simulator tracks. */
class SimRequest implements Arrival {
  state = PENDING;
  calls = 0;
  /** The window whose `failed` counts this value, while its state is FAILED. */
  failedIn = -1;
  failedBy: 'timeout' | 'overload' = TIMEOUT;
  readonly class: string | undefined;

  constructor(
    readonly index: number,
    readonly time: number,
    className: string | undefined,
    /** 0 for a value without class, else 1 + its class's index: its tally. */
    readonly tally: number,
    /** The window it arrived in. */
    readonly window: number,
    /** Its service-time draw (first call). */
    readonly draw: number,
    /** The run that offered it. */
    readonly run: number,
  ) {
    this.class = className;
  }
}

interface Ending {
  ended: 'completed' | 'errored';
  at: number;
  error?: string;
}

class Simulation implements DownstreamListener<SimRequest> {
  private readonly run_ = ++runs;
  private readonly arrivals: ArrivalStream;
  private readonly classNames: readonly string[];
  /** Tallies per window and for the summary: 1 + the number of classes. */
  private readonly stride: number;
  private readonly serviceDraws: Uniform;
  private readonly retryDraws: Uniform;
  private readonly model: DownstreamModel<SimRequest>;
  private readonly listeners: Subscriber<Arrival>[] = [];
  private arrivalsDone = false;
  private nextArrival: number;
  private arrivalAction: SchedulerAction<undefined> | undefined;
  private nextIndex = 0;

  private readonly windows: WindowRecord[] = [];
  private current: WindowRecord;
  private currentEnd: number;
  /** The last closed window, whose histograms stay until a later instant (a zero-length last window merges into it). */
  private lastClosed: WindowRecord | undefined;
  private readonly summary: Tally[] = [];
  private readonly unresolved: number[];
  /** Unresolved values by arrival window and tally: `pending[window * stride + tally]`. */
  private readonly pending: number[] = [];

  private ending: Ending | undefined;
  /** Set once the run no longer counts outcomes: the policy ended, or the drain timed out. */
  private closed = false;
  private lossAssigned = false;
  private misuse: Error | undefined;

  constructor(
    private readonly fn: string,
    private readonly label: string,
    private readonly scenario: CheckedScenario,
    private readonly scheduler: ManualTimeScheduler,
  ) {
    const { seed, duration } = scenario;
    this.arrivals = startArrivals(scenario.arrivals, seed, duration);
    this.classNames = this.arrivals.classNames;
    this.stride = this.classNames.length + 1;
    this.serviceDraws = uniformStream(seed, STREAM.service);
    this.retryDraws = uniformStream(seed, STREAM.retries);
    this.unresolved = new Array<number>(this.stride).fill(0);
    for (let i = 0; i < this.stride; i++) this.summary.push(new Tally());
    this.model = new DownstreamModel(scenario.downstream, scheduler, this);
    this.model.sample(0, scenario.sampleEvery); // tells the model where the first window ends
    this.current = this.openWindow(0);
    this.currentEnd = scenario.sampleEvery;
    this.nextArrival = this.arrivals.next();
  }

  run(policy: Policy): SimulationReport {
    const { scheduler, scenario } = this;
    const meter = new FlowMeter({ name: 'simulation', scheduler });
    const tools: PolicyTools = Object.freeze({ onDrop: this.onDrop, meter });
    const meterDrops = meter.drops$.subscribe(({ value, reason }) => this.drop(value, reason, 'meter'));
    const operator = this.makeOperator(policy, tools);

    const source = new Observable<Arrival>((subscriber) => {
      if (this.arrivalsDone) {
        subscriber.complete();
        return undefined;
      }
      this.listeners.push(subscriber);
      return () => {
        const i = this.listeners.indexOf(subscriber);
        if (i >= 0) this.listeners.splice(i, 1);
      };
    });
    const output = operator(source) as unknown;
    if (typeof (output as { subscribe?: unknown } | null)?.subscribe !== 'function') {
      throw new TypeError(
        `${this.fn}: \`${this.label}\` returned an operator whose result is not an Observable, got ${check.describe(output)}`,
      );
    }
    // The first arrival (and the completion of the arrivals) is scheduled before the policy subscribes.
    this.scheduleArrivals(this.nextArrival === Infinity ? scenario.duration : this.nextArrival);
    let subscription: Subscription | undefined;
    try {
      subscription = (output as Observable<unknown>).subscribe({
        error: (error: unknown) => this.end('errored', error),
        complete: () => this.end('completed'),
      });
      this.drive();
    } finally {
      this.closed = true;
      subscription?.unsubscribe();
      meterDrops.unsubscribe();
      this.model.stop();
      this.arrivalAction?.unsubscribe();
    }
    if (this.misuse) throw this.misuse;
    return this.report();
  }

  private makeOperator(policy: Policy, tools: PolicyTools): OperatorFunction<Arrival, unknown> {
    let operator: unknown;
    try {
      operator = policy(this.call, tools);
    } catch (error) {
      throw new Error(
        `${this.fn}: \`${this.label}\` threw when called with (call, tools): ${message(error)}`,
        {
          cause: error,
        },
      );
    }
    if (typeof operator !== 'function') {
      throw new TypeError(
        `${this.fn}: \`${this.label}\` must return an operator, a function (source) => Observable, got ${check.describe(operator)}`,
      );
    }
    return operator as OperatorFunction<Arrival, unknown>;
  }

  /** Runs the scheduler instant by instant until the policy has ended and the traffic is over, or the drain times out. */
  private drive(): void {
    const { scheduler } = this;
    const limit = this.scenario.duration + this.scenario.drainTimeout;
    for (;;) {
      if (this.ending !== undefined && !this.closed) this.assignLosses(this.ending.ended);
      if (this.closed && this.arrivalsDone) return;
      const due = scheduler.nextDueTime;
      if (due === undefined || due > limit) break;
      scheduler.advanceTo(due);
    }
    // Nothing more happens before the limit (or nothing at all): the drain timed out.
    if (scheduler.now() < limit) scheduler.advanceTo(limit);
    if (this.ending !== undefined && !this.closed) {
      this.assignLosses(this.ending.ended);
      return;
    }
    this.roll(limit);
    this.closed = true;
  }

  // --- arrivals -----------------------------------------------------------------------------------

  private scheduleArrivals(time: number): void {
    const delay = time - this.scheduler.now();
    if (this.arrivalAction === undefined)
      this.arrivalAction = this.scheduler.schedule(this.arrivalWork, delay);
    else this.arrivalAction.schedule(undefined, delay);
  }

  private readonly arrivalWork = (): void => {
    const time = this.nextArrival;
    if (time === Infinity) {
      this.arrivalsDone = true;
      for (const listener of this.listeners.slice()) listener.complete();
      return;
    }
    let next = time;
    do {
      this.arrive(next);
      next = this.arrivals.next();
    } while (next === time);
    this.nextArrival = next;
    this.scheduleArrivals(next === Infinity ? Math.max(this.scenario.duration, time) : next);
  };

  private arrive(time: number): void {
    this.roll(this.scheduler.now());
    const classIndex = this.arrivals.classIndex();
    const k = classIndex + 1;
    const window = this.current;
    const request = new SimRequest(
      this.nextIndex++,
      time,
      classIndex >= 0 ? this.classNames[classIndex] : undefined,
      k,
      window.index,
      this.serviceDraws(),
      this.run_,
    );
    const w = window.tallies;
    const s = this.summary;
    (w[0] as Tally).offered++;
    (s[0] as Tally).offered++;
    if (k > 0) {
      (w[k] as Tally).offered++;
      (s[k] as Tally).offered++;
    }
    const listeners = this.listeners;
    if (this.closed || listeners.length === 0) {
      // Nobody listens: the policy has ended or unsubscribed from its source.
      request.state = LOST;
      (w[0] as Tally).lost++;
      (s[0] as Tally).lost++;
      if (k > 0) {
        (w[k] as Tally).lost++;
        (s[k] as Tally).lost++;
      }
      return;
    }
    const base = window.index * this.stride;
    add(this.unresolved, 0, 1);
    add(this.pending, base, 1);
    if (k > 0) {
      add(this.unresolved, k, 1);
      add(this.pending, base + k, 1);
    }
    if (listeners.length === 1) (listeners[0] as Subscriber<Arrival>).next(request);
    else for (const listener of listeners.slice()) listener.next(request);
  }

  // --- calls --------------------------------------------------------------------------------------

  private readonly call: Call = (request) => {
    if (!(request instanceof SimRequest) || request.run !== this.run_) {
      throw this.misused(
        `\`call\` was given ${check.describe(request)}, not a value the simulator offered: call it with the values the policy receives`,
      );
    }
    return new Observable<SimulatedResponse>((subscriber) => this.startCall(request, subscriber));
  };

  private startCall(request: SimRequest, subscriber: Subscriber<SimulatedResponse>): CallRecord<SimRequest> {
    const now = this.scheduler.now();
    this.roll(now);
    const first = request.calls === 0;
    if (!this.closed) {
      const k = request.tally;
      const w = this.current.tallies;
      const s = this.summary;
      (w[0] as Tally).calls++;
      (s[0] as Tally).calls++;
      if (k > 0) {
        (w[k] as Tally).calls++;
        (s[k] as Tally).calls++;
      }
      if (first) {
        (w[0] as Tally).started++;
        (s[0] as Tally).started++;
        if (k > 0) {
          (w[k] as Tally).started++;
          (s[k] as Tally).started++;
        }
        this.sample(request.tally, 'queueWait', now - request.time);
      }
    }
    request.calls++;
    const record = new CallRecord(subscriber, request, now, first ? request.draw : this.retryDraws());
    this.model.accept(record, now);
    return record;
  }

  /** Records a sample in the current window's and the summary's histograms (all values, and the class). */
  private sample(k: number, which: 'latency' | 'queueWait', ms: number): void {
    const w = this.current.tallies;
    const s = this.summary;
    if (ms > 0) {
      const key = LogHistogram.keyOf(ms);
      (w[0] as Tally)[which]?.recordKey(key, ms);
      (s[0] as Tally)[which]?.recordKey(key, ms);
      if (k > 0) {
        (w[k] as Tally)[which]?.recordKey(key, ms);
        (s[k] as Tally)[which]?.recordKey(key, ms);
      }
    } else {
      (w[0] as Tally)[which]?.recordZero();
      (s[0] as Tally)[which]?.recordZero();
      if (k > 0) {
        (w[k] as Tally)[which]?.recordZero();
        (s[k] as Tally)[which]?.recordZero();
      }
    }
  }

  answered(record: CallRecord<SimRequest>): void {
    const subscriber = record.subscriber as Subscriber<SimulatedResponse>;
    record.subscriber = undefined;
    const now = this.scheduler.now();
    this.roll(now);
    const request = record.request;
    if (!this.closed && this.resolve(request)) {
      request.state = SUCCEEDED;
      const k = request.tally;
      const w = this.current.tallies;
      const s = this.summary;
      (w[0] as Tally).succeeded++;
      (s[0] as Tally).succeeded++;
      if (k > 0) {
        (w[k] as Tally).succeeded++;
        (s[k] as Tally).succeeded++;
      }
      this.sample(k, 'latency', now - request.time);
    }
    subscriber.next({ request, calledAt: record.calledAt, startedAt: record.startedAt, respondedAt: now });
    subscriber.complete();
  }

  failed(record: CallRecord<SimRequest>, cause: 'timeout' | 'overload'): void {
    const subscriber = record.subscriber as Subscriber<SimulatedResponse>;
    record.subscriber = undefined;
    this.roll(this.scheduler.now());
    const request = record.request;
    if (!this.closed && this.resolve(request)) {
      request.state = FAILED;
      request.failedIn = this.current.index;
      request.failedBy = cause;
      this.countFailure(request, 1);
    }
    const { timeout, queueLimit } = this.scenario.downstream;
    subscriber.error(
      cause === TIMEOUT
        ? new DownstreamTimeoutError(timeout, request)
        : new DownstreamOverloadError(queueLimit, request),
    );
  }

  private countFailure(request: SimRequest, delta: number): void {
    const window = this.windows[request.failedIn] as WindowRecord;
    const k = request.tally;
    const field = request.failedBy;
    (window.tallies[0] as Tally)[field] += delta;
    (this.summary[0] as Tally)[field] += delta;
    if (k > 0) {
      (window.tallies[k] as Tally)[field] += delta;
      (this.summary[k] as Tally)[field] += delta;
    }
  }

  /**
   * A value gets an outcome: true if it counts (it was unresolved, or had failed and a later outcome
   * replaces the failure), false if it already has a final one (the later report is ignored).
   */
  private resolve(request: SimRequest): boolean {
    switch (request.state) {
      case PENDING: {
        const k = request.tally;
        const base = request.window * this.stride;
        add(this.unresolved, 0, -1);
        add(this.pending, base, -1);
        if (k > 0) {
          add(this.unresolved, k, -1);
          add(this.pending, base + k, -1);
        }
        return true;
      }
      case FAILED:
        this.countFailure(request, -1);
        return true;
      default:
        return false;
    }
  }

  // --- drops --------------------------------------------------------------------------------------

  private readonly onDrop = (value: Arrival, reason: DropReason): void => {
    this.drop(value, reason, 'onDrop');
  };

  private drop(value: unknown, reason: DropReason, via: 'onDrop' | 'meter'): void {
    if (!(value instanceof SimRequest) || value.run !== this.run_) {
      const error = this.misused(
        `${via === 'onDrop' ? '`onDrop`' : 'the meter'} was told of dropping ${check.describe(value)}, not a value the simulator offered: pass \`onDrop\` (or \`meter\`) to the operators that hold the offered values`,
      );
      if (via === 'onDrop') throw error;
      return;
    }
    const index = REASON_INDEX[reason];
    if (index === undefined) {
      const error = this.misused(
        `\`onDrop\` was given the reason ${check.describe(reason)}, not a DropReason`,
      );
      if (via === 'onDrop') throw error;
      return;
    }
    if (this.closed) return;
    this.roll(this.scheduler.now());
    if (!this.resolve(value)) return;
    value.state = DROPPED;
    const k = value.tally;
    const w = this.current.tallies;
    const s = this.summary;
    add((w[0] as Tally).dropped, index, 1);
    add((s[0] as Tally).dropped, index, 1);
    if (k > 0) {
      add((w[k] as Tally).dropped, index, 1);
      add((s[k] as Tally).dropped, index, 1);
    }
  }

  private misused(text: string): TypeError {
    const error = new TypeError(`${this.fn}: ${this.label === 'policy' ? '' : `${this.label}: `}${text}`);
    this.misuse ??= error;
    return error;
  }

  // --- the end of the policy ----------------------------------------------------------------------

  private end(ended: 'completed' | 'errored', error?: unknown): void {
    if (this.ending !== undefined) return;
    this.ending = {
      ended,
      at: this.scheduler.now(),
      ...(ended === 'errored' ? { error: message(error) } : {}),
    };
  }

  /**
   * The policy ended (after the instant it ended at, so that what its teardown reported counts):
   * every value it still had is lost. After an error they were held until then and count in the
   * current window; after completion they must have been let go earlier, and count in the windows
   * they arrived in (and leave those windows' `waiting`).
   */
  private assignLosses(ended: 'completed' | 'errored'): void {
    this.roll(this.scheduler.now());
    const stride = this.stride;
    if (ended === 'errored') {
      for (let k = 0; k < stride; k++) {
        const n = this.unresolved[k] as number;
        (this.current.tallies[k] as Tally).lost += n;
        (this.summary[k] as Tally).lost += n;
      }
    } else {
      this.windows.forEach((window, i) => {
        for (let k = 0; k < stride; k++) {
          const n = this.pending[i * stride + k] as number;
          (window.tallies[k] as Tally).lostByArrival += n;
          (this.summary[k] as Tally).lostByArrival += n;
        }
      });
    }
    this.pending.fill(0);
    this.unresolved.fill(0);
    this.lossAssigned = true;
    this.closed = true;
  }

  // --- windows ------------------------------------------------------------------------------------

  private openWindow(index: number): WindowRecord {
    const { sampleEvery } = this.scenario;
    const window = new WindowRecord(index, index * sampleEvery, sampleEvery, this.classNames.length);
    this.windows.push(window);
    for (let k = 0; k < this.stride; k++) this.pending.push(0);
    return window;
  }

  roll(now: number): void {
    while (now >= this.currentEnd) this.closeWindow();
  }

  private closeWindow(): void {
    const window = this.current;
    const next = (window.index + 2) * this.scenario.sampleEvery;
    this.sampleGauges(window, this.currentEnd, next);
    if (this.lastClosed !== undefined) for (const tally of this.lastClosed.tallies) tally.summarize();
    this.lastClosed = window;
    this.current = this.openWindow(window.index + 1);
    this.currentEnd = next;
  }

  private sampleGauges(window: WindowRecord, end: number, next: number): void {
    const gauges = this.model.sample(end, next);
    window.end = end;
    window.busy = gauges.busy;
    window.capacity = gauges.capacity;
    window.queue = gauges.queue;
    window.queueMax = gauges.queueMax;
    window.tallies.forEach((tally, k) => {
      tally.unresolved = this.unresolved[k] as number;
      tally.closedBeforeLoss = !this.lossAssigned;
    });
  }

  // --- the report ---------------------------------------------------------------------------------

  private report(): SimulationReport {
    const { scheduler, stride, classNames } = this;
    const end = scheduler.now();
    this.roll(end);
    const last = this.current;
    this.sampleGauges(last, end, Infinity);
    const previous = this.lastClosed;
    if (last.start === end && previous !== undefined) {
      // The run ended on a window boundary: what happened at that instant joins the window before.
      previous.tallies.forEach((tally, k) => tally.absorb(last.tallies[k] as Tally));
      previous.queueMax = Math.max(previous.queueMax, last.queueMax);
      this.windows.pop();
    }

    const lostSoFar = new Array<number>(stride).fill(0);
    const series: WindowStats[] = this.windows.map((window) => {
      const waiting = window.tallies.map((tally, k) => {
        lostSoFar[k] = (lostSoFar[k] as number) + tally.lostByArrival;
        return tally.closedBeforeLoss ? tally.unresolved - lostSoFar[k] : tally.unresolved;
      });
      return window.stats(classNames, waiting);
    });

    const whole = new WindowRecord(-1, 0, end, classNames.length);
    whole.tallies.splice(0, stride, ...this.summary);
    for (const window of this.windows) {
      whole.busy += window.busy;
      whole.capacity += window.capacity;
      whole.queue += window.queue;
      whole.queueMax = Math.max(whole.queueMax, window.queueMax);
    }
    const summary = whole.stats(classNames, this.unresolved);
    this.checkConservation(summary);

    const outcome: RunOutcome =
      this.ending === undefined
        ? { ended: 'drainTimeout', at: this.scenario.duration + this.scenario.drainTimeout }
        : { ...this.ending };
    return { summary, series, outcome };
  }

  /** offered = succeeded + failed + dropped + lostSilently + waiting, for all values and each class. */
  private checkConservation(summary: WindowStats): void {
    const parts: { name: string; stats: FlowStats }[] = [{ name: 'all values', stats: summary }];
    for (const [name, stats] of Object.entries(summary.classes ?? {}))
      parts.push({ name: `class ${name}`, stats });
    for (const { name, stats } of parts) {
      let dropped = 0;
      for (const reason of REASONS) dropped += stats.dropped[reason];
      const accounted =
        stats.succeeded +
        stats.failed.timeout +
        stats.failed.overload +
        dropped +
        stats.lostSilently +
        stats.waiting;
      if (accounted !== stats.offered) {
        throw new Error(
          `${this.fn}: internal error: conservation does not hold for ${name} (${this.label}): offered ${String(stats.offered)} but succeeded + failed + dropped + lostSilently + waiting = ${String(accounted)}`,
        );
      }
    }
  }
}

/** `array[index] += delta`, for arrays whose index is known to be in range. */
function add(array: number[], index: number, delta: number): void {
  array[index] = (array[index] as number) + delta;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
