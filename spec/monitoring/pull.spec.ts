import { EventEmitter } from 'node:events';
import {
  BehaviorSubject,
  map,
  NEVER,
  Subject,
  throwError,
  timer,
  type Observable,
  type Subscription,
} from 'rxjs';
import {
  FlowMeter,
  ManualTimeScheduler,
  pullFeedback,
  pullFrom,
  pullMap,
  writeTo,
  type DropReason,
  type FlowSnapshot,
  type WritableLike,
} from 'rxjs-backpressure';
import { recordDrops } from '../helpers/marbles';

/*
 * Issue 9 on the demand-paced operators: pullFeedback (values wait for demand), pullFrom and pullMap
 * (values are pulled, so nothing waits), writeTo (values wait for 'drain'). Every figure in
 * hand-built runs, exact in virtual time; drops against onDrop (writeTo has none: drops$); gauges
 * back to 0 however the stream ends.
 */

const REASONS: readonly DropReason[] = ['overflow', 'rejected', 'expired', 'shed', 'cleared'];
const IDLE = {
  waiting: 0,
  running: 0,
  capacity: 0,
  concurrency: 0,
  tokens: 0,
  subscriptions: 0,
  storeFailures: 0,
};

function expectConsistent(snapshot: FlowSnapshot, drops: readonly [unknown, DropReason][]): void {
  const counts = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  for (const [, reason] of drops) counts[reason]++;
  expect(snapshot.dropped).toEqual(counts);
  expect(snapshot.droppedTotal).toBe(drops.length);
  expect(snapshot.received).toBe(snapshot.released + snapshot.droppedTotal + snapshot.waiting);
}

function setup(): { scheduler: ManualTimeScheduler; meter: FlowMeter } {
  const scheduler = new ManualTimeScheduler();
  return { scheduler, meter: new FlowMeter({ name: 'pull', scheduler }) };
}

/** An iterable whose iterator cannot even be made. */
const broken: Iterable<string> = {
  [Symbol.iterator]() {
    throw new Error('no iterator');
  },
};

describe('a meter on pullFeedback', () => {
  function run(options: { capacity?: number; initialDemand?: number; ttl?: number } = {}) {
    const { scheduler, meter } = setup();
    const source = new Subject<string>();
    const demand = new Subject<number>();
    const drops = recordDrops<string>(scheduler);
    const out: string[] = [];
    const state = { ended: undefined as string | undefined };
    const subscription = source
      .pipe(pullFeedback(demand, { ...options, scheduler, meter, onDrop: drops.onDrop }))
      .subscribe({
        next: (v) => out.push(v),
        error: () => (state.ended = 'error'),
        complete: () => (state.ended = 'complete'),
      });
    return { scheduler, meter, source, demand, drops, out, state, subscription };
  }

  it('a hand-built run: waiting for demand, waits, capacity and drops, exact in virtual time', () => {
    const r = run({ capacity: 2, initialDemand: 1 });
    expect(r.meter.snapshot()).toMatchObject({ capacity: 2, concurrency: 0, tokens: 0, subscriptions: 1 });
    ['a', 'b', 'c', 'd'].forEach((v) => r.source.next(v));
    expect(r.meter.snapshot()).toMatchObject({
      received: 4,
      released: 1,
      waiting: 2,
      maxWaiting: 2,
      dropped: { overflow: 1 },
    });
    expectConsistent(r.meter.snapshot(), r.drops.drops);
    r.scheduler.advanceTo(5);
    r.demand.next(1);
    expect(r.meter.snapshot()).toMatchObject({ released: 2, waiting: 1 });
    r.scheduler.advanceTo(7);
    r.demand.next(5);
    r.source.complete();
    expect(r.state.ended).toBe('complete');
    expect(r.out).toEqual(['a', 'b', 'c']);
    expect(r.meter.snapshot()).toMatchObject({
      received: 4,
      released: 3,
      droppedTotal: 1,
      maxWaiting: 2,
      maxRunning: 0,
      wait: { count: 3, sum: 12, min: 0, max: 7, p50: 5, p90: 7, p99: 7 },
      duration: { count: 0 },
      ...IDLE,
    });
  });

  it("ttl: a value that waits too long for demand counts 'expired'", () => {
    const r = run({ ttl: 3 });
    r.source.next('a');
    r.scheduler.advanceTo(4);
    expect(r.meter.snapshot()).toMatchObject({ waiting: 0, dropped: { expired: 1 }, capacity: Infinity });
    expectConsistent(r.meter.snapshot(), r.drops.drops);
  });

  describe('gauges return to 0', () => {
    it('when demand$ completes and its demand is spent (waiting values cleared)', () => {
      const r = run({ initialDemand: 1 });
      ['a', 'b', 'c'].forEach((v) => r.source.next(v));
      r.demand.complete();
      expect(r.state.ended).toBe('complete');
      expectConsistent(r.meter.snapshot(), r.drops.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, released: 1, dropped: { cleared: 2 } });
    });

    it('after a source error', () => {
      const r = run();
      ['a', 'b'].forEach((v) => r.source.next(v));
      r.source.error(new Error('x'));
      expectConsistent(r.meter.snapshot(), r.drops.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, dropped: { cleared: 2 } });
    });

    it('after unsubscribe', () => {
      const r = run();
      ['a', 'b'].forEach((v) => r.source.next(v));
      r.subscription.unsubscribe();
      expectConsistent(r.meter.snapshot(), r.drops.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, dropped: { cleared: 2 } });
    });
  });
});

describe('a meter on pullFrom', () => {
  it('counts what it pulls and passes on; nothing ever waits or is dropped', () => {
    const { meter } = setup();
    const demand = new Subject<number>();
    const out: number[] = [];
    let completed = false;
    pullFrom([1, 2, 3, 4, 5], demand, { initialDemand: 2, meter }).subscribe({
      next: (v) => out.push(v),
      complete: () => (completed = true),
    });
    expect(meter.snapshot()).toMatchObject({
      received: 2,
      released: 2,
      waiting: 0,
      subscriptions: 1,
      capacity: 0,
    });
    demand.next(2);
    expect(meter.snapshot()).toMatchObject({ received: 4, released: 4, waiting: 0, maxWaiting: 0 });
    demand.next(10);
    expect(completed).toBe(true);
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(meter.snapshot()).toMatchObject({
      received: 5,
      released: 5,
      droppedTotal: 0,
      wait: { count: 5, sum: 0, max: 0 },
      duration: { count: 0 },
      ...IDLE,
    });
  });

  it('an async input: counted as each value arrives', async () => {
    const { meter } = setup();
    async function* input(): AsyncGenerator<string> {
      yield 'a';
      yield 'b';
      yield 'c';
    }
    const values = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      pullFrom(input(), NEVER, { initialDemand: Infinity, meter }).subscribe({
        next: (v) => {
          seen.push(v);
          expect(meter.snapshot()).toMatchObject({
            received: seen.length,
            released: seen.length,
            waiting: 0,
          });
        },
        error: reject,
        complete: () => resolve(seen),
      });
    });
    expect(values).toEqual(['a', 'b', 'c']);
    expect(meter.snapshot()).toMatchObject({ received: 3, released: 3, ...IDLE });
  });

  describe('gauges return to 0', () => {
    it('after unsubscribe', () => {
      const { meter } = setup();
      const subscription = pullFrom([1, 2, 3], NEVER, { initialDemand: 1, meter }).subscribe();
      expect(meter.snapshot().subscriptions).toBe(1);
      subscription.unsubscribe();
      expect(meter.snapshot()).toMatchObject({ ...IDLE, received: 1 });
    });

    it('after the input throws', () => {
      const { meter } = setup();
      function* input(): Generator<number> {
        yield 1;
        throw new Error('input failed');
      }
      let failed = false;
      pullFrom(input(), NEVER, { initialDemand: 5, meter }).subscribe({ error: () => (failed = true) });
      expect(failed).toBe(true);
      expect(meter.snapshot()).toMatchObject({ ...IDLE, received: 1, released: 1 });
    });

    it('after the input cannot even make its iterator', () => {
      const { meter } = setup();
      let error: unknown;
      pullFrom(broken, NEVER, { initialDemand: 1, meter }).subscribe({
        error: (err: unknown) => (error = err),
      });
      expect(error).toEqual(new Error('no iterator'));
      expect(meter.snapshot()).toMatchObject(IDLE);
    });
  });
});

describe('a meter on pullMap', () => {
  function run(
    input: Iterable<string>,
    durations: Record<string, number>,
    options: {
      concurrency?: number | Observable<number>;
      onError?: 'error' | 'continue';
      demand$?: Observable<number>;
    } = {},
    failing: readonly string[] = [],
  ) {
    const { scheduler, meter } = setup();
    const out: string[] = [];
    const state = { ended: undefined as string | undefined };
    const project = (v: string): Observable<string> =>
      timer(durations[v]!, scheduler).pipe(
        map(() => {
          if (failing.includes(v)) throw new Error(`${v} failed`);
          return v;
        }),
      );
    const subscription: Subscription = pullMap(input, project, { ...options, meter }).subscribe({
      next: (v) => out.push(v),
      error: () => (state.ended = 'error'),
      complete: () => (state.ended = 'complete'),
    });
    return { scheduler, meter, out, state, subscription };
  }

  it('a hand-built run: running, concurrency, completed, failed, durations, exact in virtual time', () => {
    const r = run(
      ['a', 'b', 'c', 'd', 'e'],
      { a: 4, b: 2, c: 3, d: 6, e: 1 },
      { concurrency: 2, onError: 'continue' },
      ['c'],
    );
    expect(r.meter.snapshot()).toMatchObject({
      received: 2,
      released: 2,
      waiting: 0,
      running: 2,
      concurrency: 2,
      capacity: 0,
      subscriptions: 1,
    });
    // a 0-4, b 0-2, c 2-5 (fails), d 4-10, e 5-6.
    r.scheduler.advanceTo(3);
    expect(r.meter.snapshot()).toMatchObject({ received: 3, running: 2, completed: 1, failed: 0 });
    r.scheduler.advanceTo(5);
    expect(r.meter.snapshot()).toMatchObject({ received: 5, running: 2, completed: 2, failed: 1 });
    r.scheduler.advanceTo(10);
    expect(r.state.ended).toBe('complete');
    expect(r.out).toEqual(['b', 'a', 'e', 'd']);
    expect(r.meter.snapshot()).toMatchObject({
      received: 5,
      released: 5,
      droppedTotal: 0,
      maxWaiting: 0,
      maxRunning: 2,
      completed: 4,
      failed: 1,
      wait: { count: 5, sum: 0, max: 0 },
      duration: { count: 5, sum: 16, min: 1, max: 6, p50: 3, p90: 6, p99: 6 },
      ...IDLE,
    });
  });

  it('the concurrency in force follows an Observable', () => {
    const concurrency = new BehaviorSubject(1);
    const r = run(['a', 'b', 'c', 'd'], { a: 5, b: 5, c: 5, d: 5 }, { concurrency });
    expect(r.meter.snapshot()).toMatchObject({ concurrency: 1, running: 1 });
    concurrency.next(3);
    expect(r.meter.snapshot()).toMatchObject({ concurrency: 3, running: 3, maxRunning: 3 });
    concurrency.next(Infinity);
    expect(r.meter.snapshot()).toMatchObject({ concurrency: Infinity, running: 4, maxRunning: 4 });
  });

  describe('gauges return to 0', () => {
    it('after unsubscribe: running inners cancelled, not sampled', () => {
      const r = run(['a', 'b', 'c'], { a: 5, b: 5, c: 5 }, { concurrency: 2 });
      r.subscription.unsubscribe();
      expect(r.meter.snapshot()).toMatchObject({
        ...IDLE,
        received: 2,
        completed: 0,
        duration: { count: 0 },
      });
    });

    it('after an inner error', () => {
      const r = run(['a', 'b', 'c'], { a: 5, b: 1, c: 5 }, { concurrency: 2 }, ['b']);
      r.scheduler.advanceTo(1);
      expect(r.state.ended).toBe('error');
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, failed: 1, duration: { count: 1, sum: 1 } });
    });

    it('after a project that throws', () => {
      const { meter } = setup();
      pullMap(['a'], () => throwError(() => new Error('x')), { meter }).subscribe({ error: () => {} });
      pullMap(
        ['a'],
        () => {
          throw new Error('y');
        },
        { meter },
      ).subscribe({ error: () => {} });
      expect(meter.snapshot()).toMatchObject({ ...IDLE, received: 2, released: 2, failed: 1 });
    });

    it('after the input cannot even make its iterator', () => {
      const { meter } = setup();
      let error: unknown;
      pullMap(broken, (v) => [v], { meter }).subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toEqual(new Error('no iterator'));
      expect(meter.snapshot()).toMatchObject(IDLE);
    });

    it('when demand$ completes and its demand is spent', () => {
      const demand = new BehaviorSubject(1);
      const r = run(['a', 'b', 'c'], { a: 1, b: 1, c: 1 }, { demand$: demand, concurrency: 2 });
      r.scheduler.advanceTo(1);
      demand.complete();
      expect(r.state.ended).toBe('complete');
      expect(r.meter.snapshot()).toMatchObject(IDLE);
    });
  });
});

/** A writable that accepts every chunk, asking to wait for 'drain' after the chunks in `full`. */
class FakeWritable extends EventEmitter implements WritableLike<string> {
  readonly written: string[] = [];
  constructor(private readonly full: readonly string[] = []) {
    super();
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    return !this.full.includes(chunk);
  }
  end(): void {
    this.emit('finish');
  }
}

describe('a meter on writeTo', () => {
  function run(full: readonly string[]) {
    const { scheduler, meter } = setup();
    const writable = new FakeWritable(full);
    const source = new Subject<string>();
    const drops: [unknown, DropReason][] = [];
    meter.drops$.subscribe(({ value, reason }) => drops.push([value, reason]));
    const state = { ended: undefined as string | undefined, count: -1 };
    const subscription = writeTo(writable, () => source, { requireDemand: false, meter }).subscribe({
      next: (n) => (state.count = n),
      error: () => (state.ended = 'error'),
      complete: () => (state.ended = 'complete'),
    });
    return { scheduler, meter, writable, source, drops, state, subscription };
  }

  it("a hand-built run: values held for 'drain' wait, and their wait is the time they were held", () => {
    const r = run(['b']);
    r.source.next('a');
    r.source.next('b'); // written; the writable asks to wait
    r.scheduler.advanceTo(1);
    r.source.next('c');
    r.scheduler.advanceTo(2);
    r.source.next('d');
    expect(r.meter.snapshot()).toMatchObject({
      received: 4,
      released: 2,
      waiting: 2,
      maxWaiting: 2,
      capacity: 0,
      concurrency: 0,
      subscriptions: 1,
    });
    r.scheduler.advanceTo(5);
    r.writable.emit('drain');
    expect(r.writable.written).toEqual(['a', 'b', 'c', 'd']);
    r.source.complete();
    expect(r.state).toEqual({ ended: 'complete', count: 4 });
    expect(r.meter.snapshot()).toMatchObject({
      received: 4,
      released: 4,
      droppedTotal: 0,
      maxWaiting: 2,
      ...IDLE,
    });
    // c was held from 1 to 5, d from 2 to 5.
    expect(r.meter.snapshot().wait).toEqual({ count: 4, sum: 7, min: 0, max: 4, p50: 0, p90: 4, p99: 4 });
  });

  describe("gauges return to 0; values still held count 'cleared' (on drops$: writeTo has no onDrop)", () => {
    it('after unsubscribe', () => {
      const r = run(['a']);
      ['a', 'b', 'c'].forEach((v) => r.source.next(v));
      r.subscription.unsubscribe();
      expect(r.drops).toEqual([
        ['b', 'cleared'],
        ['c', 'cleared'],
      ]);
      expectConsistent(r.meter.snapshot(), r.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, received: 3, released: 1 });
    });

    it('after a source error', () => {
      const r = run(['a']);
      ['a', 'b'].forEach((v) => r.source.next(v));
      r.source.error(new Error('x'));
      expect(r.state.ended).toBe('error');
      expectConsistent(r.meter.snapshot(), r.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, dropped: { cleared: 1 } });
    });

    it('after the writable errors', () => {
      const r = run(['a']);
      ['a', 'b'].forEach((v) => r.source.next(v));
      r.writable.emit('error', new Error('disk full'));
      expect(r.state.ended).toBe('error');
      expectConsistent(r.meter.snapshot(), r.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, dropped: { cleared: 1 } });
    });

    it('after completion', () => {
      const r = run([]);
      ['a', 'b'].forEach((v) => r.source.next(v));
      r.source.complete();
      expect(r.state).toEqual({ ended: 'complete', count: 2 });
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, received: 2, released: 2 });
    });
  });
});
