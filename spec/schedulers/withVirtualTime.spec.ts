import {
  asyncScheduler,
  bufferTime,
  debounceTime,
  delay,
  firstValueFrom,
  interval,
  map,
  Subject,
  take,
  throttleTime,
  timeout,
  timer,
  type SchedulerAction,
} from 'rxjs';
import { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';
import { withVirtualTime } from '../../src/schedulers/withVirtualTime';

/** Everything `asyncScheduler` has as own properties, with their descriptors. */
function ownState(): Map<PropertyKey, PropertyDescriptor | undefined> {
  return new Map(
    Reflect.ownKeys(asyncScheduler).map((key) => [key, Object.getOwnPropertyDescriptor(asyncScheduler, key)]),
  );
}

const originalState = ownState();
const originalNow = asyncScheduler.now;

/** Real timers are back: the same own properties as at load, and a wall-clock `now()`. */
function expectRealTimers(): void {
  expect(ownState()).toEqual(originalState);
  expect(asyncScheduler.now).toBe(originalNow);
  expect(Object.prototype.hasOwnProperty.call(asyncScheduler, 'schedule')).toBe(false);
  expect(Math.abs(asyncScheduler.now() - Date.now())).toBeLessThan(1000);
}

/** A log of `what@time`, with the time read from `asyncScheduler` (virtual inside). */
function timeLog() {
  const log: string[] = [];
  return { log, push: (what: string) => log.push(`${what}@${asyncScheduler.now()}`) };
}

describe('withVirtualTime', () => {
  afterEach(() => {
    expectRealTimers();
  });

  describe('inside fn', () => {
    it('drives asyncScheduler from the given ManualTimeScheduler, starting at 0', () => {
      withVirtualTime((scheduler) => {
        expect(scheduler).toBeInstanceOf(ManualTimeScheduler);
        expect(scheduler.now()).toBe(0);
        expect(asyncScheduler.now()).toBe(0);
        scheduler.advanceBy(1234);
        expect(asyncScheduler.now()).toBe(1234);
      });
    });

    it('accepts a start time and a flush limit', () => {
      withVirtualTime(
        (scheduler) => {
          expect(asyncScheduler.now()).toBe(1_000_000);
          interval(1).subscribe();
          expect(() => scheduler.flush()).toThrow(/ran 10 actions/);
        },
        { startTime: 1_000_000, flushLimit: 10 },
      );
    });

    it('runs asyncScheduler work only when the clock is advanced', () => {
      withVirtualTime((scheduler) => {
        const { log, push } = timeLog();
        const action = asyncScheduler.schedule(
          function (this: SchedulerAction<number>, n?: number) {
            push(`tick ${n}`);
            if (n! < 2) this.schedule(n! + 1, 100);
          },
          50,
          0,
        );
        expect(scheduler.pendingCount).toBe(1);
        expect(log).toEqual([]);
        scheduler.advanceBy(49);
        expect(log).toEqual([]);
        scheduler.advanceBy(1);
        expect(log).toEqual(['tick 0@50']);
        scheduler.advanceTo(1000);
        expect(log).toEqual(['tick 0@50', 'tick 1@150', 'tick 2@250']);
        expect(action.closed).toBe(false);
        expect(scheduler.pendingCount).toBe(0);
      });
    });

    it('runs timer and interval virtually', () => {
      withVirtualTime((scheduler) => {
        const { log, push } = timeLog();
        timer(60_000).subscribe(() => push('timer'));
        interval(25_000)
          .pipe(take(3))
          .subscribe({ next: (n) => push(`interval ${n}`), complete: () => push('interval done') });
        scheduler.advanceBy(59_999);
        expect(log).toEqual(['interval 0@25000', 'interval 1@50000']);
        scheduler.advanceBy(1);
        expect(log).toEqual(['interval 0@25000', 'interval 1@50000', 'timer@60000']);
        scheduler.advanceBy(60_000);
        expect(log).toEqual([
          'interval 0@25000',
          'interval 1@50000',
          'timer@60000',
          'interval 2@75000',
          'interval done@75000',
        ]);
        expect(scheduler.pendingCount).toBe(0);
      });
    });

    it('runs delay, debounceTime and throttleTime virtually', () => {
      withVirtualTime((scheduler) => {
        const { log, push } = timeLog();
        const input = new Subject<string>();
        input.pipe(delay(100)).subscribe((v) => push(`delay ${v}`));
        input.pipe(debounceTime(30)).subscribe((v) => push(`debounce ${v}`));
        input.pipe(throttleTime(50)).subscribe((v) => push(`throttle ${v}`));
        input.next('a'); // at 0
        scheduler.advanceBy(20);
        input.next('b'); // at 20
        scheduler.advanceBy(40);
        input.next('c'); // at 60
        scheduler.advanceBy(200);
        expect(log).toEqual([
          'throttle a@0',
          'debounce b@50',
          'throttle c@60',
          'debounce c@90',
          'delay a@100',
          'delay b@120',
          'delay c@160',
        ]);
        expect(scheduler.pendingCount).toBe(0);
      });
    });

    it('runs bufferTime virtually', () => {
      withVirtualTime((scheduler) => {
        const { log, push } = timeLog();
        const input = new Subject<number>();
        const subscription = input.pipe(bufferTime(100)).subscribe((batch) => push(`[${batch.join(',')}]`));
        input.next(1);
        scheduler.advanceBy(50);
        input.next(2);
        scheduler.advanceBy(100);
        input.next(3);
        scheduler.advanceBy(150);
        expect(log).toEqual(['[1,2]@100', '[3]@200', '[]@300']);
        subscription.unsubscribe();
        expect(scheduler.pendingCount).toBe(0);
      });
    });

    it('runs timeout virtually', () => {
      withVirtualTime((scheduler) => {
        const { log, push } = timeLog();
        const input = new Subject<string>();
        input.pipe(timeout(1000)).subscribe({
          next: (v) => push(v),
          error: (e: Error) => push(e.name),
        });
        scheduler.advanceBy(999);
        input.next('just in time'); // restarts the 1000 ms wait: due at 1999
        scheduler.advanceBy(999);
        expect(log).toEqual(['just in time@999']);
        scheduler.advanceBy(1);
        expect(log).toEqual(['just in time@999', 'TimeoutError@1999']);
        expect(scheduler.pendingCount).toBe(0);
      });
    });

    it('leaves explicitly passed schedulers alone', () => {
      const other = new ManualTimeScheduler();
      withVirtualTime((scheduler) => {
        let fired = false;
        timer(10, other).subscribe(() => (fired = true));
        scheduler.advanceBy(10);
        expect(fired).toBe(false);
        expect(other.pendingCount).toBe(1);
        other.advanceBy(10);
        expect(fired).toBe(true);
      });
    });
  });

  describe('restoring real timers', () => {
    it('restores them when fn returns, and returns its value', () => {
      const result = withVirtualTime((scheduler) => {
        expect(Object.prototype.hasOwnProperty.call(asyncScheduler, 'schedule')).toBe(true);
        return scheduler.now() + 42;
      });
      expect(result).toBe(42);
      expectRealTimers();
    });

    it('restores them when fn throws, and rethrows the same error', () => {
      const boom = new Error('boom');
      expect(() =>
        withVirtualTime(() => {
          throw boom;
        }),
      ).toThrow(boom);
      expectRealTimers();
    });

    it('restores them when an action run by advanceBy throws out of fn', () => {
      expect(() =>
        withVirtualTime((scheduler) => {
          asyncScheduler.schedule(() => {
            throw new RangeError('from an action');
          }, 5);
          scheduler.advanceBy(5);
        }),
      ).toThrow(new RangeError('from an action'));
      expectRealTimers();
    });

    it('keeps virtual time until a returned promise resolves, then restores them', async () => {
      let scheduler!: ManualTimeScheduler;
      const pending = withVirtualTime(async (s) => {
        scheduler = s;
        const fired = firstValueFrom(timer(500).pipe(map(() => asyncScheduler.now())));
        await Promise.resolve();
        expect(asyncScheduler.now()).toBe(0); // still virtual across an await
        s.advanceBy(500);
        return fired;
      });
      expect(pending).toBeInstanceOf(Promise);
      expect(asyncScheduler.now()).toBe(0); // fn is suspended: still virtual
      await expect(pending).resolves.toBe(500);
      expect(scheduler.now()).toBe(500);
      expectRealTimers();
    });

    it('restores them when a returned promise rejects, and rejects with the same error', async () => {
      const boom = new Error('async boom');
      const pending = withVirtualTime(async (scheduler) => {
        scheduler.advanceBy(10);
        await Promise.resolve();
        throw boom;
      });
      await expect(pending).rejects.toBe(boom);
      expectRealTimers();
    });

    it('treats any thenable as a promise', async () => {
      let settle!: (value: string) => void;
      const thenable: PromiseLike<string> = {
        then: (onFulfilled, onRejected) =>
          new Promise<string>((resolve) => (settle = resolve)).then(onFulfilled, onRejected),
      };
      const pending = withVirtualTime(() => thenable);
      await Promise.resolve();
      expect(asyncScheduler.now()).toBe(0);
      settle('done');
      await expect(pending).resolves.toBe('done');
      expectRealTimers();
    });

    it('gives back working real timers', async () => {
      withVirtualTime(() => {
        timer(1).subscribe(); // virtual, never advanced
      });
      const started = Date.now();
      const firedAt = await firstValueFrom(timer(5).pipe(map(() => Date.now())));
      expect(firedAt - started).toBeGreaterThanOrEqual(4);
    });
  });

  describe('nesting', () => {
    it('refuses a nested call, and the outer call still restores', () => {
      withVirtualTime((scheduler) => {
        expect(() => withVirtualTime(() => 1)).toThrow(
          'withVirtualTime: already active. Calls cannot be nested or overlap',
        );
        scheduler.advanceBy(10);
        expect(asyncScheduler.now()).toBe(10);
      });
    });

    it('refuses a call while an earlier async call is still pending', async () => {
      let release!: () => void;
      const first = withVirtualTime(() => new Promise<void>((resolve) => (release = resolve)));
      expect(() => withVirtualTime(() => 1)).toThrow(/already active/);
      release();
      await first;
      expect(withVirtualTime((scheduler) => scheduler.now())).toBe(0);
    });

    it('points at resetVirtualTime() when already active', () => {
      withVirtualTime(() => {
        expect(() => withVirtualTime(() => 1)).toThrow(
          new Error(
            'withVirtualTime: already active. Calls cannot be nested or overlap (an async body keeps virtual ' +
              'time on until its promise settles); use the scheduler passed to the running call instead. ' +
              'If an earlier test left a call running (it awaited something that never settled), call ' +
              'resetVirtualTime() in afterEach to put the real timers back between tests.',
          ),
        );
      });
    });
  });

  describe('bad arguments (checked before anything is patched, errors naming withVirtualTime)', () => {
    /** Calls withVirtualTime with arguments the types would refuse; `fn` must not run. */
    function call(fn: unknown, options?: unknown): () => unknown {
      return () => withVirtualTime(fn as () => void, options as Parameters<typeof withVirtualTime>[1]);
    }
    const body = jest.fn();
    afterEach(() => {
      expect(body).not.toHaveBeenCalled();
    });

    it('refuses a call that is not given a function', () => {
      expect(call(undefined)).toThrow(
        new TypeError('withVirtualTime: `fn` must be a function, got undefined'),
      );
      expect(call('f')).toThrow(new TypeError('withVirtualTime: `fn` must be a function, got "f" (string)'));
    });

    it.each([
      [null, 'null'],
      [5, '5 (number)'],
      ['x', '"x" (string)'],
      [true, 'true (boolean)'],
      [() => ({}), 'a function'],
      [[], 'an array'],
      [[{ startTime: 5 }], 'an array'],
    ])('refuses options %p: only undefined means the defaults', (options, got) => {
      expect(call(body, options)).toThrow(
        new TypeError(`withVirtualTime: \`options\` must be an object, got ${got}`),
      );
    });

    it('refuses an unknown option, suggesting the one meant', () => {
      expect(call(body, { startTme: 5 })).toThrow(
        new TypeError(
          'withVirtualTime: unknown option `startTme` (did you mean `startTime`?); known: `startTime`, `flushLimit`',
        ),
      );
      expect(call(body, { flushlimit: 5 })).toThrow(
        new TypeError(
          'withVirtualTime: unknown option `flushlimit` (did you mean `flushLimit`?); known: `startTime`, `flushLimit`',
        ),
      );
      expect(call(body, { scheduler: {} })).toThrow(
        new TypeError('withVirtualTime: unknown option `scheduler`; known: `startTime`, `flushLimit`'),
      );
    });

    it('refuses a bad startTime, naming withVirtualTime', () => {
      expect(call(body, { startTime: NaN })).toThrow(
        new RangeError('withVirtualTime: `startTime` must be a finite number, got NaN (number)'),
      );
      expect(call(body, { startTime: -Infinity })).toThrow(
        new RangeError('withVirtualTime: `startTime` must be a finite number, got -Infinity (number)'),
      );
      expect(call(body, { startTime: null })).toThrow(
        new TypeError('withVirtualTime: `startTime` must be a finite number, got null'),
      );
      expect(call(body, { startTime: '0' })).toThrow(
        new TypeError('withVirtualTime: `startTime` must be a finite number, got "0" (string)'),
      );
    });

    it('refuses a bad flushLimit, naming withVirtualTime (not ManualTimeScheduler)', () => {
      expect(call(body, { flushLimit: 0 })).toThrow(
        new RangeError(
          'withVirtualTime: `flushLimit` must be a positive integer or Infinity, got 0 (number)',
        ),
      );
      expect(call(body, { flushLimit: 1.5 })).toThrow(
        new RangeError(
          'withVirtualTime: `flushLimit` must be a positive integer or Infinity, got 1.5 (number)',
        ),
      );
      expect(call(body, { flushLimit: null })).toThrow(
        new TypeError('withVirtualTime: `flushLimit` must be a positive integer or Infinity, got null'),
      );
      expect(call(body, { flushLimit: '10' })).toThrow(
        new TypeError(
          'withVirtualTime: `flushLimit` must be a positive integer or Infinity, got "10" (string)',
        ),
      );
    });

    it('takes undefined, {} and options whose values are undefined as the defaults', () => {
      expect(withVirtualTime((s) => s.now(), undefined)).toBe(0);
      expect(withVirtualTime((s) => s.now(), {})).toBe(0);
      expect(withVirtualTime((s) => s.now(), { startTime: undefined, flushLimit: undefined })).toBe(0);
      expect(withVirtualTime((s) => s.now(), { flushLimit: Infinity, startTime: -5 })).toBe(-5);
    });
  });
});
