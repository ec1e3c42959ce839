import { BehaviorSubject, Subject, type SchedulerLike } from 'rxjs';
import {
  ManualTimeScheduler,
  memoryTokenStore,
  tokenBucket,
  type DropDetail,
  type DropReason,
} from '../../src/index';

type Entry = (string | number | undefined | DropDetail)[];

/**
 * A constant `cost` above a `capacity` lowered while the stream runs: no value could ever pass again,
 * so the stream errors at once (as a constant cost above capacity is refused at creation), whether
 * or not a value is waiting, in shape and police mode, in-process and on a store.
 */
describe.each([
  ['in-process', false],
  ['on a shared store', true],
])('tokenBucket, %s: a constant cost above a lowered capacity', (_name, withStore) => {
  describe.each(['shape', 'police'] as const)('%s mode', (mode) => {
    it('errors when the capacity drops below it, though nothing waits; later values are not taken', () => {
      const s = new ManualTimeScheduler();
      const capacity = new BehaviorSubject(5);
      const input = new Subject<string>();
      const log: Entry[] = [];
      input
        .pipe(
          tokenBucket<string>({
            capacity,
            tokensPerInterval: 1,
            interval: 10,
            cost: 3,
            mode,
            scheduler: s,
            ...(withStore ? { store: memoryTokenStore({ scheduler: s }) } : {}),
            onDrop: (value, reason) => log.push(['drop', s.now(), value, reason]),
          }),
        )
        .subscribe({
          next: (value) => log.push(['next', s.now(), value]),
          error: (err: unknown) => log.push(['error', s.now(), (err as Error).message]),
          complete: () => log.push(['complete', s.now()]),
        });
      input.next('a');
      s.advanceBy(5);
      capacity.next(2);
      input.next('b');
      s.advanceBy(100);
      expect(log).toEqual([
        ['next', 0, 'a'],
        ['error', 5, 'tokenBucket: `cost` 3 exceeds `capacity` 2: no value could ever pass'],
      ]);
      expect(input.observed).toBe(false);
    });
  });
});

describe('tokenBucket police mode: a refusal when the clock went backwards', () => {
  it('gives no DropDetail (no NaN Retry-After), and the stream fails with the clock error', () => {
    let time = 100_000;
    const clock: SchedulerLike = {
      now: () => time,
      schedule: () => {
        throw new Error('nothing is scheduled in police mode');
      },
    };
    const input = new Subject<string>();
    const drops: [string, DropReason, DropDetail | undefined][] = [];
    let failure: unknown;
    input
      .pipe(
        tokenBucket<string>({
          capacity: 1,
          tokensPerInterval: 1,
          interval: 1000,
          mode: 'police',
          scheduler: clock,
          onDrop: (value, reason, detail) => drops.push([value, reason, detail]),
        }),
      )
      .subscribe({ error: (err: unknown) => (failure = err) });
    input.next('a');
    time = 50;
    input.next('b');
    expect(drops).toEqual([['b', 'rejected', undefined]]);
    expect(String(failure)).toMatch(/clock/);
  });
});
