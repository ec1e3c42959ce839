import fc from 'fast-check';
import { Subject, type MonoTypeOperatorFunction } from 'rxjs';
import {
  leakyBucket,
  tokenBucket,
  type DropReason,
  type OnDrop,
  type OverflowStrategy,
} from '../../src/index';
import { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';

/**
 * Properties of `tokenBucket` and `leakyBucket` over random arrivals, parameters and costs, run in
 * virtual time on a ManualTimeScheduler. Values are their arrival indices, so order and conservation
 * can be checked by number.
 */

type Ending = { kind: 'complete' | 'error' | 'unsubscribe' | 'none'; at: number };

interface Outcome {
  /** Indices of the values the operator received (arrivals after the ending are never sent). */
  entered: number[];
  /** `[index, time]` of every emission, in emission order. */
  emitted: [number, number][];
  /** `[index, time, reason]` of every `onDrop` report, in report order. */
  dropped: [number, number, DropReason][];
  /** How the output ended, if it did. */
  terminal: { kind: 'complete' | 'error'; time: number; error?: unknown } | undefined;
  /** Descriptions of every moment the scheduler held an unexpected number of actions. */
  pendingViolations: string[];
}

/**
 * Pushes value `i` at `times[i]` into the operator through a Subject, advancing a ManualTimeScheduler,
 * ends the source as `ending` says, then runs the scheduler dry. At every step checks the timer
 * discipline: one pending action exactly while values wait, none otherwise.
 */
function drive(
  make: (scheduler: ManualTimeScheduler, onDrop: OnDrop<number>) => MonoTypeOperatorFunction<number>,
  times: readonly number[],
  ending: Ending,
): Outcome {
  const scheduler = new ManualTimeScheduler();
  const source = new Subject<number>();
  const out: Outcome = { entered: [], emitted: [], dropped: [], terminal: undefined, pendingViolations: [] };
  let unsubscribed = false;
  const subscription = source
    .pipe(make(scheduler, (value, reason) => out.dropped.push([value, scheduler.now(), reason])))
    .subscribe({
      next: (value) => out.emitted.push([value, scheduler.now()]),
      error: (error: unknown) => (out.terminal = { kind: 'error', time: scheduler.now(), error }),
      complete: () => (out.terminal = { kind: 'complete', time: scheduler.now() }),
    });
  const check = (where: string): void => {
    const waiting = out.entered.length - out.emitted.length - out.dropped.length;
    const expected = out.terminal || unsubscribed || waiting === 0 ? 0 : 1;
    if (scheduler.pendingCount !== expected) {
      out.pendingViolations.push(
        `${where} at ${scheduler.now()}: ${scheduler.pendingCount} pending, ${waiting} waiting`,
      );
    }
  };
  const end = (): void => {
    if (ending.kind === 'complete') source.complete();
    if (ending.kind === 'error') source.error(new Error('source failed'));
    if (ending.kind === 'unsubscribe') {
      unsubscribed = true;
      subscription.unsubscribe();
    }
  };
  let ended = false;
  for (let i = 0; i < times.length; i++) {
    const time = times[i]!;
    if (!ended && ending.kind !== 'none' && ending.at < time) {
      scheduler.advanceTo(ending.at);
      check('before the ending');
      end();
      ended = true;
      check('after the ending');
    }
    if (ended || out.terminal) break;
    scheduler.advanceTo(time);
    check(`before value ${i}`);
    out.entered.push(i);
    source.next(i);
    check(`after value ${i}`);
  }
  if (!ended && !out.terminal) {
    if (ending.kind !== 'none') scheduler.advanceTo(Math.max(scheduler.now(), ending.at));
    end();
    check('after the ending');
  }
  // Runs every timer: a value still waiting afterwards would be stuck with no timer to release it.
  scheduler.flush();
  check('after flush');
  return out;
}

/**
 * Every received value is emitted or reported exactly once; emissions keep arrival order; the timer
 * discipline held; a source that ended ended the output.
 */
function checkConservationAndOrder(out: Outcome, ending?: Ending): void {
  if (ending?.kind === 'complete' || ending?.kind === 'error') expect(out.terminal).toBeDefined();
  if (ending?.kind === 'error') expect(out.terminal?.kind).toBe('error');
  const seen = [...out.emitted.map(([i]) => i), ...out.dropped.map(([i]) => i)].sort((a, b) => a - b);
  expect(seen).toEqual(out.entered);
  const order = out.emitted.map(([i]) => i);
  expect(order).toEqual([...order].sort((a, b) => a - b));
  expect(out.pendingViolations).toEqual([]);
}

/** The largest amount by which any window between two emissions exceeds `capacity + length × rate`. */
function worstWindowExcess(
  emissions: readonly (readonly [number, number])[],
  capacity: number,
  rate: number,
): number {
  let worst = -Infinity;
  for (let i = 0; i < emissions.length; i++) {
    let sum = 0;
    for (let j = i; j < emissions.length; j++) {
      sum += emissions[j]![1];
      const length = emissions[j]![0] - emissions[i]![0];
      worst = Math.max(worst, sum - (capacity + length * rate));
    }
  }
  return worst;
}

/** Cumulative sums of gaps: non-decreasing arrival times starting at the first gap. */
function timesFrom(gaps: readonly number[]): number[] {
  let t = 0;
  return gaps.map((gap) => (t += gap));
}

const SHAPE_STRATEGIES: OverflowStrategy[] = [
  'drop-incoming',
  'drop-oldest',
  'drop-newest-queued',
  'drop-queue',
  'error',
];

const endingArb = (span: number): fc.Arbitrary<Ending> =>
  fc.record({
    kind: fc.constantFrom<Ending['kind']>('complete', 'error', 'unsubscribe', 'none'),
    at: fc.integer({ min: 0, max: span }),
  });

/**
 * Whole-number parameters: a token period `P` of whole ms (`interval = P × tokensPerInterval`),
 * integer capacity, initial tokens, costs and arrival times, so that the model below is exact.
 */
const exactTokenScenario = fc
  .record({
    capacity: fc.integer({ min: 1, max: 5 }),
    period: fc.integer({ min: 0, max: 12 }),
    tokensPerInterval: fc.integer({ min: 1, max: 4 }),
    initialFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .chain((p) =>
    fc.record({
      capacity: fc.constant(p.capacity),
      period: fc.constant(p.period),
      tokensPerInterval: fc.constant(p.tokensPerInterval),
      initialTokens: fc.constant(Math.floor(p.initialFraction * p.capacity)),
      arrivals: fc.array(
        fc.record({ gap: fc.integer({ min: 0, max: 15 }), cost: fc.integer({ min: 0, max: p.capacity }) }),
        { maxLength: 40 },
      ),
    }),
  );

/**
 * The greedy schedule, counted in token-milliseconds (one token = `period` ms, so every quantity is
 * an integer): each value leaves at `max(its arrival, the previous emission, when its tokens have
 * accrued)`, the bucket never holding more than `capacity`.
 */
function greedyShapeSchedule(
  arrivals: readonly { time: number; cost: number }[],
  capacity: number,
  period: number,
  initialTokens: number,
): number[] {
  const full = capacity * period;
  let level = initialTokens * period;
  let last = 0;
  return arrivals.map(({ time, cost }) => {
    const start = Math.max(time, last);
    const available = Math.min(full, level + (start - last));
    const need = cost * period;
    const leave = available >= need ? start : start + (need - available);
    level = Math.max(available, need) - need;
    last = leave;
    return leave;
  });
}

/** Police mode in the same units: a value passes when its tokens are there on arrival. */
function policeModel(
  arrivals: readonly { time: number; cost: number }[],
  capacity: number,
  period: number,
  initialTokens: number,
): boolean[] {
  const full = capacity * period;
  let level = initialTokens * period;
  let last = 0;
  return arrivals.map(({ time, cost }) => {
    level = Math.min(full, level + (time - last));
    last = time;
    if (level >= cost * period) {
      level -= cost * period;
      return true;
    }
    return false;
  });
}

describe('tokenBucket properties', () => {
  it('shape mode, unbounded queue: every value is emitted, in order, exactly at the greedy schedule', () => {
    fc.assert(
      fc.property(exactTokenScenario, ({ capacity, period, tokensPerInterval, initialTokens, arrivals }) => {
        const times = timesFrom(arrivals.map((a) => a.gap));
        const costs = arrivals.map((a) => a.cost);
        const out = drive(
          (scheduler, onDrop) =>
            tokenBucket({
              capacity,
              tokensPerInterval,
              interval: period * tokensPerInterval,
              initialTokens,
              cost: (i: number) => costs[i]!,
              scheduler,
              onDrop,
            }),
          times,
          { kind: 'complete', at: times.at(-1) ?? 0 },
        );
        const expected = greedyShapeSchedule(
          times.map((time, i) => ({ time, cost: costs[i]! })),
          capacity,
          period,
          initialTokens,
        );
        expect(out.dropped).toEqual([]);
        expect(out.emitted).toEqual(expected.map((time, i) => [i, time]));
        for (const [i, time] of out.emitted) expect(time).toBeGreaterThanOrEqual(times[i]!);
        expect(out.terminal).toEqual({
          kind: 'complete',
          time: Math.max(expected.at(-1) ?? 0, times.at(-1) ?? 0),
        });
        checkConservationAndOrder(out);
      }),
    );
  });

  it('police mode: a value passes at its arrival exactly when its tokens are there, otherwise it is rejected', () => {
    fc.assert(
      fc.property(exactTokenScenario, ({ capacity, period, tokensPerInterval, initialTokens, arrivals }) => {
        const times = timesFrom(arrivals.map((a) => a.gap));
        const costs = arrivals.map((a) => a.cost);
        const out = drive(
          (scheduler, onDrop) =>
            tokenBucket({
              capacity,
              tokensPerInterval,
              interval: period * tokensPerInterval,
              initialTokens,
              cost: (i: number) => costs[i]!,
              mode: 'police',
              scheduler,
              onDrop,
            }),
          times,
          { kind: 'none', at: 0 },
        );
        const passes = policeModel(
          times.map((time, i) => ({ time, cost: costs[i]! })),
          capacity,
          period,
          initialTokens,
        );
        expect(out.emitted).toEqual(times.flatMap((time, i) => (passes[i] ? [[i, time]] : [])));
        expect(out.dropped).toEqual(times.flatMap((time, i) => (passes[i] ? [] : [[i, time, 'rejected']])));
        checkConservationAndOrder(out);
      }),
    );
  });

  it('any mode, queue and ending: in every window of length t at most capacity + t × rate tokens leave; conservation; order; timer discipline', () => {
    const scenario = fc
      .record({
        capacity: fc.double({ min: 0.25, max: 6, noNaN: true }),
        tokensPerInterval: fc.double({ min: 0.1, max: 5, noNaN: true }),
        interval: fc.oneof(fc.constant(0), fc.double({ min: 0.5, max: 40, noNaN: true })),
        initialFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        police: fc.boolean(),
        queueCapacity: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 4 })),
        shapeOverflow: fc.constantFrom(...SHAPE_STRATEGIES),
        policeOverflow: fc.constantFrom<OverflowStrategy>('drop-incoming', 'error'),
        arrivals: fc.array(
          fc.record({
            gap: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 15, noNaN: true })),
            costFraction: fc.oneof(
              fc.constant(0),
              fc.constant(1),
              fc.double({ min: 0, max: 1, noNaN: true }),
            ),
          }),
          { maxLength: 40 },
        ),
      })
      .chain((s) => fc.record({ s: fc.constant(s), ending: endingArb(400) }));

    fc.assert(
      fc.property(scenario, ({ s, ending }) => {
        const times = timesFrom(s.arrivals.map((a) => a.gap));
        const costs = s.arrivals.map((a) => Math.min(s.capacity, a.costFraction * s.capacity));
        const initialTokens = Math.min(s.capacity, s.initialFraction * s.capacity);
        const out = drive(
          (scheduler, onDrop) =>
            tokenBucket({
              capacity: s.capacity,
              tokensPerInterval: s.tokensPerInterval,
              interval: s.interval,
              initialTokens,
              cost: (i: number) => costs[i]!,
              ...(s.police
                ? { mode: 'police' as const, overflow: s.policeOverflow }
                : { mode: 'shape' as const, overflow: s.shapeOverflow, queueCapacity: s.queueCapacity }),
              scheduler,
              onDrop,
            }),
          times,
          ending,
        );
        checkConservationAndOrder(out, ending);
        for (const [i, time] of out.emitted) expect(time).toBeGreaterThanOrEqual(times[i]!);
        const allowed: DropReason[] = s.police ? ['rejected'] : ['overflow', 'cleared'];
        for (const [, , reason] of out.dropped) expect(allowed).toContain(reason);
        if (s.interval > 0) {
          const rate = s.tokensPerInterval / s.interval;
          const excess = worstWindowExcess(
            out.emitted.map(([i, time]) => [time, costs[i]!] as const),
            s.capacity,
            rate,
          );
          expect(excess).toBeLessThanOrEqual(1e-6 * (1 + rate));
        }
      }),
    );
  });
});

describe('leakyBucket properties', () => {
  it('unbounded: value i leaves at max(its arrival, previous emission + interval), all of them, in order', () => {
    const scenario = fc.record({
      interval: fc.integer({ min: 0, max: 20 }),
      gaps: fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 40 }),
    });
    fc.assert(
      fc.property(scenario, ({ interval, gaps }) => {
        const times = timesFrom(gaps);
        const out = drive((scheduler, onDrop) => leakyBucket({ interval, scheduler, onDrop }), times, {
          kind: 'complete',
          at: times.at(-1) ?? 0,
        });
        let previous = -Infinity;
        const expected = times.map((time, i) => {
          previous = Math.max(time, previous + interval);
          return [i, previous];
        });
        expect(out.emitted).toEqual(expected);
        expect(out.dropped).toEqual([]);
        checkConservationAndOrder(out);
      }),
    );
  });

  it('any capacity, strategy and ending: emissions never closer than interval; conservation; order; timer discipline', () => {
    const scenario = fc
      .record({
        interval: fc.oneof(fc.constant(0), fc.double({ min: 0.5, max: 30, noNaN: true })),
        capacity: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 4 })),
        overflow: fc.constantFrom(...SHAPE_STRATEGIES),
        gaps: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 25, noNaN: true })), {
          maxLength: 40,
        }),
      })
      .chain((s) => fc.record({ s: fc.constant(s), ending: endingArb(400) }));
    fc.assert(
      fc.property(scenario, ({ s, ending }) => {
        const times = timesFrom(s.gaps);
        const out = drive(
          (scheduler, onDrop) =>
            leakyBucket({
              interval: s.interval,
              capacity: s.capacity,
              overflow: s.overflow,
              scheduler,
              onDrop,
            }),
          times,
          ending,
        );
        checkConservationAndOrder(out, ending);
        for (const [i, time] of out.emitted) expect(time).toBeGreaterThanOrEqual(times[i]!);
        for (let k = 1; k < out.emitted.length; k++) {
          expect(out.emitted[k]![1] - out.emitted[k - 1]![1]).toBeGreaterThanOrEqual(s.interval - 1e-6);
        }
        for (const [, , reason] of out.dropped) expect(['overflow', 'cleared']).toContain(reason);
      }),
    );
  });
});
