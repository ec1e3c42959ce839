import { CircuitBreaker, type CircuitBreakerOptions } from 'rxjs-backpressure';
import { CountWindow, TimeWindow } from '../../src/breaker/windows';
import { caller, manual, type Call } from './harness';

/*
 * Issue 10, rule 3: the window the rate rules read. `{ calls: n }` is the last n counted outcomes;
 * `{ duration, buckets }` counts outcomes by the time they ended, in buckets aligned to the breaker's
 * creation, the current bucket and the `buckets - 1` before it, across idle gaps of any length.
 */

/** Runs calls that end at once, one after the other: `s` success, `f` failure. */
function run(call: (name?: string) => Call, outcomes: string): void {
  for (const o of outcomes) {
    const c = call();
    if (c.status !== 'running') continue;
    if (o === 's') c.succeed();
    else c.fail();
  }
}

function setup(options: Omit<CircuitBreakerOptions, 'scheduler'>, start = 0) {
  const scheduler = manual(start);
  const breaker = new CircuitBreaker({ ...options, scheduler });
  return { scheduler, breaker, call: caller(breaker) };
}

describe('breaker windows (issue 10, rule 3)', () => {
  describe('{ duration, buckets }', () => {
    // Buckets of 25 ms; the window is the current bucket and the 3 before it.
    const window = { duration: 100, buckets: 4 };

    it("buckets are aligned to the breaker's creation time, not to 0", () => {
      // Created at 1010: buckets [1010, 1035), [1035, 1060), ... A failure at 1034 is in the first one.
      const at1110 = setup({ failureRateThreshold: 1, minimumCalls: 2, window }, 1010);
      at1110.scheduler.advanceTo(1034);
      run(at1110.call, 'f');
      at1110.scheduler.advanceTo(1110); // the fifth bucket: the first one has left the window
      run(at1110.call, 'f');
      expect(at1110.breaker.state).toBe('closed');
      at1110.scheduler.advanceTo(1111);
      run(at1110.call, 'f');
      expect(at1110.breaker.state).toBe('open');

      const at1109 = setup({ failureRateThreshold: 1, minimumCalls: 2, window }, 1010);
      at1109.scheduler.advanceTo(1034);
      run(at1109.call, 'f');
      at1109.scheduler.advanceTo(1109); // still the fourth bucket: the first one counts
      run(at1109.call, 'f');
      expect(at1109.breaker.state).toBe('open');
    });

    it('the window is whole buckets: an outcome counts until its bucket leaves, not for exactly `duration` ms', () => {
      // An outcome at 0 counts at 99 (99 ms later); one at 24 does not count at 100 (76 ms later).
      const early = setup({ failureRateThreshold: 1, minimumCalls: 2, window });
      run(early.call, 'f');
      early.scheduler.advanceTo(99);
      run(early.call, 'f');
      expect(early.breaker.state).toBe('open');

      const late = setup({ failureRateThreshold: 1, minimumCalls: 2, window });
      late.scheduler.advanceTo(24);
      run(late.call, 'f');
      late.scheduler.advanceTo(100);
      run(late.call, 'f');
      expect(late.breaker.state).toBe('closed');
    });

    it('counts by the time the call ended, not when it started', () => {
      const { breaker, call, scheduler } = setup({ failureRateThreshold: 1, minimumCalls: 2, window });
      const long = call('long');
      scheduler.advanceTo(150);
      long.fail(); // started at 0, ended at 150: in the window of 150
      run(call, 'f');
      expect(breaker.state).toBe('open');
    });

    it('outcomes spread over several buckets leave one bucket at a time', () => {
      const { breaker, call, scheduler } = setup({ failureRateThreshold: 0.5, minimumCalls: 4, window });
      scheduler.advanceTo(10);
      run(call, 'f'); // bucket 0
      scheduler.advanceTo(60);
      run(call, 'ss'); // bucket 2
      // At 110 (bucket 4) bucket 0 has left: s s f is 3 calls, below minimumCalls (with it: 2/4).
      scheduler.advanceTo(110);
      run(call, 'f');
      expect(breaker.state).toBe('closed');
      // Bucket 2 still counts: s s f f = 2/4.
      run(call, 'f');
      expect(breaker.state).toBe('open');
    });

    it('works with a bucket width that is not a whole number of ms (100 ms in 3 buckets)', () => {
      const make = () =>
        setup({ failureRateThreshold: 1, minimumCalls: 2, window: { duration: 100, buckets: 3 } });
      // Buckets [0, 33.3), [33.3, 66.7), [66.7, 100), [100, 133.3)...
      const inside = make();
      inside.scheduler.advanceTo(33);
      run(inside.call, 'f');
      inside.scheduler.advanceTo(99);
      run(inside.call, 'f');
      expect(inside.breaker.state).toBe('open');

      const outside = make();
      outside.scheduler.advanceTo(33);
      run(outside.call, 'f');
      outside.scheduler.advanceTo(101);
      run(outside.call, 'f');
      expect(outside.breaker.state).toBe('closed');
    });

    it('buckets defaults to 10', () => {
      const { breaker, call, scheduler } = setup({
        failureRateThreshold: 1,
        minimumCalls: 2,
        window: { duration: 100 },
      });
      scheduler.advanceTo(9);
      run(call, 'f'); // bucket [0, 10)
      scheduler.advanceTo(100); // bucket 10: [0, 10) has left
      run(call, 'f');
      expect(breaker.state).toBe('closed');
      scheduler.advanceTo(109);
      run(call, 'f'); // [10, 20)... [100, 110): the failure at 100 counts
      expect(breaker.state).toBe('open');
    });

    describe('old outcomes never count after an idle gap of any length (cockatiel #64, as a regression test)', () => {
      const GAPS = [100, 101, 125, 150, 199, 200, 375, 400, 1_000, 12_345, 1e9, 2 ** 40];

      it.each(GAPS)('a gap of %d ms', (gap) => {
        const { breaker, call, scheduler } = setup({ failureRateThreshold: 0.5, minimumCalls: 4, window });
        run(call, 'sff'); // 2/3, below minimumCalls
        scheduler.advanceBy(gap);
        // Were the old outcomes kept, one success would make 2/4 and open it.
        run(call, 's');
        expect(breaker.state).toBe('closed');
        run(call, 'ff'); // s f f: 2/3
        expect(breaker.state).toBe('closed');
        run(call, 'f'); // 3/4: the window works after the gap
        expect(breaker.state).toBe('open');
      });

      it('the same calls inside the window (a gap of 99 ms) do open it', () => {
        const { breaker, call, scheduler } = setup({ failureRateThreshold: 0.5, minimumCalls: 4, window });
        run(call, 'sff');
        scheduler.advanceBy(99);
        run(call, 's');
        expect(breaker.state).toBe('open');
      });

      it('repeated gaps that land on the same bucket slot (multiples of the duration)', () => {
        const { breaker, call, scheduler } = setup({ failureRateThreshold: 1, minimumCalls: 2, window });
        for (let i = 0; i < 50; i++) {
          run(call, 'f');
          scheduler.advanceBy(100);
        }
        expect(breaker.state).toBe('closed');
      });
    });

    it('consecutiveFailures is not a window: a run of failures survives an idle gap', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 2, window });
      run(call, 'f');
      scheduler.advanceBy(1e6);
      run(call, 'f');
      expect(breaker.state).toBe('open');
    });
  });

  describe('{ calls: n }', () => {
    it('counts the last n outcomes whatever their age', () => {
      const { breaker, call, scheduler } = setup({ failureRateThreshold: 0.5, window: { calls: 4 } });
      run(call, 'ff');
      scheduler.advanceBy(1e9);
      run(call, 's');
      expect(breaker.state).toBe('closed');
      run(call, 's');
      expect(breaker.state).toBe('open');
    });
  });

  describe('the window classes', () => {
    it('TimeWindow totals match a brute-force count over its outcomes, across gaps', () => {
      const origin = 7;
      const w = new TimeWindow(60, 6, origin);
      const outcomes: [number, boolean, boolean][] = [];
      let time = origin;
      const steps = [
        0, 1, 3, 9, 10, 11, 59, 60, 61, 119, 250, 0, 0, 7, 600, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
      ];
      steps.forEach((step, i) => {
        time += step;
        const failed = i % 3 === 0;
        const slow = i % 4 === 1;
        w.record(time, failed, slow);
        outcomes.push([time, failed, slow]);
        for (const probe of [time, time + 4, time + 13, time + 61]) {
          const current = Math.floor((probe - origin) / 10);
          const inside = outcomes.filter(([t]) => Math.floor((t - origin) / 10) > current - 6);
          expect(w.totals(probe)).toEqual({
            calls: inside.length,
            failures: inside.filter(([, f]) => f).length,
            slow: inside.filter(([, , s]) => s).length,
          });
        }
      });
    });

    it('CountWindow keeps the last n outcomes in a ring', () => {
      const w = new CountWindow(3);
      w.record(0, true, false);
      w.record(0, false, true);
      expect(w.totals()).toEqual({ calls: 2, failures: 1, slow: 1 });
      w.record(0, true, true);
      w.record(0, false, false); // the first leaves
      expect(w.totals()).toEqual({ calls: 3, failures: 1, slow: 2 });
      w.clear();
      expect(w.totals()).toEqual({ calls: 0, failures: 0, slow: 0 });
    });

    it('CountWindow totals and toJSON match the last n outcomes, oldest first, as the ring wraps', () => {
      for (const size of [1, 2, 3, 5]) {
        const w = new CountWindow(size);
        const flags: number[] = [];
        for (let i = 0; i < 4 * size + 3; i++) {
          if (i === 2 * size + 1) {
            w.clear();
            flags.length = 0;
          }
          const failed = i % 3 === 0;
          const slow = i % 4 === 1 || i % 5 === 2;
          w.record(0, failed, slow);
          flags.push((failed ? 1 : 0) | (slow ? 2 : 0));
          const last = flags.slice(-size);
          expect(w.toJSON()).toEqual({ kind: 'calls', outcomes: last });
          expect(w.totals()).toEqual({
            calls: last.length,
            failures: last.filter((f) => f & 1).length,
            slow: last.filter((f) => f & 2).length,
          });
          const copy = new CountWindow(size);
          copy.restore(w.toJSON());
          expect(copy.toJSON()).toEqual(w.toJSON());
        }
      }
    });
  });
});
