import { Readable, Writable } from 'node:stream';
import { config, EMPTY, lastValueFrom, NEVER, Observable, of, Subject, throwError } from 'rxjs';
import { pullFeedback, pullFrom, pullMap, writeTo, type WritableLike } from 'rxjs-backpressure';
import { errorShape, thrownBy } from '../helpers/marbles';

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * An object-mode Writable whose writes (and, with `holdFinal`, its final flush) finish only when the
 * test says so.
 */
function manualWritable(highWaterMark: number, { holdFinal = false } = {}) {
  const chunks: unknown[] = [];
  const pending: ((error?: Error | null) => void)[] = [];
  let answered = 0;
  let finalCallback: ((error?: Error | null) => void) | undefined;
  const events: string[] = [];
  const writable = new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk: unknown, _encoding, callback) {
      chunks.push(chunk);
      pending.push(callback);
    },
    final(callback) {
      if (holdFinal) finalCallback = callback;
      else callback();
    },
  });
  for (const event of ['drain', 'finish', 'close', 'error'] as const)
    writable.on(event, () => events.push(event));
  return {
    writable,
    /** Chunks handed to the sink so far, in order. */
    chunks,
    /** 'drain', 'finish', 'close' and 'error' as the writable emitted them. */
    events,
    /** Finishes the write in progress (with an error if given). */
    finishWrite(error?: Error): void {
      const callback = pending[answered];
      if (!callback) throw new Error('no write in progress');
      pending[answered++] = () => undefined;
      callback(error ?? null);
    },
    /** Finishes every write, including those the sink receives meanwhile. */
    finishAll(): void {
      while (answered < pending.length) this.finishWrite();
    },
    /** Lets a held final flush complete. */
    finishFinal(): void {
      if (!finalCallback) throw new Error('final() was not called');
      finalCallback();
    },
  };
}

/** An iterable of 1..n that counts next() and return() calls. */
function counted(n: number) {
  const calls = { next: 0, return: 0 };
  const iterable: Iterable<number> = {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next: (): IteratorResult<number> => {
          calls.next++;
          return i < n ? { value: ++i, done: false } : { value: undefined, done: true };
        },
        return: (): IteratorResult<number> => {
          calls.return++;
          return { value: undefined, done: true };
        },
      };
    },
  };
  return { iterable, calls };
}

/** Subscribes and records what the returned Observable does. */
function watch(result: Observable<number>) {
  const seen = { values: [] as number[], completed: false, error: undefined as unknown };
  const subscription = result.subscribe({
    next: (n) => seen.values.push(n),
    complete: () => (seen.completed = true),
    error: (err: unknown) => (seen.error = err),
  });
  return { seen, subscription };
}

describe('writeTo', () => {
  describe("the writable's backpressure", () => {
    it("stops writing and pulling when write() returns false, and goes on after 'drain'", async () => {
      const sink = manualWritable(2);
      const { iterable, calls } = counted(100);
      watch(writeTo(sink.writable, (demand$) => pullFrom(iterable, demand$)));

      // 1 is being written, 2 waits in the writable's buffer: write(2) returned false.
      expect(sink.chunks).toEqual([1]);
      expect(calls.next).toBe(2);
      expect(sink.writable.writableNeedDrain).toBe(true);
      await settle();
      expect(calls.next).toBe(2);

      sink.finishWrite();
      await settle();
      expect(sink.chunks).toEqual([1, 2]);
      expect(calls.next).toBe(2); // no 'drain' yet: the buffer is not empty

      sink.finishWrite();
      await settle();
      expect(sink.events).toEqual(['drain']);
      expect(sink.chunks).toEqual([1, 2, 3]);
      expect(calls.next).toBe(4);
    });

    it('keeps what is pulled ahead of the writable bounded by pullMap concurrency', async () => {
      const sink = manualWritable(1);
      const { iterable, calls } = counted(1000);
      watch(
        writeTo(sink.writable, (demand$) =>
          pullMap(iterable, async (v) => v, { concurrency: 3, ordered: true, demand$ }),
        ),
      );
      for (let i = 0; i < 5; i++) await settle();
      expect(sink.chunks).toEqual([1]);
      // The first value was written and write() returned false: its freed slot pulls nothing until
      // 'drain', so only the 3 values of the initial fill were pulled.
      expect(calls.next).toBe(3);
      for (let round = 0; round < 20; round++) {
        sink.finishWrite();
        for (let i = 0; i < 5; i++) await settle();
        expect(calls.next - sink.chunks.length).toBeLessThanOrEqual(3);
      }
      expect(sink.chunks).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    });

    it("writes values a pipeline sends beyond its demand after 'drain', in order", async () => {
      const sink = manualWritable(2);
      const source = new Subject<string>();
      const { seen } = watch(writeTo(sink.writable, () => source, { requireDemand: false }));
      source.next('a');
      source.next('b'); // write() returns false
      source.next('c');
      source.next('d');
      source.next('e');
      expect(sink.chunks).toEqual(['a']);
      sink.finishWrite();
      sink.finishWrite(); // 'drain': c is written, d fills the buffer again, e waits
      await settle();
      expect(sink.chunks).toEqual(['a', 'b', 'c']);
      sink.finishAll();
      await settle();
      sink.finishAll();
      await settle();
      expect(sink.chunks).toEqual(['a', 'b', 'c', 'd', 'e']);
      source.complete();
      await settle();
      expect(seen.values).toEqual([5]);
      expect(seen.completed).toBe(true);
    });

    it('with pullFeedback, values wait in its queue while the writable drains', async () => {
      const sink = manualWritable(1);
      const source = new Subject<number>();
      const { seen } = watch(writeTo(sink.writable, (demand$) => source.pipe(pullFeedback(demand$))));
      for (let i = 1; i <= 6; i++) source.next(i);
      source.complete();
      expect(sink.chunks).toEqual([1]);
      for (let i = 0; i < 20 && !seen.completed; i++) {
        sink.finishAll();
        await settle();
      }
      expect(sink.chunks).toEqual([1, 2, 3, 4, 5, 6]);
      expect(seen.values).toEqual([6]);
      expect(seen.completed).toBe(true);
    });

    it("keeps a constant amount of bookkeeping however many times it waits for 'drain'", async () => {
      const removed: string[] = [];
      const listeners = new Map<string, (...args: unknown[]) => void>();
      let writes = 0;
      const fake: WritableLike<number> = {
        write: () => ++writes % 2 === 1,
        end: () => undefined,
        once: (event, listener) => listeners.set(event, listener),
        removeListener: (event) => removed.push(event),
      };
      const { subscription } = watch(
        writeTo(fake, (demand$) => pullFrom(counted(Infinity).iterable, demand$)),
      );
      for (let i = 0; i < 1000; i++) listeners.get('drain')!();
      expect(writes).toBe(2002);
      subscription.unsubscribe();
      expect(removed.length).toBeLessThanOrEqual(4);
      expect(removed.filter((event) => event === 'drain').length).toBe(1);
    });
  });

  describe('completion', () => {
    it("ends the writable and emits the number of values written after 'finish', then completes", async () => {
      const sink = manualWritable(4, { holdFinal: true });
      const { seen } = watch(writeTo(sink.writable, (demand$) => pullFrom([1, 2, 3], demand$)));
      sink.finishAll();
      await settle();
      expect(sink.writable.writableEnded).toBe(true);
      expect(seen.values).toEqual([]); // not before 'finish'
      expect(seen.completed).toBe(false);
      sink.finishFinal();
      await settle();
      expect(sink.events).toContain('finish');
      expect(seen.values).toEqual([3]);
      expect(seen.completed).toBe(true);
      expect(sink.chunks).toEqual([1, 2, 3]);
    });

    it('waits for a pending drain before ending', async () => {
      const sink = manualWritable(1);
      const { seen } = watch(writeTo(sink.writable, () => of(1, 2, 3), { requireDemand: false }));
      await settle();
      expect(sink.writable.writableEnded).toBe(false);
      for (let i = 0; i < 10 && !seen.completed; i++) {
        sink.finishAll();
        await settle();
      }
      expect(sink.chunks).toEqual([1, 2, 3]);
      expect(seen.values).toEqual([3]);
    });

    it('emits 0 for an empty pipeline, after ending the writable', async () => {
      const sink = manualWritable(4);
      const result = await lastValueFrom(writeTo(sink.writable, () => EMPTY));
      expect(result).toBe(0);
      expect(sink.events).toContain('finish');
    });

    it('with end: false, leaves the writable open and emits once the last write is accepted', async () => {
      const sink = manualWritable(2);
      const { seen } = watch(
        writeTo(sink.writable, (demand$) => pullFrom([1, 2, 3], demand$), { end: false }),
      );
      expect(seen.completed).toBe(false); // write(2) returned false: waiting for 'drain'
      for (let i = 0; i < 10 && !seen.completed; i++) {
        sink.finishAll();
        await settle();
      }
      expect(seen.values).toEqual([3]);
      expect(seen.completed).toBe(true);
      expect(sink.writable.writableEnded).toBe(false);
      expect(sink.writable.write(4)).toBe(true);
    });

    it('removes every listener it added when done', async () => {
      const sink = manualWritable(2);
      const before = ['drain', 'finish', 'close', 'error'].map((e) => sink.writable.listenerCount(e));
      const { seen } = watch(
        writeTo(sink.writable, (demand$) => pullFrom([1, 2, 3, 4], demand$), { end: false }),
      );
      for (let i = 0; i < 10 && !seen.completed; i++) {
        sink.finishAll();
        await settle();
      }
      expect(seen.completed).toBe(true);
      expect(['drain', 'finish', 'close', 'error'].map((e) => sink.writable.listenerCount(e))).toEqual(
        before,
      );
    });
  });

  describe('errors and unsubscribing', () => {
    it("errors on the writable's 'error' and releases the source", async () => {
      const boom = new Error('disk full');
      const sink = manualWritable(1);
      let finalized = 0;
      function* numbers(): Generator<number> {
        try {
          for (let i = 1; ; i++) yield i;
        } finally {
          finalized++;
        }
      }
      const { seen } = watch(writeTo(sink.writable, (demand$) => pullFrom(numbers(), demand$)));
      sink.finishWrite(boom);
      await settle();
      expect(seen.error).toBe(boom);
      expect(finalized).toBe(1);
      expect(sink.events).toEqual(['error', 'close']);
    });

    it("errors on 'close' before 'finish' and releases the source", async () => {
      const sink = manualWritable(1);
      const { iterable, calls } = counted(100);
      const { seen } = watch(writeTo(sink.writable, (demand$) => pullFrom(iterable, demand$)));
      sink.writable.destroy();
      await settle();
      expect(seen.error).toEqual(new Error('writeTo: the writable closed before it finished'));
      expect(calls.return).toBe(1);
    });

    it('errors when the pipeline errors, leaving the writable open', async () => {
      const boom = new Error('work failed');
      const sink = manualWritable(4);
      const { seen } = watch(
        writeTo(sink.writable, (demand$) =>
          pullMap([1, 2, 3], (v) => (v === 2 ? throwError(() => boom) : of(v)), { demand$ }),
        ),
      );
      await settle();
      expect(seen.error).toBe(boom);
      expect(sink.chunks).toEqual([1]);
      expect(sink.writable.writableEnded).toBe(false);
      expect(sink.writable.destroyed).toBe(false);
    });

    it('errors when build throws or does not return an Observable', () => {
      const boom = new Error('cannot build');
      const sink = manualWritable(4);
      const thrown = watch(
        writeTo(sink.writable, () => {
          throw boom;
        }),
      );
      expect(thrown.seen.error).toBe(boom);
      const wrong = watch(writeTo(sink.writable, () => [1, 2] as unknown as Observable<number>));
      expect(wrong.seen.error).toEqual(
        new TypeError('writeTo: `build` must return an Observable, got an array'),
      );
      expect(sink.writable.listenerCount('error')).toBe(1); // only the test's own
    });

    it('on unsubscribe, releases the source and removes its listeners, leaving the writable as it is', async () => {
      const sink = manualWritable(1);
      const { iterable, calls } = counted(100);
      const events = ['drain', 'finish', 'close', 'error'] as const;
      const before = events.map((e) => sink.writable.listenerCount(e));
      const { seen, subscription } = watch(writeTo(sink.writable, (demand$) => pullFrom(iterable, demand$)));
      subscription.unsubscribe();
      expect(calls.return).toBe(1);
      // A write is in flight: until the writable closes, one 'error' listener (and the 'close' one
      // that removes it) stays, so a failure of that write cannot crash the process.
      expect(events.map((e) => sink.writable.listenerCount(e))).toEqual([
        before[0],
        before[1],
        (before[2] as number) + 1,
        (before[3] as number) + 1,
      ]);
      sink.finishAll();
      await settle();
      expect(seen).toEqual({ values: [], completed: false, error: undefined });
      expect(sink.writable.writableEnded).toBe(false);
      sink.writable.destroy();
      await settle();
      expect(events.map((e) => sink.writable.listenerCount(e))).toEqual(before);
    });

    it('after unsubscribe, a writable destroyed with its writes in flight cannot crash the process', async () => {
      const unhandled: unknown[] = [];
      config.onUnhandledError = (err) => unhandled.push(err);
      try {
        // No 'error' listener of the test's own: an unhandled 'error' would be an uncaught exception.
        const held: (() => void)[] = [];
        const writable = new Writable({
          objectMode: true,
          write(_chunk: unknown, _encoding, callback) {
            held.push(() => callback());
          },
        });
        const subscription = writeTo(writable, (demand$) => pullFrom(['a', 'b'], demand$)).subscribe();
        subscription.unsubscribe();
        const destroyed = Object.assign(new Error('write after destroy'), { code: 'ERR_STREAM_DESTROYED' });
        writable.destroy(destroyed);
        await settle();
        expect(writable.destroyed).toBe(true);
        expect(unhandled).toEqual([]); // the failure of our own write is expected, not reported

        // Any other error the writable emits after unsubscribe is reported, not swallowed.
        const other = new Writable({
          objectMode: true,
          write(_chunk: unknown, _encoding, callback) {
            held.push(() => callback());
          },
        });
        writeTo(other, (demand$) => pullFrom(['a'], demand$))
          .subscribe()
          .unsubscribe();
        const boom = new Error('disk full');
        other.destroy(boom);
        await settle();
        expect(unhandled).toEqual([boom]);
        expect(other.listenerCount('error')).toBe(0);
      } finally {
        config.onUnhandledError = null;
      }
    });

    it('errors before writing anything when the pipeline never subscribes to demand$', async () => {
      const sink = manualWritable(4);
      const { seen } = watch(writeTo(sink.writable, () => of(1, 2, 3)));
      await settle();
      expect(seen.error).toEqual(
        new TypeError(
          "writeTo: the pipeline did not subscribe to demand$, so nothing paces it and it would read its whole input into memory. Pass demand$ on (pullMap's demand$ option, pullFrom, pullFeedback), or set requireDemand: false.",
        ),
      );
      expect(sink.chunks).toEqual([]);
      expect(sink.writable.writableEnded).toBe(false);
    });

    it('with requireDemand: false, writes what a pipeline that ignores demand$ sends, honouring drain', async () => {
      const sink = manualWritable(1);
      const { seen } = watch(writeTo(sink.writable, () => of(1, 2, 3), { requireDemand: false }));
      for (let i = 0; i < 10 && !seen.completed; i++) {
        sink.finishAll();
        await settle();
      }
      expect(sink.chunks).toEqual([1, 2, 3]);
      expect(seen.values).toEqual([3]);
      expect(() => writeTo(sink.writable, () => EMPTY, { requireDemand: null as never })).toThrow(
        new TypeError('writeTo: `requireDemand` must be a boolean, got null'),
      );
    });

    it('does not subscribe the pipeline before the Observable is subscribed', () => {
      let built = 0;
      const sink = manualWritable(1);
      const result = writeTo(sink.writable, () => {
        built++;
        return NEVER;
      });
      expect(built).toBe(0);
      result.subscribe().unsubscribe();
      expect(built).toBe(1);
    });
  });

  describe('bad input', () => {
    const build = (): Observable<number> => EMPTY;

    it('throws TypeError at creation for something that is not a Writable', () => {
      const expected = (got: string): Error =>
        new TypeError(
          `writeTo: \`writable\` must be a Node.js Writable (write, end, once, removeListener), got ${got}`,
        );
      expect(thrownBy(() => writeTo(null as never, build))).toEqual(errorShape(expected('null')));
      expect(thrownBy(() => writeTo({ write: () => true } as never, build))).toEqual(
        errorShape(expected('[object Object] (object)')),
      );
      expect(thrownBy(() => writeTo(Readable.from([]) as never, build))).toEqual(
        errorShape(expected('[object Object] (object)')),
      );
    });

    it('throws TypeError at creation for a build that is not a function, or bad options', () => {
      const sink = manualWritable(1);
      expect(thrownBy(() => writeTo(sink.writable, 'pipeline' as never))).toEqual(
        errorShape(new TypeError('writeTo: `build` must be a function, got "pipeline" (string)')),
      );
      expect(thrownBy(() => writeTo(sink.writable, build, { end: 'no' as never }))).toEqual(
        errorShape(new TypeError('writeTo: `end` must be a boolean, got "no" (string)')),
      );
      expect(thrownBy(() => writeTo(sink.writable, build, null as never))).toEqual(
        errorShape(new TypeError('writeTo: `options` must be an object, got null')),
      );
    });
  });

  describe('end to end', () => {
    it('streams 1,000,000 lines from a Readable through async work into a slow Writable: each once, in order', async () => {
      const N = 1_000_000;
      const concurrency = 4;
      let generated = 0;
      function* lines(): Generator<string> {
        for (let i = 0; i < N; i++) {
          generated++;
          yield `line ${String(i)}\n`;
        }
      }
      const readable = Readable.from(lines(), { objectMode: true, highWaterMark: 16 });

      let inFlight = 0;
      let maxInFlight = 0;
      const work = async (line: string, index: number): Promise<string> => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Every hundredth value starts a run of four that each wait for a turn of the event loop, so
        // that all four slots are busy at once and later work finishes before earlier work.
        if (index % 100 >= 96) await new Promise<void>((resolve) => setImmediate(resolve));
        inFlight--;
        return line.toUpperCase();
      };

      let received = 0;
      let misplaced = 0;
      let maxAhead = 0;
      const writable = new Writable({
        objectMode: true,
        highWaterMark: 8,
        write(chunk: string, _encoding, callback) {
          if (chunk !== `LINE ${String(received)}\n`) misplaced++;
          received++;
          maxAhead = Math.max(maxAhead, generated - received);
          // A slow sink: every 64th write finishes on a later turn of the event loop and every 50,000th
          // after a timer; meanwhile the next writes fill its small buffer and write() returns false.
          if (received % 50_000 === 0) setTimeout(callback, 1);
          else if (received % 64 === 0) setImmediate(callback);
          else callback();
        },
      });
      let drains = 0;
      writable.on('drain', () => drains++);

      const written = await lastValueFrom(
        writeTo(writable, (demand$) => pullMap(readable, work, { concurrency, ordered: true, demand$ })),
      );

      expect(written).toBe(N);
      expect(received).toBe(N);
      expect(misplaced).toBe(0);
      expect(generated).toBe(N);
      expect(maxInFlight).toBe(concurrency);
      expect(drains).toBeGreaterThan(0); // write() returned false: backpressure was exercised
      // Bounded: the Readable's buffer, the work slots and the writable's buffer, nothing more.
      expect(maxAhead).toBeLessThanOrEqual(16 + concurrency + 8 + 2);
      expect(writable.writableFinished).toBe(true);
    }, 120_000);
  });
  it('replays outstanding demand to a pipeline that subscribes to demand$ late', async () => {
    const written: number[] = [];
    const writable = new Writable({
      objectMode: true,
      write(chunk: number, _encoding, callback) {
        written.push(chunk);
        callback();
      },
    });
    const late = (demand$: Observable<number>) =>
      new Observable<number>((subscriber) => {
        const handle = setTimeout(
          () => subscriber.add(pullFrom([1, 2, 3], demand$).subscribe(subscriber)),
          5,
        );
        return () => clearTimeout(handle);
      });
    await expect(lastValueFrom(writeTo(writable, late))).resolves.toBe(3);
    expect(written).toEqual([1, 2, 3]);
  });
});
