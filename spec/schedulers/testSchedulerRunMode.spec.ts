import { TestScheduler } from 'rxjs/testing';
import { tokenBucket, type TokenBucketOptions } from '../../src/index';

/**
 * RxJS 7.8's run mode emulates asyncScheduler's timers; when two fall due in the same frame and the
 * one that runs first cancels the other, the emulation throws after the run. The docs (testing.md,
 * "Marble tests") tell users to pass the run's scheduler then. The first test pins the RxJS
 * behaviour: when it stops throwing, the note in the docs can go.
 */
describe("TestScheduler.run and two of the operator's timers due in one frame", () => {
  // At 15 the bucket releases h, which empties the queue and cancels the ttl timer due at 15.
  const marbles = '           abc(de)-fgh|';
  const expected = '          ab-c--d--e--f--(h|)';
  const options: TokenBucketOptions<string> = {
    capacity: 2,
    tokensPerInterval: 1,
    interval: 3,
    queueCapacity: 2,
    ttl: 7,
  };

  it("on the default asyncScheduler: RxJS's emulated timers throw after the run", () => {
    const ts = new TestScheduler((actual, wanted) => expect(actual).toEqual(wanted));
    expect(() => {
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold(marbles).pipe(tokenBucket(options))).toBe(expected);
      });
    }).toThrow('Expected a due immediate or interval');
  });

  it("with the run's scheduler passed: the same frames, no error, g overflows the queue", () => {
    const ts = new TestScheduler((actual, wanted) => expect(actual).toEqual(wanted));
    const drops: [string, string, number][] = [];
    ts.run(({ cold, expectObservable }) => {
      const source = cold(marbles);
      const limited = source.pipe(
        tokenBucket({
          ...options,
          scheduler: ts,
          onDrop: (value, reason) => drops.push([value, reason, ts.now()]),
        }),
      );
      expectObservable(limited).toBe(expected);
    });
    expect(drops).toEqual([['g', 'overflow', 9]]);
  });
});
