import { of, Subject, timer, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { bufferDropping, tokenBucket } from '../../src/index';
import { DropRecorder, ManualTimeScheduler, recordDrops, withVirtualTime } from '../../src/testing/index';

describe('recordDrops', () => {
  it('starts empty', () => {
    const drops = recordDrops<string>();
    expect(drops).toBeInstanceOf(DropRecorder);
    expect(drops.drops).toEqual([]);
    expect(drops.values).toEqual([]);
    expect(drops.counts).toEqual({});
    expect(drops.count()).toBe(0);
    expect(drops.valuesFor('overflow')).toEqual([]);
  });

  it('records every report in order, through a detached onDrop', () => {
    const drops = recordDrops<string>();
    const { onDrop } = drops; // handed to an operator as a plain function
    onDrop('a', 'overflow');
    onDrop('b', 'rejected');
    onDrop('c', 'overflow');
    onDrop('d', 'cleared');
    expect(drops.drops).toEqual([
      { value: 'a', reason: 'overflow' },
      { value: 'b', reason: 'rejected' },
      { value: 'c', reason: 'overflow' },
      { value: 'd', reason: 'cleared' },
    ]);
    expect(drops.values).toEqual(['a', 'b', 'c', 'd']);
    expect(drops.valuesFor('overflow')).toEqual(['a', 'c']);
    expect(drops.valuesFor('cleared')).toEqual(['d']);
    expect(drops.valuesFor('shed')).toEqual([]);
    expect(drops.counts).toEqual({ overflow: 2, rejected: 1, cleared: 1 });
    expect(drops.count()).toBe(4);
    expect(drops.count('overflow')).toBe(2);
    expect(drops.count('expired')).toBe(0);
  });

  it('hands out copies: a list already read does not change, and records cannot be edited', () => {
    const drops = recordDrops<number>();
    drops.onDrop(1, 'overflow');
    const before = drops.drops;
    const values = drops.values;
    drops.onDrop(2, 'overflow');
    expect(before).toEqual([{ value: 1, reason: 'overflow' }]);
    expect(values).toEqual([1]);
    expect(Object.isFrozen(drops.drops[0])).toBe(true);
  });

  it('keeps the same values (by identity), undefined and null included', () => {
    const drops = recordDrops<object | null | undefined>();
    const value = { id: 1 };
    drops.onDrop(value, 'overflow');
    drops.onDrop(undefined, 'cleared');
    drops.onDrop(null, 'cleared');
    expect(drops.values[0]).toBe(value);
    expect(drops.valuesFor('cleared')).toEqual([undefined, null]);
    expect(drops.count()).toBe(3);
  });

  it('forgets everything on reset and keeps recording', () => {
    const drops = recordDrops<string>();
    drops.onDrop('a', 'overflow');
    drops.reset();
    expect(drops.drops).toEqual([]);
    expect(drops.counts).toEqual({});
    drops.onDrop('b', 'shed');
    expect(drops.drops).toEqual([{ value: 'b', reason: 'shed' }]);
  });

  it('records the time of each drop when given a clock', () => {
    const scheduler = new ManualTimeScheduler(100);
    const drops = recordDrops<string>({ clock: scheduler });
    drops.onDrop('a', 'overflow');
    scheduler.advanceBy(25);
    drops.onDrop('b', 'cleared');
    expect(drops.drops).toEqual([
      { value: 'a', reason: 'overflow', time: 100 },
      { value: 'b', reason: 'cleared', time: 125 },
    ]);
    expect(recordDrops<string>().drops).toStrictEqual([]);
    const untimed = recordDrops<string>();
    untimed.onDrop('x', 'overflow');
    expect(untimed.drops[0]).toStrictEqual({ value: 'x', reason: 'overflow' });
  });

  describe('bad options (checked when the recorder is made, not at the first drop)', () => {
    const record = (options: unknown) => () => recordDrops(options as never);

    it.each([
      [null, 'null'],
      [5, '5 (number)'],
      ['x', '"x" (string)'],
      [true, 'true (boolean)'],
      [() => ({ clock: { now: () => 0 } }), 'a function'],
      [[], 'an array'],
      [[{ now: () => 0 }], 'an array'],
    ])('refuses options %p: only undefined means the defaults', (options, got) => {
      expect(record(options)).toThrow(
        new TypeError(`recordDrops: \`options\` must be an object, got ${got}`),
      );
    });

    it('refuses an unknown option, suggesting the one meant', () => {
      expect(record({ clok: new ManualTimeScheduler() })).toThrow(
        new TypeError('recordDrops: unknown option `clok` (did you mean `clock`?); known: `clock`'),
      );
      expect(record({ scheduler: new ManualTimeScheduler() })).toThrow(
        new TypeError('recordDrops: unknown option `scheduler`; known: `clock`'),
      );
    });

    const expectedClock =
      'an object with a now() method (a ManualTimeScheduler, a TestScheduler, any { now(): number })';
    it.each([
      [null, 'null'],
      [5, '5 (number)'],
      ['x', '"x" (string)'],
      [true, 'true (boolean)'],
      [() => 0, 'a function'],
      [[], 'an array'],
      [{}, '[object Object] (object)'],
      [{ now: 5 }, '[object Object] (object)'],
    ])('refuses clock %p at once', (clock, got) => {
      expect(record({ clock })).toThrow(
        new TypeError(`recordDrops: \`clock\` must be ${expectedClock}, got ${got}`),
      );
      expect(() => new DropRecorder(clock as never)).toThrow(
        new TypeError(`DropRecorder: \`clock\` must be ${expectedClock}, got ${got}`),
      );
    });

    it('takes undefined, {} and { clock: undefined } as "no clock"; any { now() } as a clock', () => {
      for (const options of [undefined, {}, { clock: undefined }]) {
        const drops = recordDrops<string>(options);
        drops.onDrop('a', 'overflow');
        expect(drops.drops).toStrictEqual([{ value: 'a', reason: 'overflow' }]);
      }
      const drops = recordDrops<string>({ clock: { now: () => 42 } });
      drops.onDrop('a', 'overflow');
      expect(drops.drops).toEqual([{ value: 'a', reason: 'overflow', time: 42 }]);
      expect(() => recordDrops({ clock: new TestScheduler(() => {}) })).not.toThrow();
    });
  });

  describe('with operators', () => {
    it('records what tokenBucket rejects in police mode (the issue example), with times', () => {
      withVirtualTime((scheduler) => {
        const drops = recordDrops<string>({ clock: scheduler });
        const passed: string[] = [];
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
          .subscribe((v) => passed.push(`${v}@${scheduler.now()}`));
        ['a', 'b', 'c', 'd'].forEach((v) => input.next(v));
        scheduler.advanceBy(20); // idle long enough to refill both tokens
        ['e', 'f', 'g'].forEach((v) => input.next(v));
        expect(passed).toEqual(['a@0', 'b@0', 'e@20', 'f@20']);
        expect(drops.drops).toEqual([
          { value: 'c', reason: 'rejected', time: 0 },
          { value: 'd', reason: 'rejected', time: 0 },
          { value: 'g', reason: 'rejected', time: 20 },
        ]);
        expect(drops.counts).toEqual({ rejected: 3 });
      });
    });

    it('records what a shaping tokenBucket evicts, under TestScheduler.run with the default scheduler', () => {
      const testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      testScheduler.run(({ hot, expectObservable }) => {
        const drops = recordDrops<string>({ clock: testScheduler });
        const bucket = tokenBucket<string>({
          capacity: 2,
          tokensPerInterval: 1,
          interval: 10,
          queueCapacity: 1,
          overflow: 'drop-oldest',
          onDrop: drops.onDrop,
        });
        // a and b take both tokens; c waits; d finds the queue full and evicts c; d leaves at 10.
        const source = hot('(abcd) 14ms |');
        const expected = '  (ab) 6ms d 9ms |';
        expectObservable(source.pipe(bucket)).toBe(expected);
        testScheduler.flush();
        expect(drops.drops).toEqual([{ value: 'c', reason: 'overflow', time: 0 }]);
      });
    });

    it('records values still waiting when the subscriber leaves as cleared', () => {
      withVirtualTime((scheduler) => {
        const drops = recordDrops<number>({ clock: scheduler });
        const done: number[] = [];
        const subscription = of(1, 2, 3, 4)
          .pipe(
            bufferDropping(2, (n) => timer(10).pipe(map(() => n)), {
              onDrop: drops.onDrop,
            }),
          )
          .subscribe((n) => done.push(n));
        scheduler.advanceBy(15);
        subscription.unsubscribe();
        expect(done).toEqual([1]);
        expect(drops.drops).toEqual([
          { value: 4, reason: 'overflow', time: 0 },
          { value: 3, reason: 'cleared', time: 15 },
        ]);
        expect(scheduler.pendingCount).toBe(0);
      });
    });
  });
});
