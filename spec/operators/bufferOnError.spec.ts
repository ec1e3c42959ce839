import { map, Observable, of, range, Subject, throwError, type ObservableInput } from 'rxjs';
import { FlowMeter, ManualTimeScheduler } from 'rxjs-backpressure';
import { BUFFERS, drive, type BufferCase } from '../helpers/buffers';
import { errorShape, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

describe('onError: failed work without ending the stream (issue 8, section 4)', () => {
  describe.each(BUFFERS)('$label', (buffer: BufferCase) => {
    const { operator } = buffer;

    describe("'error' (the default)", () => {
      it.each([
        ['left out', {}],
        ["'error'", { onError: 'error' as const }],
      ])("errors the output when an inner errors (%s), reporting waiting values 'cleared'", (_, options) => {
        const drops = recordDrops<string>();
        testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
          const source = hot('  -abc-------|');
          const inner = cold('   ---(x|)');
          const failing = cold(' --#');
          const project = (v: string): Observable<string> => (v === 'b' ? failing : work(inner)(v));
          expectObservable(source.pipe(buffer.make(2, project, { ...options, onDrop: drops.onDrop }))).toBe(
            '----a-#',
          );
          expectSubscriptions(source.subscriptions).toBe('^-----!');
        });
        expect(drops.drops).toEqual([['c', 'cleared']]);
      });
    });

    describe("'continue'", () => {
      it('swallows the error: the slot frees at that instant and the stream goes on', () => {
        const drops = recordDrops<string>();
        testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
          const source = hot('  -abc------|');
          const inner = cold('   ---(x|)');
          const failing = cold(' --#');
          const project = (v: string): Observable<string> => (v === 'b' ? failing : work(inner)(v));
          const expected = '    ----a----c|';
          expectObservable(
            source.pipe(buffer.make(2, project, { onError: 'continue', onDrop: drops.onDrop })),
          ).toBe(expected);
          expectSubscriptions(source.subscriptions).toBe('^---------!');
          expectSubscriptions(failing.subscriptions).toBe('----^-!');
          expectSubscriptions(inner.subscriptions).toBe(['-^--!', '------^--!']);
        });
        // The failed value counts as released: it is not reported to onDrop.
        expect(drops.drops).toEqual([]);
      });

      it('passes on what the inner emitted before it failed', () => {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const source = hot('-a---|');
          const inner = cold(' -x-#', { x: 'partial' });
          expectObservable(source.pipe(buffer.make(1, () => inner, { onError: 'continue' }))).toBe('--p--|', {
            p: 'partial',
          });
        });
      });

      it('frees the slot exactly once: one value starts per failure, never two', () => {
        const d = drive(buffer, 5, { onError: 'continue', concurrency: 2 });
        for (const v of 'abcdef') d.source.next(v);
        expect(d.running).toEqual(['a', 'b']);
        d.fail('a');
        expect(d.running).toEqual(['b', 'c']);
        d.fail('c');
        expect(d.running).toEqual(['b', 'd']);
        d.fail('b');
        d.fail('d');
        expect(d.running).toEqual(['e', 'f']);
        d.finish('e');
        d.finish('f');
        expect(d.running).toEqual([]);
        // The count of running work is right again: two start at once, not three.
        d.source.next('g');
        d.source.next('h');
        d.source.next('i');
        expect(d.running).toEqual(['g', 'h']);
        expect(d.ended).toBeUndefined();
        expect(d.out).toEqual(['e', 'f']);
        expect(d.drops.drops).toEqual([]);
      });

      it('completes after the last inner fails, once the source has completed', () => {
        const d = drive(buffer, 5, { onError: 'continue' });
        d.source.next('a');
        d.source.next('b');
        d.source.complete();
        d.fail('a');
        expect(d.ended).toBeUndefined();
        d.fail('b');
        expect(d.ended).toEqual({ kind: 'complete' });
        expect(d.started.map(([v]) => v)).toEqual(['a', 'b']);
      });

      it('does not swallow a source error', () => {
        const failure = new Error('source failed');
        const d = drive(buffer, 5, { onError: 'continue' });
        d.source.next('a');
        d.source.next('b');
        d.source.error(failure);
        expect(d.ended).toEqual({ kind: 'error', error: failure });
        expect(d.drops.drops).toEqual([['b', 'cleared']]);
      });

      it('with delayError, goes on past failed inners and then sends the source error', () => {
        const failure = new Error('source failed');
        const d = drive(buffer, 5, { onError: 'continue', delayError: true });
        d.source.next('a');
        d.source.next('b');
        d.source.error(failure);
        d.fail('a');
        expect(d.ended).toBeUndefined();
        d.fail('b');
        expect(d.ended).toEqual({ kind: 'error', error: failure });
      });

      it('goes through 100,000 synchronously failing inners without recursion', () => {
        const N = 100_000;
        const gate = new Subject<number>();
        let calls = 0;
        let completed = false;
        const out: number[] = [];
        range(0, N + 1)
          .pipe(
            buffer.make(
              Infinity,
              (v: number): ObservableInput<number> => {
                calls++;
                if (v === 0) return gate;
                return v % 2 === 0 ? of(v) : throwError(() => new Error(`${v} failed`));
              },
              { onError: 'continue' },
            ),
          )
          .subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
        gate.complete();
        expect(calls).toBe(N + 1);
        expect(out.length).toBe(N / 2);
        expect(completed).toBe(true);
      });

      it('lets a waiting value start before its ttl runs out when the running one fails', () => {
        const d = drive(buffer, 5, { onError: 'continue', ttl: 5 });
        d.source.next('a');
        d.scheduler.advanceTo(1);
        d.source.next('b');
        d.scheduler.advanceTo(3);
        d.fail('a');
        expect(d.started).toEqual([
          ['a', 0, 0],
          ['b', 1, 3],
        ]);
        d.scheduler.advanceTo(10);
        expect(d.drops.drops).toEqual([]);
        expect(d.scheduler.pendingCount).toBe(0);
      });
    });

    describe('the failure is seen before it is swallowed', () => {
      it.each([
        ["'continue'", 'continue' as const],
        ['a fallback', () => of('fallback')],
      ])('a FlowMeter counts the failed inner with onError %s', (_, onError) => {
        const manual = new ManualTimeScheduler();
        const meter = new FlowMeter({ name: 'requests', scheduler: manual });
        const d = drive(buffer, 5, { onError, meter }, manual);
        d.source.next('a');
        d.source.next('b');
        d.fail('a');
        const snapshot = meter.snapshot();
        expect(snapshot).toMatchObject({ received: 2, released: 2, failed: 1, droppedTotal: 0, waiting: 0 });
        expect(d.running).toEqual(['b']);
        d.fail('b');
        expect(meter.snapshot()).toMatchObject({ failed: 2, running: 0 });
        expect(d.ended).toBeUndefined();
      });
    });

    describe('a fallback function', () => {
      it("is called with the inner's error and the value; its values are emitted in place", () => {
        const calls: [unknown, string][] = [];
        const failure = new Error('b failed');
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const source = hot('  -abc-------|');
          const inner = cold('   ---(x|)');
          const failing = cold(' --#', undefined, failure);
          const project = (v: string): Observable<string> => (v === 'b' ? failing : work(inner)(v));
          const onError = (error: unknown, value: string): Observable<string> => {
            calls.push([error, value]);
            return of(`fallback ${value}`);
          };
          expectObservable(source.pipe(buffer.make(2, project, { onError }))).toBe('----a-f--c-|', {
            a: 'a',
            c: 'c',
            f: 'fallback b',
          });
        });
        expect(calls).toEqual([[failure, 'b']]);
      });

      it('takes any ObservableInput: an array, a promise', async () => {
        const out: string[] = [];
        await new Promise<void>((resolve, reject) => {
          of('a', 'b')
            .pipe(
              buffer.make(Infinity, () => throwError(() => new Error('failed')), {
                onError: (_: unknown, v: string): ObservableInput<string> =>
                  v === 'a' ? [`${v}1`, `${v}2`] : Promise.resolve(`${v}!`),
              }),
            )
            .subscribe({ next: (v) => out.push(v), error: reject, complete: resolve });
        });
        expect(out).toEqual(['a1', 'a2', 'b!']);
      });

      it("runs in the failed work's slot: the next value starts when the fallback completes", () => {
        const starts: [string, number][] = [];
        const s = testScheduler();
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('  -ab----------|');
          const failing = cold('  -#');
          const fallback = cold('  ---(y|)', { y: 'fallback a' });
          const inner = cold('  --(x|)');
          const project = (v: string): Observable<string> => {
            starts.push([v, s.now()]);
            return v === 'a' ? failing : work(inner)(v);
          };
          // a fails at 2, its fallback runs 2-5, b starts at 5 and ends at 7; the output waits for all.
          expectObservable(source.pipe(buffer.make(2, project, { onError: () => fallback }))).toBe(
            '-----y-b-----|',
            { y: 'fallback a', b: 'b' },
          );
        });
        expect(starts).toEqual([
          ['a', 1],
          ['b', 5],
        ]);
      });

      it('waits for an async fallback before completing', () => {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const source = hot('-a|');
          const fallback = cold(' ----(y|)');
          expectObservable(
            source.pipe(
              buffer.make(1, () => throwError(() => new Error('failed')), { onError: () => fallback }),
            ),
          ).toBe('-----(y|)');
        });
      });

      it("errors the output when the fallback errors, reporting waiting values 'cleared'", () => {
        const drops = recordDrops<string>();
        const fallbackFailure = new Error('fallback failed');
        testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
          const source = hot('  -abc-------|');
          const failing = cold('  -#');
          const fallback = cold('  --#', undefined, fallbackFailure);
          expectObservable(
            source.pipe(buffer.make(2, () => failing, { onError: () => fallback, onDrop: drops.onDrop })),
          ).toBe('----#', undefined, fallbackFailure);
          expectSubscriptions(source.subscriptions).toBe('^---!');
          expectSubscriptions(fallback.subscriptions).toBe('--^-!');
        });
        expect(drops.drops).toEqual([
          ['b', 'cleared'],
          ['c', 'cleared'],
        ]);
      });

      it('errors the output with what a throwing fallback function throws', () => {
        const boom = new Error('onError threw');
        const d = drive(buffer, 5, {
          onError: () => {
            throw boom;
          },
        });
        d.source.next('a');
        d.source.next('b');
        d.fail('a');
        expect(d.ended).toEqual({ kind: 'error', error: boom });
        expect(d.drops.drops).toEqual([['b', 'cleared']]);
        expect(d.source.observed).toBe(false);
      });

      it('errors with a TypeError naming the operator and onError when the fallback is no ObservableInput', () => {
        const d = drive(buffer, 5, { onError: () => 42 as never });
        d.source.next('a');
        d.fail('a');
        expect(d.ended?.kind).toBe('error');
        expect(errorShape((d.ended as { error: Error }).error)).toEqual(
          errorShape(
            new TypeError(
              `${operator}: \`onError\` must return an ObservableInput (an Observable, Promise, array, iterable or async iterable), got 42 (number)`,
            ),
          ),
        );
      });

      it('is called once per failed inner, never for work that succeeds', () => {
        const failed: string[] = [];
        const d = drive(buffer, 5, {
          concurrency: 3,
          onError: (_: unknown, v: string) => {
            failed.push(v);
            return of(`fallback ${v}`);
          },
        });
        for (const v of 'abcd') d.source.next(v);
        d.finish('a');
        d.fail('b');
        d.fail('d');
        d.finish('c');
        expect(failed).toEqual(['b', 'd']);
        expect(d.out).toEqual(['a', 'fallback b', 'fallback d', 'c']);
      });
    });

    describe('a throwing project errors the output whatever onError says', () => {
      const modes = [
        ["'continue'", 'continue' as const],
        ['a fallback', () => of('fallback')],
      ] as const;

      it.each(modes)('project throws, with onError %s', (_, onError) => {
        const boom = new Error('project failed');
        const drops = recordDrops<string>();
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const source = hot(' -abc-------|');
          const inner = cold('  ---(x|)');
          const project = (v: string): Observable<string> => {
            if (v === 'b') throw boom;
            return work(inner)(v);
          };
          expectObservable(source.pipe(buffer.make(2, project, { onError, onDrop: drops.onDrop }))).toBe(
            '----(a#)',
            undefined,
            boom,
          );
        });
        expect(drops.drops).toEqual([['c', 'cleared']]);
      });

      it.each(modes)('project throws for a value that starts at once, with onError %s', (_, onError) => {
        const boom = new Error('project failed');
        let error: unknown;
        of('a', 'b')
          .pipe(
            buffer.make(
              1,
              () => {
                throw boom;
              },
              { onError },
            ),
          )
          .subscribe({ error: (e: unknown) => (error = e) });
        expect(error).toBe(boom);
      });

      it.each(modes)('project returns no ObservableInput, with onError %s', (_, onError) => {
        let error: unknown;
        of('a')
          .pipe(buffer.make(1, () => 42 as never, { onError }))
          .subscribe({ error: (e: unknown) => (error = e) });
        expect(errorShape(error as Error)).toEqual(
          errorShape(
            new TypeError(
              `${operator}: \`project\` must return an ObservableInput (an Observable, Promise, array, iterable or async iterable), got 42 (number)`,
            ),
          ),
        );
      });
    });

    describe('validation', () => {
      const p = (v: number): Observable<number> => of(v);
      const expected = "'error', 'continue' or a function (error, value) => fallback";

      it.each([
        ['ignore', '"ignore" (string)'],
        ['Continue', '"Continue" (string)'],
        ['', '"" (string)'],
      ])('refuses onError %p with a RangeError at creation', (onError, described) => {
        expect(thrownBy(() => buffer.make(1, p, { onError: onError as never }))).toEqual(
          errorShape(new RangeError(`${operator}: \`onError\` must be ${expected}, got ${described}`)),
        );
      });

      it.each([
        [42, '42 (number)'],
        [null, 'null'],
        [true, 'true (boolean)'],
        [{}, '[object Object] (object)'],
      ])('refuses onError %p with a TypeError at creation', (onError, described) => {
        expect(thrownBy(() => buffer.make(1, p, { onError: onError as never }))).toEqual(
          errorShape(new TypeError(`${operator}: \`onError\` must be ${expected}, got ${described}`)),
        );
      });

      it("accepts 'error', 'continue', a function and undefined", () => {
        for (const onError of ['error', 'continue', () => of(0), undefined] as const) {
          expect(typeof buffer.make(1, p, { onError })).toBe('function');
        }
      });
    });
  });

  it('bufferPriority: after a failure, the highest priority waiting value starts', () => {
    const priority = (v: string): number => ({ b: 1, c: 3, d: 2 })[v] ?? 0;
    const d = drive(
      BUFFERS.find((b) => b.overflow === 'priority')!,
      5,
      { onError: 'continue', priority },
    );
    for (const v of 'abcd') d.source.next(v);
    d.fail('a');
    expect(d.running).toEqual(['c']);
    d.fail('c');
    expect(d.running).toEqual(['d']);
    d.finish('d');
    expect(d.running).toEqual(['b']);
  });
});
