import type { Observable } from 'rxjs';
import { CircuitBreaker, type CircuitBreakerOptions } from 'rxjs-backpressure';
import { testScheduler } from '../helpers/marbles';
import { calls, letters } from './harness';

/*
 * Issue 10, rules 2-5: every transition of every trip rule, with both kinds of window.
 *
 * Calls go through `guard()` (see `calls` in the harness): `s` succeeds after 1 ms, `f` fails after
 * 1 ms, `S` succeeds after 3 ms (slow: slowCallDuration is 3), `h` hangs. The output shows each end:
 * `s` a success, `x` a failure, `r` a refusal. `state$` is shown as c closed, o open, h half-open.
 */

const WINDOWS: { label: string; window: CircuitBreakerOptions['window'] }[] = [
  { label: 'window { calls: 4 }', window: { calls: 4 } },
  { label: 'window { duration: 100, buckets: 4 }', window: { duration: 100, buckets: 4 } },
];

interface Rule {
  label: string;
  options: CircuitBreakerOptions;
  /** Four calls, started at 1, 3, 5 and 7, that meet the rule with the last outcome (at 8) and no earlier. */
  trip: string;
  /** The probe that fails under this rule. */
  badProbe: 'f' | 'S';
}

const RULES: Rule[] = [
  {
    label: 'consecutiveFailures: 4',
    options: { consecutiveFailures: 4 },
    trip: 'ffff',
    badProbe: 'f',
  },
  {
    label: 'failureRateThreshold: 0.5 (minimumCalls 4)',
    options: { failureRateThreshold: 0.5, minimumCalls: 4 },
    // 1/1, 2/2, 2/3 fail: all above the threshold, but below minimumCalls; 2/4 meets it.
    trip: 'ffss',
    badProbe: 'f',
  },
  {
    label: 'slowCallRateThreshold: 0.5 (slowCallDuration 3, minimumCalls 4)',
    options: { slowCallRateThreshold: 0.5, slowCallDuration: 3, minimumCalls: 4 },
    trip: 'SsSs',
    badProbe: 'S',
  },
];

function inners(cold: (marbles: string) => Observable<string>): Record<string, Observable<string>> {
  return {
    s: cold('-(s|)'),
    f: cold('-#'),
    S: cold('---(s|)'),
    h: cold('-'),
  };
}

/** When each trip call ends (`S` takes 3 ms, the others 1 ms). */
function tripEnds(trip: string): number[] {
  return trip.split('').map((k, i) => 1 + 2 * i + (k === 'S' ? 3 : 1));
}

/** A marble string with `events` (frame, letter): letters due at one frame are grouped. */
function timeline(events: [number, string][]): string {
  const last = Math.max(...events.map(([f]) => f));
  let marbles = '';
  for (let frame = 0; frame <= last; frame++) {
    const here = events.filter(([f]) => f === frame).map(([, l]) => l);
    marbles += here.length === 0 ? '-' : here.length === 1 ? here[0]! : `(${here.join('')})`;
    // A group takes as many frames as it has characters: skip the frames it covered.
    if (here.length > 1) frame += here.length + 1;
  }
  return marbles;
}

/** The source: the trip calls (`offset` ms later), then `more`. */
function source(trip: string, more: [number, string][] = [], offset = 0): string {
  return timeline([...trip.split('').map((k, i): [number, string] => [offset + 1 + 2 * i, k]), ...more]);
}

/** The output: the trip calls' ends (`x` or `s`), then `more`. */
function output(trip: string, more: [number, string][] = []): string {
  const ends = tripEnds(trip).map((end, i): [number, string] => [end, trip[i] === 'f' ? 'x' : 's']);
  return timeline([...ends, ...more]);
}

describe('CircuitBreaker transitions (issue 10, rules 2-5)', () => {
  describe.each(WINDOWS)('$label', ({ window }) => {
    describe.each(RULES)('$label', (rule) => {
      const { trip } = rule;
      const make = (extra: Partial<CircuitBreakerOptions> = {}): CircuitBreaker =>
        new CircuitBreaker({ ...rule.options, window, openDuration: 10, ...extra });

      it('closed → open at the outcome that meets the rule, and not one outcome earlier', () => {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const breaker = make();
          const calls$ = hot(source(trip, [[12, 's']])).pipe(calls(breaker, inners(cold)));
          // state$ emits nothing before 8: the first three outcomes left it closed.
          expectObservable(letters(breaker)).toBe('c-------o---------h');
          // A call after it opened is refused at once.
          expectObservable(calls$).toBe(output(trip, [[12, 'r']]));
        });
      });

      it('open → half-open at exactly openDuration, with no call needed; a good probe closes it', () => {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const breaker = make();
          const calls$ = hot(source(trip, [[20, 's']])).pipe(calls(breaker, inners(cold)));
          expectObservable(letters(breaker)).toBe('c-------o---------h--c');
          expectObservable(calls$).toBe(output(trip, [[21, 's']]));
        });
      });

      it('half-open → open on a bad probe (opens 2), then half-open again and closed by a good one', () => {
        const opens: number[] = [];
        const probe = rule.badProbe;
        const ended = probe === 'S' ? 22 : 20;
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const breaker = make({
            openDuration: (n) => {
              opens.push(n);
              return 10;
            },
          });
          // The bad probe starts at 19; the good one 1 ms after the second half-open instant.
          const calls$ = hot(
            source(trip, [
              [19, probe],
              [ended + 11, 's'],
            ]),
          ).pipe(calls(breaker, inners(cold)));
          expectObservable(letters(breaker)).toBe(
            probe === 'S' ? 'c-------o---------h---o---------h-c' : 'c-------o---------h-o---------h-c',
          );
          expectObservable(calls$).toBe(
            output(trip, [
              [ended, probe === 'S' ? 's' : 'x'],
              [ended + 12, 's'],
            ]),
          );
        });
        expect(opens).toEqual([1, 2]);
      });

      it('half-open → open when halfOpenMaxWait passes after the first probe started (a hung probe)', () => {
        const opens: number[] = [];
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const breaker = make({
            halfOpenMaxWait: 5,
            openDuration: (n) => {
              opens.push(n);
              return 10;
            },
          });
          // The hung probe starts at 19; a call at 21 is refused: the one probe slot is taken.
          const calls$ = hot(
            source(trip, [
              [19, 'h'],
              [21, 's'],
            ]),
          ).pipe(calls(breaker, inners(cold)));
          expectObservable(letters(breaker)).toBe('c-------o---------h-----o---------h');
          expectObservable(calls$).toBe(output(trip, [[21, 'r']]));
        });
        expect(opens).toEqual([1, 2]);
      });

      it('open → isolated → closed; half-open → closed on reset(); half-open → isolated', () => {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const breaker = make();
          // The trip calls three times: opening at 8, 21 and 41.
          for (const offset of [0, 13, 33]) {
            hot(source(trip, [], offset))
              .pipe(calls(breaker, inners(cold)))
              .subscribe();
          }
          const isolations: { release(): void }[] = [];
          // Isolated at 10 (open) and released at 12; reset at 32 (half-open); isolated at 52 (half-open).
          hot('----------i-r-------------------x-------------------i').subscribe((v) => {
            if (v === 'i') isolations.push(breaker.isolate());
            else if (v === 'r') isolations.pop()?.release();
            else breaker.reset();
          });
          expectObservable(letters(breaker)).toBe('c-------o-i-c--------o---------hc--------o---------hi');
        });
      });

      it('open → closed on reset(); closed → isolated → closed on release', () => {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const breaker = make();
          hot(source(trip))
            .pipe(calls(breaker, inners(cold)))
            .subscribe();
          let isolation: { release(): void } | undefined;
          hot('----------a-b-c').subscribe((v) => {
            if (v === 'a') breaker.reset();
            if (v === 'b') isolation = breaker.isolate();
            if (v === 'c') isolation?.release();
          });
          expectObservable(letters(breaker)).toBe('c-------o-c-i-c');
        });
      });
    });
  });
});
