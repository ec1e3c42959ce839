// asserting-drops.spec.ts
import { Subject } from 'rxjs';
import { tokenBucket } from 'rxjs-backpressure';
import { recordDrops, withVirtualTime } from 'rxjs-backpressure/testing';

it('rejects what exceeds the limit, and accepts a new burst after 20 ms idle', () => {
  withVirtualTime((scheduler) => {
    const drops = recordDrops<string>({ clock: scheduler });
    const input = new Subject<string>();
    input
      .pipe(
        tokenBucket({
          capacity: 2,
          tokensPerInterval: 1,
          interval: 10,
          mode: 'police',
          onDrop: drops.onDrop,
        }),
      )
      .subscribe();

    ['a', 'b', 'c', 'd'].forEach((v) => input.next(v));
    expect(drops.valuesFor('rejected')).toEqual(['c', 'd']);

    drops.reset();
    scheduler.advanceBy(20);
    ['e', 'f', 'g'].forEach((v) => input.next(v));
    expect(drops.drops).toEqual([{ value: 'g', reason: 'rejected', time: 20 }]);
  });
});
