import { of, Subject, type Subscription } from 'rxjs';
import {
  bufferDropping,
  bufferFixed,
  bufferSliding,
  FlowMeter,
  ManualTimeScheduler,
  pullFeedback,
  type DropReason,
} from 'rxjs-backpressure';

/*
 * Issue 9 with user code that feeds values back synchronously (from project, onDrop or a
 * subscriber): between notifications the figures still add up (rule 1), and nothing that never
 * waited counts as waiting.
 */

function setup(): { scheduler: ManualTimeScheduler; meter: FlowMeter } {
  const scheduler = new ManualTimeScheduler();
  return { scheduler, meter: new FlowMeter({ name: 'reentrant', scheduler }) };
}

describe('values fed back synchronously', () => {
  it('from project, into a buffer that lets nothing wait (capacity 0): maxWaiting stays 0', () => {
    const { scheduler, meter } = setup();
    const source = new Subject<number>();
    const out: number[] = [];
    source
      .pipe(
        bufferDropping(
          0,
          (v) => {
            if (v < 3) source.next(v + 1);
            return of(v);
          },
          { concurrency: 2, meter, scheduler },
        ),
      )
      .subscribe((v) => out.push(v));
    source.next(0);
    expect(out).toEqual([0, 1, 2, 3]);
    // Every value was released at once (wait 0) and none was dropped: none waited, and with
    // capacity 0 none could have.
    expect(meter.snapshot()).toMatchObject({
      received: 4,
      released: 4,
      droppedTotal: 0,
      waiting: 0,
      capacity: 0,
      wait: { count: 4, max: 0 },
    });
    expect(meter.snapshot().maxWaiting).toBe(0);
  });

  it('from onDrop, into a sliding buffer: the figures add up after each notification', () => {
    const { scheduler, meter } = setup();
    const source = new Subject<number>();
    const inner = new Subject<number>();
    const drops: [number, DropReason][] = [];
    source
      .pipe(
        bufferSliding(2, () => inner, {
          meter,
          scheduler,
          onDrop: (v, reason) => {
            drops.push([v, reason]);
            if (v < 20) source.next(v + 100);
          },
        }),
      )
      .subscribe();
    for (let v = 0; v < 6; v++) {
      source.next(v);
      const s = meter.snapshot();
      expect(s.received).toBe(s.released + s.droppedTotal + s.waiting);
      expect(s.droppedTotal).toBe(drops.length);
      expect(s.waiting).toBeLessThanOrEqual(2);
    }
    expect(meter.snapshot().maxWaiting).toBe(2);
  });

  it('demand granted from the subscriber of pullFeedback: counts add up, nothing left waiting', () => {
    const { scheduler, meter } = setup();
    const source = new Subject<number>();
    const demand = new Subject<number>();
    const out: number[] = [];
    source.pipe(pullFeedback(demand, { initialDemand: 1, meter, scheduler })).subscribe((v) => {
      out.push(v);
      demand.next(1);
    });
    for (let v = 0; v < 5; v++) source.next(v);
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(meter.snapshot()).toMatchObject({ received: 5, released: 5, waiting: 0, maxWaiting: 0 });
  });

  it('a release that tears its own subscription down is still counted, and its wait', () => {
    // The probe counts per value on itself and hands its counts to the meter on teardown: what it
    // counts after that (the release returning, the run ending) must not be lost.
    const { scheduler, meter } = setup();
    const source = new Subject<number>();
    const subscription: Subscription = source
      .pipe(
        bufferFixed(
          Infinity,
          (v) => {
            if (v === 1) subscription.unsubscribe();
            return of(v);
          },
          { meter, scheduler },
        ),
      )
      .subscribe();
    source.next(0);
    source.next(1);
    // The second run starts after the teardown and is never subscribed: it is not running, and has
    // no duration; the gauges of an ended subscription stay at 0.
    expect(meter.snapshot()).toMatchObject({
      received: 2,
      released: 2,
      waiting: 0,
      running: 0,
      completed: 1,
      subscriptions: 0,
      wait: { count: 2, max: 0 },
      duration: { count: 1 },
    });
    // A later snapshot reads the same counts (nothing is added twice).
    expect(meter.snapshot()).toMatchObject({ received: 2, released: 2, wait: { count: 2 } });
  });

  it('snapshots taken inside project, from two subscriptions sharing a meter, read every count so far', () => {
    const { scheduler, meter } = setup();
    const a = new Subject<number>();
    const b = new Subject<number>();
    const seen: [number, number, number, number][] = [];
    const project = (v: number) => {
      const s = meter.snapshot();
      seen.push([s.received, s.released, s.completed, s.wait.count]);
      return of(v);
    };
    a.pipe(bufferFixed(Infinity, project, { meter, scheduler })).subscribe();
    b.pipe(bufferFixed(Infinity, project, { meter, scheduler })).subscribe();
    a.next(1);
    b.next(2);
    a.next(3);
    // Inside project: this value received, not yet released; the earlier ones released and done.
    expect(seen).toEqual([
      [1, 0, 0, 0],
      [2, 1, 1, 1],
      [3, 2, 2, 2],
    ]);
    expect(meter.snapshot()).toMatchObject({ received: 3, released: 3, completed: 3, subscriptions: 2 });
  });
});
