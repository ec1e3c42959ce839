import type { SchedulerLike } from 'rxjs';
import { CLOCK_BACKWARDS_TOLERANCE_MS, SubscriptionClock } from '../../src/internal/clock';

/** A scheduler whose clock reads whatever the test sets; scheduling is not used here. */
function settable(start: number): { scheduler: SchedulerLike; set: (t: number) => void } {
  let time = start;
  const scheduler = {
    now: () => time,
    schedule: () => {
      throw new Error('not used');
    },
  } as unknown as SchedulerLike;
  return { scheduler, set: (t) => (time = t) };
}

describe('SubscriptionClock', () => {
  it('passes the scheduler time through while it goes forward or stands still', () => {
    const { scheduler, set } = settable(100);
    const clock = new SubscriptionClock('op', scheduler);
    expect(clock.now()).toBe(100);
    expect(clock.now()).toBe(100);
    set(150.5);
    expect(clock.now()).toBe(150.5);
    expect(clock.error).toBeUndefined();
  });

  it(`passes a step back of up to ${CLOCK_BACKWARDS_TOLERANCE_MS} ms through unchanged`, () => {
    const { scheduler, set } = settable(10_000);
    const clock = new SubscriptionClock('op', scheduler);
    clock.now();
    set(10_000 - CLOCK_BACKWARDS_TOLERANCE_MS);
    expect(clock.now()).toBe(9000);
    set(8500); // measured from the last read, not the first
    expect(clock.now()).toBe(8500);
    expect(clock.error).toBeUndefined();
  });

  it('returns NaN from a larger step back on, and keeps the error of the first one', () => {
    const { scheduler, set } = settable(1_750_000_000_000);
    const clock = new SubscriptionClock('tokenBucket', scheduler);
    clock.now();
    set(0);
    expect(clock.now()).toBeNaN();
    expect(clock.error?.message).toMatch(
      /^tokenBucket: the scheduler's clock went backwards, from 1750000000000 to 0 \(ms\)\. Most likely/,
    );
    const first = clock.error;
    set(5);
    expect(clock.now()).toBeNaN(); // sticky, even though the clock moved forward again
    set(2_000_000_000_000);
    expect(clock.now()).toBeNaN();
    expect(clock.error).toBe(first);
  });

  it('treats a NaN reading as a broken clock', () => {
    const { scheduler, set } = settable(0);
    const clock = new SubscriptionClock('leakyBucket', scheduler);
    clock.now();
    set(NaN);
    expect(clock.now()).toBeNaN();
    expect(clock.error).toEqual(
      new Error("leakyBucket: the scheduler's now() returned NaN (number), not a time in ms"),
    );
  });

  it('reads nothing until asked: the first read is the baseline', () => {
    const now = jest.fn(() => 42);
    const clock = new SubscriptionClock('op', { now, schedule: jest.fn() });
    expect(now).not.toHaveBeenCalled();
    expect(clock.now()).toBe(42);
    expect(now).toHaveBeenCalledTimes(1);
  });
});
