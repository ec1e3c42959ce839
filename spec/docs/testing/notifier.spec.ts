// notifier.spec.ts
import { of } from 'rxjs';
import { withVirtualTime } from 'rxjs-backpressure/testing';
import { Notifier } from './notifier.js';

it('sends a burst of 5 at once, then one alert per second', () => {
  withVirtualTime((scheduler) => {
    const sentAt: number[] = [];
    const notifier = new Notifier(() => {
      sentAt.push(scheduler.now());
      return of('ok');
    });

    for (let i = 0; i < 8; i++) notifier.notify({ to: 'ops', text: `alert ${i}` });
    expect(sentAt).toEqual([0, 0, 0, 0, 0]); // the burst went out at once

    scheduler.advanceBy(1999);
    expect(sentAt).toEqual([0, 0, 0, 0, 0, 1000]); // then one per second

    scheduler.advanceBy(1001);
    expect(sentAt).toEqual([0, 0, 0, 0, 0, 1000, 2000, 3000]);
    expect(notifier.dropped).toEqual([]);
    expect(scheduler.pendingCount).toBe(0); // an idle bucket keeps no timer

    notifier.dispose();
  });
});
