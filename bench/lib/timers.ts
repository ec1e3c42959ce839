/**
 * Counting timers: how many a piece of code creates and how many are pending at once.
 *
 * Two ways, for the two kinds of clock a benchmark runs on:
 * - `countGlobalTimers` replaces the global `setTimeout`/`setInterval` (and their `clear*`) while an
 *   async job runs, so that it sees every real timer, whoever creates it (RxJS's `asyncScheduler`,
 *   Bottleneck, `limiter`). Nothing else may run meanwhile: the harness runs one job at a time.
 *   `installTimerCounter` does the same around a synchronous job.
 * - `CountingScheduler` wraps a virtual-time `SchedulerLike` and counts the actions scheduled through
 *   it, sampling the scheduler's pending count to find the most pending at once.
 */
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

export interface TimerCount {
  /** Timers (or scheduled actions) created. */
  created: number;
  /** The most pending at any one moment. */
  maxLive: number;
}

type TimerHandle = ReturnType<typeof setTimeout>;

/**
 * Replaces the global timer functions with counting ones until `restore()` is called, for a job that
 * runs synchronously (a synchronous run that may create and clear timers). A `setTimeout` is live
 * from creation until it fires or is cleared; a `setInterval` until it is cleared.
 */
export function installTimerCounter(): { timers: TimerCount; restore: () => void } {
  const g = globalThis as unknown as {
    setTimeout: typeof setTimeout;
    setInterval: typeof setInterval;
    clearTimeout: typeof clearTimeout;
    clearInterval: typeof clearInterval;
  };
  const original = {
    setTimeout: g.setTimeout,
    setInterval: g.setInterval,
    clearTimeout: g.clearTimeout,
    clearInterval: g.clearInterval,
  };
  const live = new Set<unknown>();
  const timers: TimerCount = { created: 0, maxLive: 0 };
  const created = (handle: unknown): void => {
    timers.created++;
    live.add(handle);
    if (live.size > timers.maxLive) timers.maxLive = live.size;
  };
  const clear = (handle: unknown): void => {
    live.delete(handle);
  };

  g.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle: TimerHandle = original.setTimeout(
      (...callArgs: unknown[]) => {
        live.delete(handle);
        callback(...callArgs);
      },
      ms,
      ...args,
    );
    created(handle);
    return handle;
  }) as typeof setTimeout;
  g.setInterval = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = original.setInterval(callback, ms, ...args);
    created(handle);
    return handle;
  }) as typeof setInterval;
  g.clearTimeout = ((handle?: TimerHandle) => {
    clear(handle);
    original.clearTimeout(handle);
  }) as typeof clearTimeout;
  g.clearInterval = ((handle?: TimerHandle) => {
    clear(handle);
    original.clearInterval(handle);
  }) as typeof clearInterval;

  return {
    timers,
    restore: () => {
      Object.assign(g, original);
    },
  };
}

/**
 * Runs `job` with the global timer functions replaced by counting ones (see
 * {@link installTimerCounter}), and restores them when the job settles.
 */
export async function countGlobalTimers<R>(
  job: () => Promise<R>,
): Promise<{ result: R; timers: TimerCount }> {
  const { timers, restore } = installTimerCounter();
  try {
    const result = await job();
    return { result, timers };
  } finally {
    restore();
  }
}

/** What a {@link CountingScheduler} needs of the scheduler it wraps. */
export interface PendingCounter extends SchedulerLike {
  readonly pendingCount: number;
}

/**
 * A `SchedulerLike` that schedules on `inner` and counts: every `schedule()` call creates one action;
 * `sample()` (called by the scheduler itself and by the benchmark after each emission) records the
 * most actions pending at once. An action rescheduling itself from inside its work (`this.schedule`)
 * goes straight to `inner` and is not a new action.
 */
export class CountingScheduler implements SchedulerLike {
  readonly count: TimerCount = { created: 0, maxLive: 0 };

  constructor(private readonly inner: PendingCounter) {}

  now(): number {
    return this.inner.now();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
    this.count.created++;
    const action = this.inner.schedule(work, delay, state);
    this.sample();
    return action;
  }

  sample(): void {
    const pending = this.inner.pendingCount;
    if (pending > this.count.maxLive) this.count.maxLive = pending;
  }
}
