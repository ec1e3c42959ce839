import { map, repeat, retry, Subject, timer, type Observable } from 'rxjs';
import {
  bufferDropping,
  bufferFixed,
  FlowMeter,
  leakyBucket,
  ManualTimeScheduler,
  pullMap,
  tokenBucket,
  type DropReason,
} from 'rxjs-backpressure';
import { testScheduler } from '../helpers/marbles';

/*
 * Issue 9, rule 2: one meter may be shared by several operators or subscriptions. Counts add up,
 * gauges add up, `max*` are maxima of the sums; a meter on an operator subscribed twice counts both
 * subscriptions; a re-subscribed operator keeps counting.
 */

const IDLE = {
  waiting: 0,
  running: 0,
  capacity: 0,
  concurrency: 0,
  tokens: 0,
  subscriptions: 0,
  storeFailures: 0,
};

function setup(): { scheduler: ManualTimeScheduler; meter: FlowMeter } {
  const scheduler = new ManualTimeScheduler();
  return { scheduler, meter: new FlowMeter({ name: 'shared', scheduler }) };
}

/** `project` whose work is a Subject the test completes by hand. */
function handInners(): { project: (v: string) => Observable<string>; finish: (v: string) => void } {
  const inners = new Map<string, Subject<string>>();
  return {
    project: (v) => {
      const inner = new Subject<string>();
      inners.set(v, inner);
      return inner;
    },
    finish: (v) => {
      inners.get(v)!.next(v);
      inners.get(v)!.complete();
    },
  };
}

describe('two operators sharing one meter', () => {
  it('counts and gauges add up; maxWaiting is the largest sum, not the sum of the largest', () => {
    const { scheduler, meter } = setup();
    const one = handInners();
    const two = handInners();
    const s1 = new Subject<string>();
    const s2 = new Subject<string>();
    s1.pipe(bufferFixed(5, one.project, { meter, scheduler, concurrency: 1 })).subscribe();
    s2.pipe(bufferDropping(3, two.project, { meter, scheduler, concurrency: 2 })).subscribe();
    expect(meter.snapshot()).toMatchObject({ capacity: 8, concurrency: 3, subscriptions: 2 });
    // The first waits 2 at 0..5.
    ['a', 'b', 'c'].forEach((v) => s1.next(v));
    expect(meter.snapshot()).toMatchObject({ received: 3, released: 1, waiting: 2, running: 1 });
    scheduler.advanceTo(5);
    one.finish('a');
    one.finish('b');
    one.finish('c');
    expect(meter.snapshot()).toMatchObject({ waiting: 0, running: 0, maxWaiting: 2, maxRunning: 1 });
    // Then the second waits 3 (and drops one).
    ['p', 'q', 'r', 's', 't', 'u'].forEach((v) => s2.next(v));
    expect(meter.snapshot()).toMatchObject({
      received: 9,
      released: 5,
      waiting: 3,
      maxWaiting: 3,
      running: 2,
      maxRunning: 2,
      dropped: { overflow: 1 },
      droppedTotal: 1,
    });
    // Now both at once: 3 + 2 waiting, 2 + 1 running.
    ['d', 'e', 'f'].forEach((v) => s1.next(v));
    expect(meter.snapshot()).toMatchObject({ waiting: 5, maxWaiting: 5, running: 3, maxRunning: 3 });
    expect(meter.snapshot().received).toBe(
      meter.snapshot().released + meter.snapshot().droppedTotal + meter.snapshot().waiting,
    );
    s1.complete();
    s2.complete();
    ['d', 'e', 'f'].forEach(one.finish);
    ['p', 'q', 'r', 's', 't'].forEach(two.finish);
    expect(meter.snapshot()).toMatchObject({ ...IDLE, received: 12, released: 11, completed: 11 });
  });

  it('tokens add up over two buckets; the wait distribution merges both', () => {
    testScheduler().run(({ hot, expectObservable, flush }) => {
      const meter = new FlowMeter({ name: 'rates' });
      const a = hot(' (ab)--|');
      const b = hot(' (cde)-|');
      expectObservable(a.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 4, meter }))).toBe(
        '             a---b-|',
      );
      expectObservable(b.pipe(leakyBucket({ interval: 2, meter }))).toBe('c-d-e-|');
      // Read at odd frames, between the releases (at 0, 2 and 4).
      expectObservable(meter.snapshots$(2).pipe(map((s) => s.tokens)), '-^ 6ms !').toBe('---p-q-r', {
        p: 0.75 + 0.5,
        q: 0.25 + 0.5,
        r: 0,
      });
      flush();
      // Waits: a 0, b 4, c 0, d 2, e 4.
      expect(meter.snapshot().wait).toEqual({ count: 5, sum: 10, min: 0, max: 4, p50: 2, p90: 4, p99: 4 });
    });
  });

  it('chained operators on one meter count a value at each', () => {
    const { scheduler, meter } = setup();
    const source = new Subject<string>();
    const { project, finish } = handInners();
    source
      .pipe(
        tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10, scheduler, meter }),
        bufferFixed(1, project, { meter, scheduler }),
      )
      .subscribe();
    ['a', 'b', 'c'].forEach((v) => source.next(v));
    // The bucket: 3 received, 2 released, 1 waiting; the buffer: 2 received, 1 released, 1 waiting.
    expect(meter.snapshot()).toMatchObject({ received: 5, released: 3, waiting: 2, subscriptions: 2 });
    finish('a');
    scheduler.advanceTo(10);
    finish('b');
    finish('c');
    expect(meter.snapshot()).toMatchObject({ received: 6, released: 6, waiting: 0, completed: 3 });
  });

  it('drops$ tells the drops of every operator on the meter, in the order they happen', () => {
    const { scheduler, meter } = setup();
    const told: [unknown, DropReason][] = [];
    meter.drops$.subscribe(({ value, reason }) => told.push([value, reason]));
    const s1 = new Subject<string>();
    const s2 = new Subject<string>();
    s1.pipe(bufferDropping(0, () => new Subject<never>(), { meter, scheduler })).subscribe();
    s2.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, mode: 'police', scheduler, meter })).subscribe();
    s1.next('a');
    s2.next('x');
    s1.next('b');
    s2.next('y');
    s1.next('c');
    expect(told).toEqual([
      ['b', 'overflow'],
      ['y', 'rejected'],
      ['c', 'overflow'],
    ]);
  });
});

describe('one operator subscribed twice, or re-subscribed', () => {
  it('two subscriptions at once: both counted, each one leaves only its own share', () => {
    const { scheduler, meter } = setup();
    const source = new Subject<string>();
    const { project, finish } = handInners();
    const shared$ = source.pipe(bufferFixed(3, project, { meter, scheduler }));
    const first = shared$.subscribe();
    const second = shared$.subscribe();
    expect(meter.snapshot()).toMatchObject({ subscriptions: 2, capacity: 6, concurrency: 2 });
    ['a', 'b'].forEach((v) => source.next(v));
    expect(meter.snapshot()).toMatchObject({
      received: 4,
      released: 2,
      waiting: 2,
      running: 2,
      maxRunning: 2,
    });
    first.unsubscribe();
    // The first's waiting b is cleared and its running a cancelled; the second's stay.
    expect(meter.snapshot()).toMatchObject({
      subscriptions: 1,
      capacity: 3,
      concurrency: 1,
      waiting: 1,
      running: 1,
      dropped: { cleared: 1 },
    });
    finish('a'); // the second's a (the first's was cancelled)
    finish('b');
    second.unsubscribe();
    expect(meter.snapshot()).toMatchObject({ ...IDLE, received: 4, released: 3, completed: 2 });
  });

  it('retry: the second subscription keeps counting, the failed one left nothing behind', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const meter = new FlowMeter({ name: 'retry' });
      const source = cold('abc|');
      let attempt = 0;
      const project = (v: string): Observable<string> =>
        timer(2).pipe(
          map(() => {
            if (v === 'a' && attempt++ === 0) throw new Error('first a fails');
            return v;
          }),
        );
      // First subscription: a fails at 2 (b, c waiting are cleared). Second: a 2-4, b 4-6, c 6-8.
      expectObservable(source.pipe(bufferFixed(2, project, { meter }), retry(1))).toBe('----a-b-(c|)');
      // Read at odd frames, between the notifications.
      expectObservable(meter.snapshots$(2).pipe(map((s) => s.subscriptions)), '-^ 9ms !').toBe('---a-b-c-d', {
        a: 1,
        b: 1,
        c: 1,
        d: 0,
      });
      flush();
      expect(meter.snapshot()).toMatchObject({
        received: 6,
        released: 4,
        dropped: { cleared: 2 },
        maxWaiting: 2,
        completed: 3,
        failed: 1,
        duration: { count: 4, sum: 8 },
        ...IDLE,
      });
    });
  });

  it('repeat: each subscription in turn, the counts cumulative', () => {
    const { meter } = setup();
    const values: string[] = [];
    const op = pullMap(['a', 'b'], (v) => [v], { meter });
    op.pipe(repeat(3)).subscribe((v) => values.push(v));
    expect(values).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(meter.snapshot()).toMatchObject({
      received: 6,
      released: 6,
      completed: 6,
      maxRunning: 1,
      ...IDLE,
    });
  });
});
