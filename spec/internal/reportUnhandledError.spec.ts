import { asyncScheduler, config, NEVER, Subject, type SchedulerLike } from 'rxjs';
import { bufferDropping, withVirtualTime } from 'rxjs-backpressure';
import { reportUnhandledError } from '../../src/internal/reportUnhandledError';

describe('reportUnhandledError', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('goes to config.onUnhandledError when it is set', () => {
    const seen: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (err) => seen.push(err);
    try {
      reportUnhandledError('oops');
    } finally {
      config.onUnhandledError = previous;
    }
    expect(seen).toEqual(['oops']);
  });

  it('otherwise throws from a task on the real asyncScheduler, even inside withVirtualTime', () => {
    const realSchedule = jest
      .spyOn(Object.getPrototypeOf(asyncScheduler) as SchedulerLike, 'schedule')
      .mockImplementation(() => undefined as never);
    const boom = new Error('onDrop failed');
    withVirtualTime((scheduler) => {
      const source = new Subject<number>();
      const subscription = source
        .pipe(
          bufferDropping(5, () => NEVER, {
            onDrop: () => {
              throw boom;
            },
          }),
        )
        .subscribe();
      source.next(1);
      source.next(2); // waits
      subscription.unsubscribe(); // 2 is reported 'cleared' and onDrop throws
      // Nothing is left on the virtual clock for the test to advance.
      expect(scheduler.pendingCount).toBe(0);
    });
    expect(realSchedule).toHaveBeenCalledTimes(1);
    const work = realSchedule.mock.calls[0]![0];
    expect(() => work.call(undefined as never, undefined)).toThrow(boom);
  });
});
