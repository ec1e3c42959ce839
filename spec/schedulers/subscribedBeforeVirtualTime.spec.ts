import { Subject, type Observable, type Subscription } from 'rxjs';
import { leakyBucket, tokenBucket } from '../../src/index';
import { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';
import { resetVirtualTime, withVirtualTime } from '../../src/schedulers/withVirtualTime';
import { recordDrops } from '../../src/testing/index';

/** The real clock's reading when the subscriptions below are made (Date.now is pinned for that). */
const SUBSCRIBED_AT = 1_750_000_000_000;

/** What a subscription saw. */
interface Seen {
  values: string[];
  errors: Error[];
  completed: boolean;
  subscription: Subscription;
}

function watch(output: Observable<string>): Seen {
  const seen = { values: [], errors: [], completed: false } as unknown as Seen;
  seen.subscription = output.subscribe({
    next: (v) => seen.values.push(v),
    error: (e: Error) => seen.errors.push(e),
    complete: () => (seen.completed = true),
  });
  return seen;
}

/** Runs `fn` with the real clock (`Date.now`) reading SUBSCRIBED_AT. */
function atRealTime<R>(fn: () => R): R {
  const spy = jest.spyOn(Date, 'now').mockReturnValue(SUBSCRIBED_AT);
  try {
    return fn();
  } finally {
    spy.mockRestore();
  }
}

const expectedMessage = (operator: string, to = 0) =>
  `${operator}: the scheduler's clock went backwards, from ${SUBSCRIBED_AT} to ${to} (ms). ` +
  'Most likely this subscription was subscribed before withVirtualTime was entered: it read the real ' +
  'clock when it subscribed and reads the virtual clock now, so it would wait forever. Subscribe (or ' +
  `inject the service) inside withVirtualTime, or pass a scheduler to ${operator}. (A wall clock ` +
  'stepped back by more than 1000 ms does this too.)';

describe('a bucket subscribed before withVirtualTime was entered', () => {
  afterEach(() => resetVirtualTime());

  it('tokenBucket errors at its first value with a message saying why; the value is reported cleared', () => {
    const input = new Subject<string>();
    const drops = recordDrops<string>();
    // Default scheduler: asyncScheduler, still on the real clock here.
    const seen = atRealTime(() =>
      watch(input.pipe(tokenBucket({ capacity: 5, tokensPerInterval: 1, onDrop: drops.onDrop }))),
    );

    withVirtualTime((scheduler) => {
      input.next('a'); // a full bucket would let it through at once: instead it says what is wrong
      expect(seen.values).toEqual([]);
      expect(seen.errors).toEqual([new Error(expectedMessage('tokenBucket'))]);
      expect(drops.drops).toEqual([{ value: 'a', reason: 'cleared' }]);
      expect(input.observed).toBe(false); // the source was unsubscribed
      expect(scheduler.pendingCount).toBe(0); // no timer left, decades away on the virtual clock
    });
  });

  it('leakyBucket does the same, naming itself and the virtual time it read', () => {
    const input = new Subject<string>();
    const drops = recordDrops<string>();
    const seen = atRealTime(() => watch(input.pipe(leakyBucket({ interval: 100, onDrop: drops.onDrop }))));

    withVirtualTime(
      (scheduler) => {
        scheduler.advanceBy(5);
        input.next('a');
        input.next('b'); // after the error: the source is no longer listened to
        expect(seen.errors).toEqual([new Error(expectedMessage('leakyBucket', 1005))]);
        expect(drops.drops).toEqual([{ value: 'a', reason: 'cleared' }]);
      },
      { startTime: 1000 },
    );
  });

  it('an Angular-style service built in beforeEach: its error says to inject it inside withVirtualTime', () => {
    // What TestBed.inject(Service) in beforeEach does: the constructor subscribes, on the real clock.
    class Notifier {
      readonly sent: string[] = [];
      readonly failures: string[] = [];
      private readonly outbox = new Subject<string>();
      constructor() {
        this.outbox.pipe(tokenBucket({ capacity: 5, tokensPerInterval: 1, interval: 1000 })).subscribe({
          next: (m) => this.sent.push(m),
          error: (e: Error) => this.failures.push(e.message),
        });
      }
      notify(m: string): void {
        this.outbox.next(m);
      }
    }
    const service = atRealTime(() => new Notifier()); // beforeEach

    withVirtualTime(() => {
      service.notify('disk full');
    });
    expect(service.sent).toEqual([]);
    expect(service.failures).toEqual([
      expect.stringContaining('subscribed before withVirtualTime was entered'),
    ]);
    expect(service.failures[0]).toContain('Subscribe (or inject the service) inside withVirtualTime');

    // Built inside, the same service works.
    withVirtualTime(() => {
      const inside = new Notifier();
      inside.notify('disk full');
      expect(inside.sent).toEqual(['disk full']);
      expect(inside.failures).toEqual([]);
    });
  });

  it('reports every waiting value cleared, and fails even when the queue is full', () => {
    const input = new Subject<string>();
    const drops = recordDrops<string>();
    const seen = atRealTime(() => {
      const s = watch(
        input.pipe(
          tokenBucket({
            capacity: 1,
            tokensPerInterval: 1,
            queueCapacity: 2,
            onDrop: drops.onDrop,
          }),
        ),
      );
      input.next('a'); // passes
      input.next('b'); // waits, with a real timer
      input.next('c'); // waits
      return s;
    });
    expect(seen.values).toEqual(['a']);

    withVirtualTime(() => {
      input.next('d'); // the queue is full: d goes, and the clock is read for the head
      expect(seen.errors).toEqual([new Error(expectedMessage('tokenBucket'))]);
      expect(drops.drops).toEqual([
        { value: 'd', reason: 'overflow' },
        { value: 'b', reason: 'cleared' },
        { value: 'c', reason: 'cleared' },
      ]);
    });
    // Erroring tore the real timer down with the subscription.
    expect(seen.subscription.closed).toBe(true);
  });

  it("with overflow 'error', errors with the clock's error rather than an overflow error", () => {
    const shaped = new Subject<string>();
    const policed = new Subject<string>();
    const drops = recordDrops<string>();
    const [shapedSeen, policedSeen] = atRealTime(() => {
      const a = watch(
        shaped.pipe(
          tokenBucket({
            capacity: 1,
            tokensPerInterval: 1,
            queueCapacity: 0,
            overflow: 'error',
            onDrop: drops.onDrop,
          }),
        ),
      );
      const b = watch(
        policed.pipe(
          tokenBucket({
            capacity: 1,
            tokensPerInterval: 1,
            mode: 'police',
            overflow: 'error',
            onDrop: drops.onDrop,
          }),
        ),
      );
      shaped.next('s1');
      policed.next('p1');
      return [a, b];
    });

    withVirtualTime(() => {
      shaped.next('s2');
      policed.next('p2');
    });
    expect(shapedSeen.values).toEqual(['s1']);
    expect(policedSeen.values).toEqual(['p1']);
    expect(shapedSeen.errors).toEqual([new Error(expectedMessage('tokenBucket'))]);
    expect(policedSeen.errors).toEqual([new Error(expectedMessage('tokenBucket'))]);
    // Each refused value is reported once, with the reason its strategy gives.
    expect(drops.drops).toEqual([
      { value: 's2', reason: 'overflow' },
      { value: 'p2', reason: 'rejected' },
    ]);
  });

  it('in police mode, refuses the value (reported rejected) and errors', () => {
    const input = new Subject<string>();
    const drops = recordDrops<string>();
    const seen = atRealTime(() =>
      watch(
        input.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, mode: 'police', onDrop: drops.onDrop })),
      ),
    );
    withVirtualTime(() => {
      input.next('a');
    });
    expect(seen.values).toEqual([]);
    expect(seen.errors).toEqual([new Error(expectedMessage('tokenBucket'))]);
    expect(drops.drops).toEqual([{ value: 'a', reason: 'rejected' }]);
  });

  it('errors when a real timer set before withVirtualTime fires inside it', async () => {
    const input = new Subject<string>();
    const drops = recordDrops<string>();
    const seen = watch(
      input.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 10, onDrop: drops.onDrop })),
    );
    input.next('a'); // passes on the real clock
    input.next('b'); // waits: a real timer, due in 10 ms
    expect(seen.values).toEqual(['a']);

    await withVirtualTime(async (scheduler) => {
      // Real time passes (setTimeout is not virtual); the bucket's real timer fires in here.
      await new Promise<void>((resolve) => setTimeout(resolve, 40));
      expect(scheduler.pendingCount).toBe(0);
    });
    expect(seen.values).toEqual(['a']);
    expect(seen.errors).toHaveLength(1);
    expect(seen.errors[0]!.message).toMatch(
      /^tokenBucket: the scheduler's clock went backwards, from \d+ to 0 \(ms\)/,
    );
    expect(drops.drops).toEqual([{ value: 'b', reason: 'cleared' }]);
  });

  it('has no false alarm for a bucket subscribed inside, across many values and timers', () => {
    withVirtualTime((scheduler) => {
      const input = new Subject<string>();
      const seen = watch(input.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10 })));
      for (let i = 0; i < 10; i++) input.next(`v${i}`);
      scheduler.advanceBy(80);
      input.complete();
      expect(seen.values).toHaveLength(10);
      expect(seen.errors).toEqual([]);
      expect(seen.completed).toBe(true);
    });
  });
});

describe('a clock that steps back', () => {
  /** A scheduler whose now() is set by the test, with timers run by a ManualTimeScheduler. */
  function steppedClock() {
    const timers = new ManualTimeScheduler();
    const clock = {
      offset: 0,
      now: () => timers.now() + clock.offset,
      schedule: timers.schedule.bind(timers),
    };
    return { timers, clock };
  }

  it('rides out a step back of up to 1000 ms, as a wall clock corrected by NTP does', () => {
    const { timers, clock } = steppedClock();
    const input = new Subject<string>();
    const seen = watch(
      input.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 10, scheduler: clock })),
    );
    input.next('a');
    clock.offset = -1000;
    input.next('b'); // waits a little longer than it would have, and passes
    timers.advanceBy(1010);
    expect(seen.values).toEqual(['a', 'b']);
    expect(seen.errors).toEqual([]);
  });

  it('errors on a step back of more than 1000 ms, naming the two times', () => {
    const { timers, clock } = steppedClock();
    const input = new Subject<string>();
    const drops = recordDrops<string>();
    const seen = watch(input.pipe(leakyBucket({ interval: 10, scheduler: clock, onDrop: drops.onDrop })));
    timers.advanceBy(5000);
    input.next('a');
    clock.offset = -1001;
    input.next('b');
    expect(seen.values).toEqual(['a']);
    expect(seen.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^leakyBucket: the scheduler's clock went backwards, from 5000 to 3999 \(ms\)\. /,
      ),
    ]);
    expect(drops.drops).toEqual([{ value: 'b', reason: 'cleared' }]);
    expect(timers.pendingCount).toBe(0);
  });
});
