import { Readable } from 'node:stream';
import { defer, EMPTY, map, NEVER, of, Subject, take, toArray, lastValueFrom } from 'rxjs';
import { pullFrom } from 'rxjs-backpressure';
import { errorShape, testScheduler, thrownBy } from '../helpers/marbles';

/** Marble values for `demand$`: the digit is the grant; `i` is `Infinity`. */
const grants = { 0: 0, 1: 1, 2: 2, 3: 3, i: Infinity };

/** Lets promise callbacks and stream events that are already due run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits until `condition` holds, giving the event loop up to `turns` turns. */
async function until(condition: () => boolean, turns = 50): Promise<void> {
  for (let i = 0; i < turns && !condition(); i++) await settle();
  expect(condition()).toBe(true);
}

interface Calls {
  next: number;
  return: number;
}

/** A synchronous iterable over `values` that counts the calls made to its iterator. */
function countingIterable<T>(values: readonly T[]): { iterable: Iterable<T>; calls: Calls } {
  const calls: Calls = { next: 0, return: 0 };
  const iterable: Iterable<T> = {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next: (): IteratorResult<T> => {
          calls.next++;
          return i < values.length ? { value: values[i++]!, done: false } : { value: undefined, done: true };
        },
        return: (): IteratorResult<T> => {
          calls.return++;
          return { value: undefined, done: true };
        },
      };
    },
  };
  return { iterable, calls };
}

interface ManualCalls extends Calls {
  pending: number;
  maxPending: number;
}

/**
 * An async iterable whose `next()` promises the test settles by hand (`answer`), so that how many
 * calls are pending at once can be observed.
 */
function manualAsyncIterable<T>() {
  const calls: ManualCalls = { next: 0, return: 0, pending: 0, maxPending: 0 };
  const waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  const iterable: AsyncIterable<T> = {
    [Symbol.asyncIterator]() {
      return {
        next: () =>
          new Promise<IteratorResult<T>>((resolve, reject) => {
            calls.next++;
            calls.pending++;
            calls.maxPending = Math.max(calls.maxPending, calls.pending);
            waiting.push({ resolve, reject });
          }),
        return: () => {
          calls.return++;
          return Promise.resolve({ value: undefined, done: true as const });
        },
      };
    },
  };
  /** Settles the oldest pending `next()`. */
  const answer = (result: { value: T } | { done: true } | { error: unknown }): void => {
    const request = waiting.splice(0, 1)[0];
    if (!request) throw new Error('no next() is pending');
    calls.pending--;
    if ('error' in result) request.reject(result.error);
    else if ('done' in result) request.resolve({ value: undefined, done: true });
    else request.resolve({ value: result.value, done: false });
  };
  return { iterable, calls, answer };
}

describe('pullFrom', () => {
  describe('its JSDoc diagram', () => {
    it('pulls one value per unit of demand, and finds the end with the next unit', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const input = ['a', 'b', 'c', 'd'];
        const demand = hot(' --1---2-----2--', grants);
        const expected = '   --a---(bc)--(d|)';
        expectObservable(pullFrom(input, demand)).toBe(expected);
        expectSubscriptions(demand.subscriptions).toBe('^-----------!');
      });
    });

    it('does not complete after the last value until demand asks for one more', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const demand = hot(' --1---2-----1---1', grants);
        const expected = '   --a---(bc)--d---|';
        expectObservable(pullFrom(['a', 'b', 'c', 'd'], demand)).toBe(expected);
      });
    });
  });

  describe('synchronous iterables', () => {
    it('calls next() once per unit of demand, never ahead of it', () => {
      const { iterable, calls } = countingIterable(['a', 'b', 'c', 'd', 'e']);
      const demand = new Subject<number>();
      const out: string[] = [];
      pullFrom(iterable, demand).subscribe((v) => out.push(v));
      expect(calls.next).toBe(0);
      demand.next(2);
      expect(calls.next).toBe(2);
      expect(out).toEqual(['a', 'b']);
      demand.next(0);
      expect(calls.next).toBe(2);
      demand.next(1);
      expect(calls.next).toBe(3);
      expect(out).toEqual(['a', 'b', 'c']);
    });

    it('holds back a grant larger than what is left, and completes when next() says done', () => {
      const { iterable, calls } = countingIterable(['a', 'b']);
      const out: string[] = [];
      let completed = false;
      pullFrom(iterable, of(5)).subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
      expect(out).toEqual(['a', 'b']);
      expect(completed).toBe(true);
      expect(calls).toEqual({ next: 3, return: 0 });
    });

    it('pulls from a generator only as far as demand goes', () => {
      const produced: string[] = [];
      function* letters(): Generator<string> {
        for (const v of ['a', 'b', 'c', 'd']) {
          produced.push(v);
          yield v;
        }
      }
      testScheduler().run(({ hot, expectObservable }) => {
        const demand = hot(' -1--2----', grants);
        expectObservable(pullFrom(letters(), demand)).toBe('-a--(bc)-');
      });
      expect(produced).toEqual(['a', 'b', 'c']);
    });

    it('never pulls without demand, and stays subscribed', () => {
      const { iterable, calls } = countingIterable(['a']);
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const demand = cold('-', grants);
        expectObservable(pullFrom(iterable, demand)).toBe('-');
        expectSubscriptions(demand.subscriptions).toBe('^');
      });
      expect(calls.next).toBe(0);
    });

    it('completes an empty input on the first unit of demand', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const demand = hot(' ---1--', grants);
        expectObservable(pullFrom([], demand)).toBe('---|');
        expectSubscriptions(demand.subscriptions).toBe('^--!');
      });
    });

    it('pulls everything with Infinity, including what Infinity adds to', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const demand = hot(' -1-i-1', grants);
        expectObservable(pullFrom(['a', 'b', 'c'], demand)).toBe('-a-(bc|)');
      });
    });

    it('applies initialDemand at subscription', () => {
      const { iterable, calls } = countingIterable(['a', 'b', 'c', 'd']);
      testScheduler().run(({ hot, expectObservable }) => {
        const demand = hot(' ----1-', grants);
        expectObservable(pullFrom(iterable, demand, { initialDemand: 2 })).toBe('(ab)c-');
      });
      expect(calls.next).toBe(3);
    });

    it('subscribes demand$ before pulling, so synchronous demand counts, and adds initialDemand to it', () => {
      const log: string[] = [];
      const input: Iterable<string> = {
        [Symbol.iterator]() {
          const it = ['a', 'b', 'c', 'd'][Symbol.iterator]();
          return {
            next: () => {
              const r = it.next();
              log.push(`next ${r.done ? 'done' : r.value}`);
              return r;
            },
          };
        },
      };
      const demand$ = defer(() => {
        log.push('subscribe demand$');
        return of(1, 1);
      });
      const out: string[] = [];
      pullFrom(input, demand$, { initialDemand: 1 }).subscribe((v) => out.push(v));
      expect(out).toEqual(['a', 'b', 'c']);
      expect(log).toEqual(['subscribe demand$', 'next a', 'next b', 'next c']);
    });

    it('stops an infinite generator when take(3) has what it wants, calling return() so finally runs', () => {
      let pulled = 0;
      let finalized = 0;
      function* naturals(): Generator<number> {
        try {
          for (let i = 0; ; i++) {
            pulled++;
            yield i;
          }
        } finally {
          finalized++;
        }
      }
      const out: number[] = [];
      let completed = false;
      pullFrom(naturals(), NEVER, { initialDemand: Infinity })
        .pipe(take(3))
        .subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
      expect(out).toEqual([0, 1, 2]);
      expect(completed).toBe(true);
      expect(pulled).toBe(3);
      expect(finalized).toBe(1);
    });

    it('errors when the iterator throws, without calling return()', () => {
      const boom = new Error('iterator failed');
      const calls = { return: 0 };
      const input: Iterable<string> = {
        [Symbol.iterator]() {
          let i = 0;
          return {
            next: (): IteratorResult<string> => {
              if (i === 2) throw boom;
              return { value: 'ab'[i++]!, done: false };
            },
            return: (): IteratorResult<string> => {
              calls.return++;
              return { value: undefined, done: true };
            },
          };
        },
      };
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const demand = hot(' -1-1-1-', grants);
        expectObservable(pullFrom(input, demand)).toBe('-a-b-#', undefined, boom);
        expectSubscriptions(demand.subscriptions).toBe('^----!');
      });
      expect(calls.return).toBe(0);
    });

    it('errors when [Symbol.iterator]() throws at subscription', () => {
      const boom = new Error('cannot open');
      const input = {
        [Symbol.iterator](): Iterator<number> {
          throw boom;
        },
      };
      let error: unknown;
      pullFrom(input, NEVER).subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toBe(boom);
    });

    it('does not call return() after the iterator is done', () => {
      const { iterable, calls } = countingIterable(['a']);
      const subscription = pullFrom(iterable, of(2)).subscribe();
      subscription.unsubscribe();
      expect(calls).toEqual({ next: 2, return: 0 });
    });

    it('calls return() exactly once on unsubscribe', () => {
      const { iterable, calls } = countingIterable(['a', 'b', 'c']);
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const demand = hot(' -1---1-', grants);
        const unsub = '      ---!';
        expectObservable(pullFrom(iterable, demand), unsub).toBe('-a--');
        expectSubscriptions(demand.subscriptions).toBe('^--!');
      });
      expect(calls).toEqual({ next: 1, return: 1 });
    });

    it('calls return() once when the consumer unsubscribes from inside next', () => {
      const { iterable, calls } = countingIterable(['a', 'b', 'c']);
      const demand = new Subject<number>();
      const out: string[] = [];
      const subscription = pullFrom(iterable, demand).subscribe((v) => {
        out.push(v);
        if (v === 'b') subscription.unsubscribe();
      });
      demand.next(Infinity);
      subscription.unsubscribe();
      expect(out).toEqual(['a', 'b']);
      expect(calls).toEqual({ next: 2, return: 1 });
    });

    it('calls return() when something downstream errors', () => {
      const boom = new Error('downstream failed');
      const { iterable, calls } = countingIterable([1, 2, 3]);
      let error: unknown;
      pullFrom(iterable, of(Infinity))
        .pipe(
          map((v) => {
            if (v === 2) throw boom;
            return v;
          }),
        )
        .subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toBe(boom);
      expect(calls).toEqual({ next: 2, return: 1 });
    });

    it('runs a synchronous feedback loop of 100,000 values without growing the stack', () => {
      const N = 100_000;
      function* numbers(): Generator<number> {
        for (let i = 0; i < N; i++) yield i;
      }
      const demand = new Subject<number>();
      let count = 0;
      let inOrder = true;
      let completed = false;
      pullFrom(numbers(), demand).subscribe({
        next: (v) => {
          if (v !== count) inOrder = false;
          count++;
          demand.next(1);
        },
        complete: () => (completed = true),
      });
      demand.next(1);
      expect(count).toBe(N);
      expect(inOrder).toBe(true);
      expect(completed).toBe(true);
    });
  });

  describe('async iterables', () => {
    it('calls next() only against demand, with never more than one pending', async () => {
      const { iterable, calls, answer } = manualAsyncIterable<string>();
      const demand = new Subject<number>();
      const out: string[] = [];
      pullFrom(iterable, demand).subscribe((v) => out.push(v));
      await settle();
      expect(calls.next).toBe(0);

      demand.next(3);
      expect(calls.next).toBe(1);
      demand.next(2);
      expect(calls.next).toBe(1);
      answer({ value: 'a' });
      await settle();
      expect(out).toEqual(['a']);
      expect(calls.next).toBe(2);
      for (const v of ['b', 'c', 'd', 'e']) {
        answer({ value: v });
        await settle();
      }
      expect(out).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(calls.next).toBe(5); // demand is used up: no sixth call
      expect(calls.pending).toBe(0);
      expect(calls.maxPending).toBe(1);
    });

    it('does not read ahead of an async generator', async () => {
      const produced: number[] = [];
      async function* numbers(): AsyncGenerator<number> {
        for (let i = 0; i < 10; i++) {
          produced.push(i);
          await Promise.resolve();
          yield i;
        }
      }
      const demand = new Subject<number>();
      const out: number[] = [];
      pullFrom(numbers(), demand).subscribe((v) => out.push(v));
      demand.next(2);
      await until(() => out.length === 2);
      await settle();
      expect(produced).toEqual([0, 1]);
      demand.next(3);
      await until(() => out.length === 5);
      await settle();
      expect(out).toEqual([0, 1, 2, 3, 4]);
      expect(produced).toEqual([0, 1, 2, 3, 4]);
    });

    it('completes when the async iterator is done, without calling return()', async () => {
      const { iterable, calls, answer } = manualAsyncIterable<string>();
      const out: string[] = [];
      let completed = false;
      const subscription = pullFrom(iterable, of(Infinity)).subscribe({
        next: (v) => out.push(v),
        complete: () => (completed = true),
      });
      answer({ value: 'a' });
      await settle();
      answer({ done: true });
      await settle();
      expect(out).toEqual(['a']);
      expect(completed).toBe(true);
      subscription.unsubscribe();
      expect(calls).toMatchObject({ next: 2, return: 0 });
    });

    it('errors when next() rejects, without calling return()', async () => {
      const boom = new Error('read failed');
      const { iterable, calls, answer } = manualAsyncIterable<string>();
      let error: unknown;
      const subscription = pullFrom(iterable, of(2)).subscribe({ error: (err: unknown) => (error = err) });
      answer({ value: 'a' });
      await settle();
      answer({ error: boom });
      await settle();
      expect(error).toBe(boom);
      subscription.unsubscribe();
      expect(calls).toMatchObject({ next: 2, return: 0 });
    });

    it('errors when next() throws synchronously, without calling return()', () => {
      const boom = new Error('read failed');
      let returned = 0;
      const input: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            throw boom;
          },
          return: () => {
            returned++;
            return Promise.resolve({ value: undefined, done: true as const });
          },
        }),
      };
      let error: unknown;
      pullFrom(input, of(1)).subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toBe(boom);
      expect(returned).toBe(0);
    });

    it('calls return() exactly once on unsubscribe while a next() is pending, and drops its late value', async () => {
      const { iterable, calls, answer } = manualAsyncIterable<string>();
      const out: string[] = [];
      const subscription = pullFrom(iterable, of(2)).subscribe((v) => out.push(v));
      answer({ value: 'a' });
      await settle();
      expect(calls.pending).toBe(1);
      subscription.unsubscribe();
      subscription.unsubscribe();
      expect(calls.return).toBe(1);
      answer({ value: 'b' });
      await settle();
      expect(out).toEqual(['a']);
      expect(calls).toMatchObject({ next: 2, return: 1 });
    });

    it("runs an async generator's finally on unsubscribe, also when unsubscribed mid-next()", async () => {
      let finalized = 0;
      let release: () => void = () => undefined;
      async function* slow(): AsyncGenerator<number> {
        try {
          for (let i = 0; ; i++) {
            if (i === 1) await new Promise<void>((resolve) => (release = resolve));
            yield i;
          }
        } finally {
          finalized++;
        }
      }
      const out: number[] = [];
      const subscription = pullFrom(slow(), of(Infinity)).subscribe((v) => out.push(v));
      await settle();
      expect(out).toEqual([0]); // the second next() is pending
      subscription.unsubscribe();
      release();
      await until(() => finalized === 1);
      expect(out).toEqual([0]);
    });

    it('calls return() when demand$ errors or sends bad demand', async () => {
      const first = manualAsyncIterable<string>();
      const demand = new Subject<number>();
      let error: unknown;
      pullFrom(first.iterable, demand).subscribe({ error: (err: unknown) => (error = err) });
      demand.next(1);
      demand.error(new Error('no more demand'));
      expect((error as Error).message).toBe('no more demand');
      expect(first.calls.return).toBe(1);

      const second = manualAsyncIterable<string>();
      pullFrom(second.iterable, of(1, -1)).subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toEqual(
        new RangeError('pullFrom: demand must be a non-negative integer or Infinity, got -1 (number)'),
      );
      expect(second.calls.return).toBe(1);
      await settle();
    });

    it('runs an asynchronous feedback loop: a grant from inside next pulls the next value', async () => {
      async function* numbers(): AsyncGenerator<number> {
        for (let i = 0; i < 100; i++) yield i;
      }
      const demand = new Subject<number>();
      const out: number[] = [];
      const done = new Promise<void>((resolve) => {
        pullFrom(numbers(), demand, { initialDemand: 1 }).subscribe({
          next: (v) => {
            out.push(v);
            demand.next(1);
          },
          complete: resolve,
        });
      });
      await done;
      expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
    });
  });

  describe('Node.js Readable streams', () => {
    it('pulls from Readable.from() on demand, in order', async () => {
      const readable = Readable.from(['a', 'b', 'c', 'd', 'e'], { objectMode: true });
      const demand = new Subject<number>();
      const out: string[] = [];
      let completed = false;
      pullFrom<string>(readable, demand).subscribe({
        next: (v) => out.push(v),
        complete: () => (completed = true),
      });
      demand.next(2);
      await until(() => out.length === 2);
      await settle();
      expect(out).toEqual(['a', 'b']);
      demand.next(10);
      await until(() => completed);
      expect(out).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it("keeps the stream's own backpressure: reads stay within demand plus highWaterMark", async () => {
      const highWaterMark = 4;
      let reads = 0;
      const readable = new Readable({
        objectMode: true,
        highWaterMark,
        read() {
          if (reads === 1000) {
            this.push(null);
            return;
          }
          this.push(reads++);
        },
      });
      const demand = new Subject<number>();
      const out: number[] = [];
      pullFrom<number>(readable, demand).subscribe((v) => out.push(v));
      for (let i = 0; i < 10; i++) await settle();
      expect(out).toEqual([]);
      expect(reads).toBeLessThanOrEqual(highWaterMark + 1);

      demand.next(3);
      await until(() => out.length === 3);
      for (let i = 0; i < 10; i++) await settle();
      expect(out).toEqual([0, 1, 2]);
      expect(reads).toBeLessThanOrEqual(3 + highWaterMark + 1);

      demand.next(50);
      await until(() => out.length === 53);
      for (let i = 0; i < 10; i++) await settle();
      expect(out).toEqual(Array.from({ length: 53 }, (_, i) => i));
      expect(reads).toBeGreaterThanOrEqual(53);
      expect(reads).toBeLessThanOrEqual(53 + highWaterMark + 1);
    });

    it('destroys the stream on unsubscribe', async () => {
      let reads = 0;
      const readable = new Readable({
        objectMode: true,
        highWaterMark: 2,
        read() {
          this.push(reads++);
        },
      });
      let closed = false;
      readable.on('close', () => (closed = true));
      const out: number[] = [];
      const subscription = pullFrom<number>(readable, of(3)).subscribe((v) => out.push(v));
      await until(() => out.length === 3);
      subscription.unsubscribe();
      await until(() => closed);
      expect(readable.destroyed).toBe(true);
      expect(out).toEqual([0, 1, 2]);
    });

    it('on unsubscribe during a pending read, emits nothing more and destroys the stream once it yields', async () => {
      const readable = new Readable({ objectMode: true, read: () => undefined });
      const out: unknown[] = [];
      const subscription = pullFrom(readable, of(5)).subscribe((v) => out.push(v));
      readable.push('a');
      await until(() => out.length === 1);
      subscription.unsubscribe(); // the second next() is pending: the stream has nothing yet
      readable.push('b');
      await until(() => readable.destroyed);
      expect(out).toEqual(['a']);
    });

    it('errors when the stream errors', async () => {
      const boom = new Error('disk on fire');
      const readable = new Readable({
        objectMode: true,
        read() {
          this.destroy(boom);
        },
      });
      const result = lastValueFrom(pullFrom(readable, of(Infinity)).pipe(toArray()));
      await expect(result).rejects.toBe(boom);
    });
  });

  describe('bad input', () => {
    it('throws TypeError at creation for an input that is neither iterable nor async iterable', () => {
      const message = (got: string): string =>
        `pullFrom: \`input\` must be an Iterable or an AsyncIterable, got ${got}`;
      expect(thrownBy(() => pullFrom(42 as never, NEVER))).toEqual(
        errorShape(new TypeError(message('42 (number)'))),
      );
      expect(thrownBy(() => pullFrom({} as never, NEVER))).toEqual(
        errorShape(new TypeError(message('[object Object] (object)'))),
      );
      expect(thrownBy(() => pullFrom(null as never, NEVER))).toEqual(
        errorShape(new TypeError(message('null'))),
      );
      expect(thrownBy(() => pullFrom(Promise.resolve([1]) as never, NEVER))).toEqual(
        errorShape(new TypeError(message('[object Promise] (object)'))),
      );
    });

    it('throws TypeError at creation for a demand$ that is not an Observable', () => {
      expect(thrownBy(() => pullFrom([1], (() => of(1)) as never))).toEqual(
        errorShape(new TypeError('pullFrom: `demand$` must be an Observable, got a function')),
      );
      expect(thrownBy(() => pullFrom([1], undefined as never))).toEqual(
        errorShape(new TypeError('pullFrom: `demand$` must be an Observable, got undefined')),
      );
    });

    it('throws at creation for a bad initialDemand or options object', () => {
      expect(thrownBy(() => pullFrom([1], EMPTY, { initialDemand: -2 }))).toEqual(
        errorShape(
          new RangeError(
            'pullFrom: `initialDemand` must be a non-negative integer or Infinity, got -2 (number)',
          ),
        ),
      );
      for (const bad of [1.5, NaN])
        expect(() => pullFrom([1], EMPTY, { initialDemand: bad })).toThrow(RangeError);
      expect(() => pullFrom([1], EMPTY, { initialDemand: '3' as never })).toThrow(TypeError);
      expect(thrownBy(() => pullFrom([1], EMPTY, 'fast' as never))).toEqual(
        errorShape(new TypeError('pullFrom: `options` must be an object, got "fast" (string)')),
      );
    });

    it('errors the output with RangeError or TypeError for a bad demand value, calling return()', () => {
      const cases: [unknown, Error][] = [
        [-1, new RangeError('pullFrom: demand must be a non-negative integer or Infinity, got -1 (number)')],
        [
          NaN,
          new RangeError('pullFrom: demand must be a non-negative integer or Infinity, got NaN (number)'),
        ],
        [
          0.5,
          new RangeError('pullFrom: demand must be a non-negative integer or Infinity, got 0.5 (number)'),
        ],
        ['1', new TypeError('pullFrom: demand must be a non-negative integer or Infinity, got "1" (string)')],
      ];
      for (const [bad, expected] of cases) {
        const { iterable, calls } = countingIterable(['a', 'b']);
        testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
          const demand = hot(' -1-x-', { ...grants, x: bad as number });
          expectObservable(pullFrom(iterable, demand)).toBe('-a-#', undefined, expected);
          expectSubscriptions(demand.subscriptions).toBe('^--!');
        });
        expect(calls).toEqual({ next: 1, return: 1 });
      }
    });
  });
  it('destroys a Node Readable that is waiting for data when unsubscribed (an idle socket would never settle the pending next())', async () => {
    const readable = new Readable({ objectMode: true, read() {} });
    readable.push(1);
    const seen: unknown[] = [];
    const subscription = pullFrom(readable, NEVER, { initialDemand: 2 }).subscribe((v) => seen.push(v));
    await settle();
    expect(seen).toEqual([1]);
    expect(readable.destroyed).toBe(false);
    subscription.unsubscribe();
    await settle();
    expect(readable.destroyed).toBe(true);
  });
  it('destroys a Node Readable that is unsubscribed before anything was pulled (its file handle is released)', async () => {
    let closed = false;
    const readable = new Readable({ read() {} });
    readable.on('close', () => (closed = true));
    pullFrom(readable, NEVER).subscribe().unsubscribe();
    await settle();
    expect(readable.destroyed).toBe(true);
    expect(closed).toBe(true);
  });
});

describe('pullFrom with an iterator that breaks the protocol', () => {
  const broken = (result: unknown): Iterable<number> => ({
    [Symbol.iterator]: () => ({
      next: () => result as IteratorResult<number>,
      return: () => ({ done: true, value: undefined }),
    }),
  });
  const brokenAsync = (result: unknown): AsyncIterable<number> => ({
    [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(result as IteratorResult<number>) }),
  });

  it.each([
    [null, 'null'],
    [5, '5 (number)'],
    ['x', '"x" (string)'],
  ])('errors with a TypeError naming the operator when next() gives %p (sync)', (result, shown) => {
    let error: unknown;
    pullFrom(broken(result), of(1)).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toEqual(
      new TypeError(
        `pullFrom: the input's iterator returned ${shown} from next(); an iterator result must be an object ({ value, done })`,
      ),
    );
  });

  it('errors with a TypeError when an async next() resolves to a non-object, instead of hanging', async () => {
    const error = await lastValueFrom(pullFrom(brokenAsync(undefined), of(1))).catch((e: unknown) => e);
    expect(error).toEqual(
      new TypeError(
        "pullFrom: the input's iterator returned undefined from next(); an iterator result must be an object ({ value, done })",
      ),
    );
  });
});
