// marbles.spec.ts
import { TestScheduler } from 'rxjs/testing';
import { tokenBucket } from 'rxjs-backpressure';
import { recordDrops } from 'rxjs-backpressure/testing';

// A new TestScheduler per test: its clock does not go back to 0 between run() calls.
let testScheduler: TestScheduler;
beforeEach(() => {
  testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

it('shapes a burst: capacity 2, 1 token per 10 ms', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    const source = cold(' (abcd|)');
    const expected = '    (ab) 6ms c 9ms (d|)'; // a, b at 0; c at 10; d at 20
    expectObservable(source.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10 }))).toBe(
      expected,
    );
  });
});

it('polices a burst: c and d are rejected', () => {
  testScheduler.run(({ cold, expectObservable, flush }) => {
    const drops = recordDrops<string>({ clock: testScheduler });
    const source = cold(' (abcd|)');
    const expected = '    (ab|)';
    expectObservable(
      source.pipe(
        tokenBucket({
          capacity: 2,
          tokensPerInterval: 1,
          interval: 10,
          mode: 'police',
          onDrop: drops.onDrop,
        }),
      ),
    ).toBe(expected);
    flush();
    expect(drops.drops).toEqual([
      { value: 'c', reason: 'rejected', time: 0 },
      { value: 'd', reason: 'rejected', time: 0 },
    ]);
  });
});
