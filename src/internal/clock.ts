import type { SchedulerLike } from 'rxjs';
import { describe } from './validate.js';

/**
 * How far the clock may step back between two reads before it counts as a mistake rather than a
 * wall-clock correction. `Date.now()` (what `asyncScheduler` reads) is not monotonic: NTP and virtual
 * machines step it back by fractions of a second, and a rate limiter must ride that out as it always
 * has (it waits a little longer). The mistake this guards against, a subscription that read the real
 * clock and later reads a virtual one, steps back by decades.
 */
export const CLOCK_BACKWARDS_TOLERANCE_MS = 1000;

/**
 * The clock of one subscription of a time-reading operator: every read goes through `now()`, which
 * notices when the scheduler's clock goes backwards by more than
 * {@link CLOCK_BACKWARDS_TOLERANCE_MS} between two reads.
 *
 * The usual cause is a subscription made before `withVirtualTime` was entered (an Angular service
 * injected in `beforeEach` subscribes in its constructor): it read `Date.now()` when it subscribed and
 * reads the virtual clock, decades earlier, afterwards. Its timers sit on the real clock and its math
 * waits for a time the virtual clock will never reach, so without this check it would never emit
 * and nothing would say why.
 *
 * Cost per read: one subtraction, one comparison and one store. The guard does not throw: a read
 * that sees the clock go back returns `NaN` (and so does every later read), which every comparison
 * treats as false, so a gate such as `readyAt - now() <= 0` simply stays closed. The operator then
 * fails the stream with {@link SubscriptionClock.error} at its next decision point (the token bucket
 * does it where it would schedule its timer or go idle), through the queue, so that waiting values
 * are reported `'cleared'` as on any error.
 */
export class SubscriptionClock {
  /** The last time read; `Infinity` once the clock went back, so every later read fails too. */
  private last = -Infinity;
  /** The error to fail the stream with, once the clock went backwards; `undefined` until then. */
  error: Error | undefined = undefined;

  /**
   * Create one per subscription, and read it at once: the first read is what later ones are checked
   * against.
   * @param operator The operator's name, for the error message.
   * @param scheduler The scheduler the operator reads time from.
   */
  constructor(
    private readonly operator: string,
    private readonly scheduler: SchedulerLike,
  ) {}

  /** The scheduler's time, or `NaN` once it has gone backwards (see {@link SubscriptionClock.error}). */
  now(): number {
    const t = this.scheduler.now();
    // Written as a negated >= so that a NaN time fails the check too.
    if (!(t >= this.last - CLOCK_BACKWARDS_TOLERANCE_MS)) return this.wentBackwards(t);
    this.last = t;
    return t;
  }

  private wentBackwards(t: number): number {
    this.error ??= clockWentBackwardsError(this.operator, this.last, t);
    this.last = Infinity;
    return NaN;
  }
}

/** The error a time-reading operator fails with when its scheduler's clock goes backwards. */
export function clockWentBackwardsError(operator: string, before: number, after: unknown): Error {
  if (typeof after !== 'number' || after !== after) {
    return new Error(`${operator}: the scheduler's now() returned ${describe(after)}, not a time in ms`);
  }
  return new Error(
    `${operator}: the scheduler's clock went backwards, from ${String(before)} to ${String(after)} (ms). ` +
      'Most likely this subscription was subscribed before withVirtualTime was entered: it read the ' +
      'real clock when it subscribed and reads the virtual clock now, so it would wait forever. ' +
      'Subscribe (or inject the service) inside withVirtualTime, or pass a scheduler to ' +
      `${operator}. (A wall clock stepped back by more than ${String(CLOCK_BACKWARDS_TOLERANCE_MS)} ms ` +
      'does this too.)',
  );
}
