import fc from 'fast-check';
import { Subject, tap, type Observable, type Subscription } from 'rxjs';
import {
  CircuitBreaker,
  isCircuitOpenError,
  ManualTimeScheduler,
  type CircuitBreakerOptions,
  type CircuitState,
  type DropReason,
  type ProtectOptions,
} from 'rxjs-backpressure';

/*
 * Issue 10 over random schedules, on a ManualTimeScheduler:
 *
 * 1. "open exactly when a trip rule is met": calls through `guard()` are started, ended (success,
 *    failure, an error isFailure ignores, cancellation) and time is moved at random, with random
 *    resets and isolations. A reference model written from the rules of the issue runs beside the
 *    breaker; after every step both must agree on the state, on which calls were refused, and on the
 *    `opens` each open passed to `openDuration`.
 * 2. "never more than halfOpenProbes probes at once", with guard calls and protect streams (every
 *    whenOpen mode) sharing the breaker.
 * 3. Conservation under random outcomes and random unsubscription: every value that reached
 *    `protect` is, exactly once, passed to `project`, handed to the `whenOpen` fallback, or reported
 *    to `onDrop`; and nothing stays scheduled after teardown.
 */

// ---------------------------------------------------------------------------------------------
// 1. The reference model
// ---------------------------------------------------------------------------------------------

interface Rules {
  consecutiveFailures?: number;
  failureRateThreshold?: number;
  slowCallRateThreshold?: number;
  slowCallDuration?: number;
  window: { calls: number } | { duration: number; buckets: number };
  minimumCalls?: number;
  /** A number, or `[base]` for the backoff `opens * base`. */
  openDuration: number | [number];
  halfOpenProbes: number;
  halfOpenMaxWait: number;
}

type Outcome = 's' | 'f' | 'i' | 'c';

type Step =
  | { kind: 'start' }
  | { kind: 'end'; pick: number; outcome: Outcome }
  | { kind: 'advance'; ms: number }
  | { kind: 'reset' }
  | { kind: 'isolate' }
  | { kind: 'release'; pick: number };

interface ModelCall {
  epoch: number;
  start: number;
  probe: boolean;
}

/** The rules of issue 10 as plain state; time only moves through `advance`. */
class Model {
  state: CircuitState = 'closed';
  now = 0;
  readonly opensGiven: number[] = [];
  private epoch = 0;
  private opens = 0;
  private halfOpenAt = 0;
  private consecutive = 0;
  /** Counted outcomes since the window was last cleared: [end time, failed, slow]. */
  private outcomes: [number, boolean, boolean][] = [];
  private probesRunning = 0;
  private probesSucceeded = 0;
  private firstProbeSeen = false;
  private maxWaitDue: number | undefined;
  private isolations = 0;
  private readonly minimumCalls: number;

  constructor(private readonly r: Rules) {
    this.minimumCalls = r.minimumCalls ?? ('calls' in r.window ? Math.min(10, r.window.calls) : 10);
  }

  private openDuration(opens: number): number {
    const d = this.r.openDuration;
    if (typeof d === 'number') return d;
    this.opensGiven.push(opens);
    return opens * d[0];
  }

  private enter(state: CircuitState): void {
    this.state = state;
    this.epoch++;
    this.probesRunning = 0;
    this.probesSucceeded = 0;
    this.firstProbeSeen = false;
    this.maxWaitDue = undefined;
  }

  private open(opens: number): void {
    this.opens = opens;
    this.halfOpenAt = this.now + this.openDuration(opens);
    this.consecutive = 0;
    this.enter('open');
  }

  private clear(): void {
    this.outcomes = [];
    this.consecutive = 0;
    this.opens = 0;
  }

  /** Open turns half-open at its instant. */
  look(): void {
    if (this.state === 'open' && this.now >= this.halfOpenAt) this.enter('half-open');
  }

  advance(ms: number): void {
    const target = this.now + ms;
    if (this.maxWaitDue !== undefined && this.maxWaitDue <= target) {
      this.now = this.maxWaitDue;
      this.maxWaitDue = undefined;
      this.open(this.opens + 1);
    }
    this.now = target;
  }

  /** A call; `undefined` when refused. */
  start(): ModelCall | undefined {
    this.look();
    if (this.state === 'closed') return { epoch: this.epoch, start: this.now, probe: false };
    if (this.state !== 'half-open' || this.probesRunning >= this.r.halfOpenProbes) return undefined;
    this.probesRunning++;
    if (!this.firstProbeSeen) {
      this.firstProbeSeen = true;
      if (this.r.halfOpenMaxWait !== Infinity) this.maxWaitDue = this.now + this.r.halfOpenMaxWait;
    }
    return { epoch: this.epoch, start: this.now, probe: true };
  }

  end(call: ModelCall, outcome: Outcome): void {
    this.look();
    const same = call.epoch === this.epoch;
    if (call.probe && same) this.probesRunning--;
    if (!same || outcome === 'i' || outcome === 'c') return;
    const failed = outcome === 'f';
    const slow = this.now - call.start >= (this.r.slowCallDuration ?? Infinity);
    if (this.state === 'closed') this.countClosed(failed, slow);
    else if (this.state === 'half-open') this.countProbe(failed, slow);
  }

  private countClosed(failed: boolean, slow: boolean): void {
    this.outcomes.push([this.now, failed, slow]);
    this.consecutive = failed ? this.consecutive + 1 : 0;
    if (this.consecutive >= (this.r.consecutiveFailures ?? Infinity)) {
      this.open(1);
      return;
    }
    const inWindow = this.windowOutcomes();
    const calls = inWindow.length;
    if (calls < this.minimumCalls) return;
    const failures = inWindow.filter(([, f]) => f).length;
    const slowCalls = inWindow.filter(([, , s]) => s).length;
    if (
      failures / calls >= (this.r.failureRateThreshold ?? Infinity) ||
      slowCalls / calls >= (this.r.slowCallRateThreshold ?? Infinity)
    ) {
      this.open(1);
    }
  }

  /** The counted outcomes the window holds now, computed from scratch. */
  private windowOutcomes(): [number, boolean, boolean][] {
    const { window } = this.r;
    if ('calls' in window) return this.outcomes.slice(-window.calls);
    const width = window.duration / window.buckets;
    const current = Math.floor(this.now / width);
    return this.outcomes.filter(([t]) => Math.floor(t / width) > current - window.buckets);
  }

  private countProbe(failed: boolean, slow: boolean): void {
    if (failed || (slow && this.r.slowCallRateThreshold !== undefined)) {
      this.open(this.opens + 1);
      return;
    }
    this.probesSucceeded++;
    if (this.probesSucceeded >= this.r.halfOpenProbes) {
      this.clear();
      this.enter('closed');
    }
  }

  reset(): void {
    this.clear();
    if (this.state === 'open' || this.state === 'half-open') this.enter('closed');
  }

  isolate(): void {
    this.isolations++;
    if (this.isolations === 1) this.enter('isolated');
  }

  release(): void {
    this.isolations--;
    if (this.isolations === 0) {
      this.clear();
      this.enter('closed');
    }
  }
}

const rulesArb: fc.Arbitrary<Rules> = fc
  .record({
    consecutiveFailures: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    failureRateThreshold: fc.option(fc.constantFrom(0.25, 0.5, 0.6, 0.75, 1), { nil: undefined }),
    slowCallRateThreshold: fc.option(fc.constantFrom(0.3, 0.5, 1), { nil: undefined }),
    slowCallDuration: fc.integer({ min: 0, max: 6 }),
    slowDurationWithoutRule: fc.boolean(),
    window: fc.oneof(
      fc.integer({ min: 1, max: 6 }).map((calls) => ({ calls })),
      fc
        .record({ buckets: fc.integer({ min: 1, max: 4 }), width: fc.integer({ min: 1, max: 10 }) })
        .map(({ buckets, width }) => ({ duration: buckets * width, buckets })),
    ),
    minimumCalls: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    openDuration: fc.oneof(
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 1, max: 8 }).map((base): [number] => [base]),
    ),
    halfOpenProbes: fc.integer({ min: 1, max: 3 }),
    halfOpenMaxWait: fc.constantFrom(Infinity, Infinity, 1, 3, 8),
  })
  .filter(
    (r) =>
      r.consecutiveFailures !== undefined ||
      r.failureRateThreshold !== undefined ||
      r.slowCallRateThreshold !== undefined,
  )
  .map(({ slowDurationWithoutRule, slowCallDuration, ...r }) => ({
    ...r,
    slowCallDuration:
      r.slowCallRateThreshold !== undefined || slowDurationWithoutRule ? slowCallDuration : undefined,
  }));

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Step>({ kind: 'start' }) },
  {
    weight: 5,
    arbitrary: fc
      .record({ pick: fc.nat(9), outcome: fc.constantFrom<Outcome>('s', 's', 'f', 'f', 'f', 'i', 'c') })
      .map<Step>(({ pick, outcome }) => ({ kind: 'end', pick, outcome })),
  },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 12 }).map<Step>((ms) => ({ kind: 'advance', ms })) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 100, max: 10_000 }).map<Step>((ms) => ({ kind: 'advance', ms })),
  },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'reset' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'isolate' }) },
  { weight: 1, arbitrary: fc.nat(3).map<Step>((pick) => ({ kind: 'release', pick })) },
);

function breakerOptions(
  r: Rules,
  scheduler: ManualTimeScheduler,
  opensGiven: number[],
): CircuitBreakerOptions {
  const { openDuration, ...rest } = r;
  const ignorable = (e: unknown): boolean => e !== IGNORED;
  return {
    ...rest,
    openDuration:
      typeof openDuration === 'number'
        ? openDuration
        : (n) => {
            opensGiven.push(n);
            return n * openDuration[0];
          },
    isFailure: ignorable,
    scheduler,
  };
}

const IGNORED = new Error('ignored');

interface RealCall {
  subject: Subject<never>;
  subscription: Subscription;
  model: ModelCall;
}

function runModelScenario(r: Rules, steps: Step[]): void {
  const scheduler = new ManualTimeScheduler();
  const opensGiven: number[] = [];
  const breaker = new CircuitBreaker(breakerOptions(r, scheduler, opensGiven));
  const model = new Model(r);
  const running: RealCall[] = [];
  const handles: { release(): void }[] = [];

  steps.forEach((step, n) => {
    const where = `step ${String(n)} (${JSON.stringify(step)})`;
    switch (step.kind) {
      case 'start': {
        const subject = new Subject<never>();
        let refused = false;
        const subscription = subject.pipe(breaker.guard()).subscribe({
          error: (e: unknown) => {
            if (isCircuitOpenError(e)) refused = true;
          },
        });
        const expected = model.start();
        expect([where, refused]).toEqual([where, expected === undefined]);
        if (expected) running.push({ subject, subscription, model: expected });
        break;
      }
      case 'end': {
        if (running.length === 0) break;
        const [call] = running.splice(step.pick % running.length, 1) as [RealCall];
        if (step.outcome === 's') call.subject.complete();
        else if (step.outcome === 'f') call.subject.error(new Error('failed'));
        else if (step.outcome === 'i') call.subject.error(IGNORED);
        else call.subscription.unsubscribe();
        model.end(call.model, step.outcome);
        break;
      }
      case 'advance':
        scheduler.advanceBy(step.ms);
        model.advance(step.ms);
        break;
      case 'reset':
        breaker.reset();
        model.reset();
        break;
      case 'isolate':
        handles.push(breaker.isolate());
        model.isolate();
        break;
      case 'release': {
        if (handles.length === 0) break;
        const [handle] = handles.splice(step.pick % handles.length, 1) as [{ release(): void }];
        handle.release();
        handle.release(); // a second release does nothing
        model.release();
        break;
      }
    }
    model.look();
    expect([where, breaker.state]).toEqual([where, model.state]);
    expect([where, opensGiven]).toEqual([where, model.opensGiven]);
  });
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. protect streams and guard calls sharing one breaker
// ---------------------------------------------------------------------------------------------

type WhenOpen = 'error' | 'drop' | 'wait' | 'fallback';

interface StreamConfig {
  whenOpen: WhenOpen;
  concurrency: number;
  capacity: number;
  overflow: 'drop-incoming' | 'drop-oldest' | 'error';
  ttl: number;
  onError: 'continue' | 'error';
}

type SharedStep =
  | { kind: 'arrive'; stream: number }
  | { kind: 'guard' }
  | { kind: 'end'; pick: number; outcome: Outcome }
  | { kind: 'advance'; ms: number }
  | { kind: 'unsubscribe'; stream: number }
  | { kind: 'complete'; stream: number }
  | { kind: 'reset' };

const streamArb: fc.Arbitrary<StreamConfig> = fc.record({
  whenOpen: fc.constantFrom<WhenOpen>('error', 'drop', 'wait', 'fallback'),
  concurrency: fc.constantFrom(1, 2, 3, Infinity),
  capacity: fc.constantFrom(0, 1, 2, 4, Infinity),
  overflow: fc.constantFrom<StreamConfig['overflow']>('drop-incoming', 'drop-oldest', 'error'),
  ttl: fc.constantFrom(Infinity, Infinity, 0, 2, 7),
  onError: fc.constantFrom<StreamConfig['onError']>('continue', 'continue', 'error'),
});

const sharedStepArb: fc.Arbitrary<SharedStep> = fc.oneof(
  { weight: 6, arbitrary: fc.nat(2).map<SharedStep>((stream) => ({ kind: 'arrive', stream })) },
  { weight: 2, arbitrary: fc.constant<SharedStep>({ kind: 'guard' }) },
  {
    weight: 6,
    arbitrary: fc
      .record({ pick: fc.nat(9), outcome: fc.constantFrom<Outcome>('s', 's', 'f', 'f', 'i', 'c') })
      .map<SharedStep>(({ pick, outcome }) => ({ kind: 'end', pick, outcome })),
  },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 0, max: 12 }).map<SharedStep>((ms) => ({ kind: 'advance', ms })),
  },
  { weight: 1, arbitrary: fc.nat(2).map<SharedStep>((stream) => ({ kind: 'unsubscribe', stream })) },
  { weight: 1, arbitrary: fc.nat(2).map<SharedStep>((stream) => ({ kind: 'complete', stream })) },
  { weight: 1, arbitrary: fc.constant<SharedStep>({ kind: 'reset' }) },
);

interface Running {
  label: string;
  inner: Subject<string>;
  /** Guard calls only: their own subscription (cancel = unsubscribe). */
  subscription?: Subscription;
  /** The half-open period it started in as a probe, if it did. */
  period: number | undefined;
}

function runSharedScenario(r: Rules, streams: StreamConfig[], steps: SharedStep[]): void {
  const scheduler = new ManualTimeScheduler();
  const breaker = new CircuitBreaker(breakerOptions(r, scheduler, []));
  const running: Running[] = [];

  // Half-open periods, counted through state$ (one more action per subscription while open).
  let period = 0;
  let halfOpen = false;
  const watcher = breaker.state$.subscribe(({ state }) => {
    halfOpen = state === 'half-open';
    if (halfOpen) period++;
  });
  /** Called as a call starts: with the breaker half-open it is a probe of this period. */
  const started = (label: string, inner: Subject<string>, subscription?: Subscription): void => {
    const probePeriod = breaker.state === 'half-open' ? period : undefined;
    running.push({ label, inner, subscription, period: probePeriod });
    if (probePeriod !== undefined) {
      const probes = running.filter((c) => c.period === probePeriod && c.inner.observed).length;
      expect([label, probes <= r.halfOpenProbes]).toEqual([label, true]);
    }
  };

  // Every value: what happened to it ("project", "fallback" or a drop reason), in order.
  const fates = new Map<string, string[]>();
  const fate = (v: string, what: string): void => {
    fates.set(v, [...(fates.get(v) ?? []), what]);
  };
  const arrived = new Set<string>();
  const sources = streams.map(() => new Subject<string>());
  const subscriptions = streams.map((config, s) => {
    const options: ProtectOptions<string, string> = {
      concurrency: config.concurrency,
      capacity: config.whenOpen === 'wait' && config.capacity === Infinity ? 5 : config.capacity,
      overflow: config.overflow,
      ttl: config.ttl,
      onError: config.onError,
      onDrop: (v: string, reason: DropReason) => fate(v, reason),
      whenOpen:
        config.whenOpen === 'fallback'
          ? (v: string) => {
              fate(v, 'fallback');
              return [`fallback ${v}`];
            }
          : config.whenOpen,
    };
    const project = (v: string): Observable<string> => {
      fate(v, 'project');
      const inner = new Subject<string>();
      started(v, inner);
      return inner;
    };
    return sources[s]!.pipe(
      tap((v) => arrived.add(v)),
      breaker.protect(project, options),
    ).subscribe({ error: () => undefined });
  });

  let next = 0;
  let guards = 0;
  for (const step of steps) {
    switch (step.kind) {
      case 'arrive': {
        const s = step.stream % streams.length;
        sources[s]!.next(`s${String(s)}v${String(next++)}`);
        break;
      }
      case 'guard': {
        const inner = new Subject<string>();
        const label = `guard ${String(guards++)}`;
        let refused = false;
        const subscription = new Subject<string>()
          .pipe(breaker.guard())
          .subscribe({ error: (e: unknown) => (refused = isCircuitOpenError(e)) });
        subscription.unsubscribe();
        // The call itself: a guarded Subject, cancelled by unsubscribing.
        const call = inner.pipe(breaker.guard()).subscribe({ error: () => undefined });
        if (!refused && !call.closed) started(label, inner, call);
        break;
      }
      case 'end': {
        const live = running.filter((c) => c.inner.observed);
        if (live.length === 0) break;
        const call = live[step.pick % live.length]!;
        if (step.outcome === 's') {
          call.inner.next('done');
          call.inner.complete();
        } else if (step.outcome === 'f') call.inner.error(new Error('failed'));
        else if (step.outcome === 'i') call.inner.error(IGNORED);
        else if (call.subscription) call.subscription.unsubscribe();
        else call.inner.error(IGNORED); // a protect call cannot be cancelled alone: ignore it instead
        break;
      }
      case 'advance':
        scheduler.advanceBy(step.ms);
        break;
      case 'unsubscribe':
        subscriptions[step.stream % streams.length]!.unsubscribe();
        break;
      case 'complete':
        sources[step.stream % streams.length]!.complete();
        break;
      case 'reset':
        breaker.reset();
        break;
    }
  }

  // Teardown: end every stream and call, then nothing may stay scheduled (but half-open's max wait).
  subscriptions.forEach((s) => s.unsubscribe());
  running.forEach((c) => c.subscription?.unsubscribe());
  watcher.unsubscribe();
  // Conservation, once the values still waiting were reported 'cleared' by the teardown: every value
  // that reached protect had exactly one fate.
  for (const v of arrived) expect([v, fates.get(v)?.length]).toEqual([v, 1]);
  expect([...fates.keys()].filter((v) => !arrived.has(v))).toEqual([]);
  for (const [v, [what]] of fates) {
    const s = Number(/^s(\d)/.exec(v)![1]);
    const { whenOpen } = streams[s]!;
    // 'wait' never rejects; a fallback mode hands refused values to the fallback instead.
    if (whenOpen === 'wait' || whenOpen === 'fallback') expect([v, what]).not.toEqual([v, 'rejected']);
    if (what === 'fallback') expect([v, whenOpen]).toEqual([v, 'fallback']);
  }

  const allowed = breaker.state === 'half-open' && r.halfOpenMaxWait !== Infinity ? 1 : 0;
  expect(scheduler.pendingCount).toBeLessThanOrEqual(allowed);
  for (const source of sources) expect(source.observed).toBe(false);
}

describe('CircuitBreaker properties (issue 10)', () => {
  it('is open exactly when a trip rule is met: it agrees with a reference model, step by step', () => {
    fc.assert(fc.property(rulesArb, fc.array(stepArb, { maxLength: 80, size: 'max' }), runModelScenario), {
      numRuns: 300,
    });
  });

  it('never lets more than halfOpenProbes probes run at once, and conserves every value of protect', () => {
    fc.assert(
      fc.property(
        rulesArb,
        fc.array(streamArb, { minLength: 1, maxLength: 3 }),
        fc.array(sharedStepArb, { maxLength: 80, size: 'max' }),
        runSharedScenario,
      ),
      { numRuns: 300 },
    );
  });
});
