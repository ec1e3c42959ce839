// expected-errors.spec.ts
import { TestScheduler } from 'rxjs/testing';
import { BufferOverflowError, bufferFixed, RateLimitExceededError, tokenBucket } from 'rxjs-backpressure';

let testScheduler: TestScheduler;
beforeEach(() => {
  testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
});

it('errors when c arrives while b waits', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    const source = cold(' -a-b-c-d-|');
    const expected = '    -----#'; // a runs from 1 to 5, b waits, c arrives at 5
    const work = () => cold('----(x|)');
    expectObservable(source.pipe(bufferFixed(1, work))).toBe(
      expected,
      undefined,
      new BufferOverflowError(1, 'c', 'bufferFixed'),
    );
  });
});

it('refuses c: it needs 1 token and none is left', () => {
  testScheduler.run(({ cold, expectObservable }) => {
    const source = cold(' (abc|)');
    const expected = '    (ab#)';
    const police = tokenBucket<string>({
      capacity: 2,
      tokensPerInterval: 1,
      interval: 10,
      mode: 'police',
      overflow: 'error',
    });
    expectObservable(source.pipe(police)).toBe(
      expected,
      undefined,
      new RateLimitExceededError('c', 1, 0, 'tokenBucket', 10), // the next token comes at 10 ms
    );
  });
});
