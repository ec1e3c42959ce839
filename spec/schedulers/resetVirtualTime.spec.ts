import * as rxjs from 'rxjs';
import { asyncScheduler, firstValueFrom, map, timer } from 'rxjs';
import type { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';
import { resetVirtualTime, withVirtualTime } from '../../src/schedulers/withVirtualTime';

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
  expect(Math.abs(asyncScheduler.now() - Date.now())).toBeLessThan(1000);
}

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<string>; resolve: (v: string) => void; reject: (e: Error) => void } {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// The order of the first two tests matters: the first leaves a call hanging on purpose, as a test
// that timed out on an await does, and the second must not notice.
describe('resetVirtualTime in afterEach', () => {
  afterEach(() => resetVirtualTime());

  it('1. an async withVirtualTime body that never settles (not awaited, as if it timed out)', () => {
    void withVirtualTime(async () => {
      await new Promise<never>(() => {}); // never settles
    });
    expect(asyncScheduler.now()).toBe(0); // virtual, and left so when this test ends
  });

  it('2. the next test has real timers and can use withVirtualTime again', async () => {
    expectRealTimers();

    const started = Date.now();
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    const afterTimeout = Date.now();
    expect(afterTimeout - started).toBeGreaterThanOrEqual(4);

    // An RxJS timer on the default asyncScheduler runs on the real clock again.
    const firedAt = await firstValueFrom(timer(5).pipe(map(() => asyncScheduler.now())));
    expect(firedAt - afterTimeout).toBeGreaterThanOrEqual(4);
    expect(Math.abs(firedAt - Date.now())).toBeLessThan(1000);

    const seen: number[] = [];
    withVirtualTime((scheduler) => {
      timer(60_000).subscribe(() => seen.push(scheduler.now()));
      scheduler.advanceBy(60_000);
    });
    expect(seen).toEqual([60_000]);
    expectRealTimers();
  });
});

describe('resetVirtualTime', () => {
  afterEach(() => {
    resetVirtualTime();
    expectRealTimers();
  });

  it('returns false when no withVirtualTime call is active', () => {
    expect(resetVirtualTime()).toBe(false);
    withVirtualTime(() => {});
    expect(resetVirtualTime()).toBe(false);
  });

  it('returns true when it restored a hung call, and false the second time', () => {
    void withVirtualTime(() => new Promise<never>(() => {}));
    expect(() => withVirtualTime(() => 1)).toThrow(/call resetVirtualTime\(\) in afterEach/);
    expect(resetVirtualTime()).toBe(true);
    expectRealTimers();
    expect(resetVirtualTime()).toBe(false);
  });

  it('leaves a newer call alone when the hung call resolves later', async () => {
    const hung = deferred();
    const old = withVirtualTime(() => hung.promise);
    expect(resetVirtualTime()).toBe(true);

    const release = deferred();
    let scheduler!: ManualTimeScheduler;
    const firedAt: number[] = [];
    const current = withVirtualTime(async (s) => {
      scheduler = s;
      timer(100).subscribe(() => firedAt.push(asyncScheduler.now()));
      await release.promise;
      s.advanceBy(100);
      return 'current';
    });

    hung.resolve('old');
    await expect(old).resolves.toBe('old'); // its outcome is still delivered...
    expect(asyncScheduler.now()).toBe(0); // ...but the newer call's virtual time is still on
    expect(scheduler.pendingCount).toBe(1);
    expect(() => withVirtualTime(() => 1)).toThrow(/already active/);

    release.resolve('go');
    await expect(current).resolves.toBe('current');
    expect(firedAt).toEqual([100]);
    expectRealTimers();
    expect(resetVirtualTime()).toBe(false);
  });

  it('leaves a newer call alone when the hung call rejects later', async () => {
    const hung = deferred();
    const old = withVirtualTime(() => hung.promise);
    resetVirtualTime();
    const release = deferred();
    const current = withVirtualTime(async (s) => {
      await release.promise;
      return s.now();
    });

    hung.reject(new Error('late'));
    await expect(old).rejects.toThrow('late');
    expect(asyncScheduler.now()).toBe(0);

    release.resolve('go');
    await expect(current).resolves.toBe(0);
    expectRealTimers();
  });

  it('restores from inside a running synchronous body; the body ending restores nothing more', () => {
    const result = withVirtualTime((scheduler) => {
      scheduler.advanceBy(10);
      expect(resetVirtualTime()).toBe(true);
      expectRealTimers();
      return scheduler.now();
    });
    expect(result).toBe(10);
    expectRealTimers();
  });

  it('works across two copies of the library in one process (the marker is a registered symbol)', () => {
    let copy!: typeof import('../../src/schedulers/withVirtualTime');
    jest.isolateModules(() => {
      // A second copy of this library's module, sharing the one rxjs (and so the one asyncScheduler).
      jest.doMock('rxjs', () => rxjs);
      copy = jest.requireActual('../../src/schedulers/withVirtualTime');
    });
    jest.dontMock('rxjs');
    expect(copy.withVirtualTime).not.toBe(withVirtualTime);

    // A call hung in one copy blocks the other copy, and either copy's reset undoes it.
    void copy.withVirtualTime(() => new Promise<never>(() => {}));
    expect(() => withVirtualTime(() => 1)).toThrow(/already active/);
    expect(resetVirtualTime()).toBe(true);
    expectRealTimers();

    void withVirtualTime(() => new Promise<never>(() => {}));
    expect(() => copy.withVirtualTime(() => 1)).toThrow(/already active/);
    expect(copy.resetVirtualTime()).toBe(true);
    expectRealTimers();
    expect(copy.resetVirtualTime()).toBe(false);
  });
});
