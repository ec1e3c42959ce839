import { asyncScheduler, config } from 'rxjs';

/**
 * Reports an error that has nowhere to go (an `onDrop` that throws while the stream is already being
 * torn down), the way RxJS reports its own: to `config.onUnhandledError` when set, otherwise thrown
 * from a scheduled task so it surfaces as an uncaught exception instead of vanishing.
 */
export function reportUnhandledError(err: unknown): void {
  const handler = config.onUnhandledError;
  if (handler) {
    handler(err);
    return;
  }
  asyncScheduler.schedule(() => {
    throw err;
  });
}
