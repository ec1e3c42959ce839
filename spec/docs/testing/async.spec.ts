// async.spec.ts
import { firstValueFrom, of, toArray } from 'rxjs';
import { tokenBucket } from 'rxjs-backpressure';
import { resetVirtualTime, withVirtualTime } from 'rxjs-backpressure/testing';

afterEach(() => {
  resetVirtualTime(); // a hung test must not leave virtual time on for the next one
});

it('lets the second value through after a second', async () => {
  await withVirtualTime(async (scheduler) => {
    const all = firstValueFrom(
      of('a', 'b').pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1 }), toArray()),
    );
    scheduler.advanceBy(1000); // b leaves at 1000, then the output completes
    expect(await all).toEqual(['a', 'b']);
  });
});
