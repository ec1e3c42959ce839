import { asyncScheduler, config, type SchedulerLike } from 'rxjs';

/**
 * Reports an error that has nowhere to go (an `onDrop` that throws while the stream is already being
 * torn down), the way RxJS reports its own: to `config.onUnhandledError` when set, otherwise thrown
 * from a scheduled task so it surfaces as an uncaught exception instead of vanishing.
 *
 * The task goes through `asyncScheduler`'s own `schedule` method, not whatever `withVirtualTime` has
 * put on the instance: an error must not wait for a test to advance its virtual clock.
 */
export function reportUnhandledError(err: unknown): void {
  const handler = config.onUnhandledError;
  if (handler) {
    handler(err);
    return;
  }
  const own = Object.getPrototypeOf(asyncScheduler) as SchedulerLike;
  own.schedule.call(asyncScheduler, () => {
    throw err;
  });
}
