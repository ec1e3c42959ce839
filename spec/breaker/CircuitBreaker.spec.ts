import { take, takeUntil } from 'rxjs';
import {
  CallTimeoutError,
  CircuitBreaker,
  CircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitBreakerSnapshot,
  type CircuitState,
} from 'rxjs-backpressure';
import { errorShape, testScheduler } from '../helpers/marbles';
import { caller, calls, change, letters, manual, recordStates, type Call } from './harness';

/*
 * Issue 10, the breaker itself (rules 1-5, 8-10 and the details), driven through `guard()`: each
 * subscription is one call. Marble tests show timelines; a ManualTimeScheduler drives the rest, so
 * `pendingCount` counts the breaker's own scheduled actions.
 */

const ignorable = new Error('ignorable');
const isFailure = (e: unknown): boolean => e !== ignorable;

/** A snapshot with a time window's buckets in order of age. */
function normalized(snapshot: CircuitBreakerSnapshot): CircuitBreakerSnapshot {
  const { window } = snapshot;
  if (window.kind === 'calls') return snapshot;
  return { ...snapshot, window: { ...window, buckets: [...window.buckets].sort((a, b) => a.age - b.age) } };
}

/** A breaker on a manual scheduler, with a call starter. */
function setup(options: Omit<CircuitBreakerOptions, 'scheduler'>, start = 0) {
  const scheduler = manual(start);
  const breaker = new CircuitBreaker({ ...options, scheduler });
  return { scheduler, breaker, call: caller(breaker) };
}

/** Runs `n` calls one after the other, each ending at once as `outcome` says. */
function run(call: (name?: string) => Call, outcomes: string): Call[] {
  return outcomes.split('').map((o, i) => {
    const c = call(`call ${String(i)} (${o})`);
    if (c.status !== 'running') return c;
    if (o === 's') c.succeed();
    else if (o === 'f') c.fail();
    else if (o === 'i') c.fail(ignorable);
    else if (o === 'c') c.cancel();
    else throw new Error(`unknown outcome ${o}`);
    return c;
  });
}

describe('CircuitBreaker (issue 10)', () => {
  describe('rule 1: a call and its outcome', () => {
    it('a success ends a run of failures; failures in a row open it', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 2, openDuration: 10 });
        const inners = { s: cold('-(s|)'), f: cold('-#') };
        const source = hot('-f-s-f-f-s');
        const expected = '  --x-s-x-xr';
        expectObservable(source.pipe(calls(breaker, inners))).toBe(expected);
        expectObservable(letters(breaker)).toBe('c-------o---------h');
      });
    });

    it('an error isFailure refuses is ignored: not counted, and neither ends nor extends a run', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 2, isFailure, openDuration: 10 });
        const inners = { i: cold('-#', undefined, ignorable), f: cold('-#') };
        // i i i: nothing; f i f: two failures in a row (the ignored one between does not break the run).
        const source = hot('-i-i-i-f-i-f');
        expectObservable(source.pipe(calls(breaker, inners))).toBe('--x-x-x-x-x-x');
        expectObservable(letters(breaker)).toBe('c-----------o---------h');
      });
    });

    it('a cancelled call is not counted, and neither ends nor extends a run', () => {
      const { breaker, call } = setup({ consecutiveFailures: 2 });
      run(call, 'f');
      run(call, 'cccc');
      expect(breaker.state).toBe('closed');
      run(call, 'f');
      expect(breaker.state).toBe('open');
    });

    it('an ignored or cancelled call is never counted by the rate rules either', () => {
      const { breaker, call } = setup({ failureRateThreshold: 0.5, window: { calls: 4 }, isFailure });
      run(call, 'fiiccss');
      // Counted: f s s (1/3): below minimumCalls 4; one more success makes 1/4.
      run(call, 's');
      expect(breaker.state).toBe('closed');
      run(call, 'f');
      // The window is the last four counted outcomes: f s s s, then s s s f: 1/4 each time.
      expect(breaker.state).toBe('closed');
      run(call, 'f');
      expect(breaker.state).toBe('open');
    });

    it('a call is slow when it takes >= slowCallDuration, whatever its outcome', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({
          slowCallRateThreshold: 1,
          slowCallDuration: 3,
          minimumCalls: 2,
          window: { calls: 2 },
          isFailure,
          openDuration: 10,
        });
        const inners = {
          q: cold('--(s|)'), //          2 ms: not slow
          S: cold('---(s|)'), //         3 ms: slow success
          F: cold('---#'), //            3 ms: slow failure
          I: cold('---#', undefined, ignorable), // slow, but ignored: not counted
        };
        // q S: 1/2 slow. S I: I is not counted. F: S F, both slow: 2/2 opens at 14.
        const source = hot('-q--S---I---F');
        expectObservable(source.pipe(calls(breaker, inners))).toBe('---s---s---x---x');
        expectObservable(letters(breaker)).toBe('c--------------o---------h');
      });
    });

    it('an outcome after the breaker changed state is not counted: it cannot reopen, extend or decide', () => {
      const opens: number[] = [];
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({
          consecutiveFailures: 1,
          openDuration: (n) => {
            opens.push(n);
            return 10;
          },
        });
        const inners = {
          a: cold('-#'), //                     fails at 2: opens it (half-open at 12)
          b: cold('-----#'), //                 started closed, fails at 6 while open: does not extend it
          c: cold('------------#'), //          started closed, fails at 13 while half-open: does not reopen it
          d: cold('-----------------(s|)'), //  started closed, succeeds at 18 while open again: does not close it
          p: cold('-(s|)'),
          f: cold('-#'),
        };
        const source = hot('-(abcd)-------f-----p-----p');
        const expected = '  --x---x------x-x--s-r------s';
        expectObservable(source.pipe(calls(breaker, inners))).toBe(expected);
        expectObservable(letters(breaker)).toBe('c-o---------h--o---------h-c');
      });
      expect(opens).toEqual([1, 2]);
    });
  });

  describe('rule 2: closed, and when the rate rules apply', () => {
    it.each([
      ['window { calls: 100 } (the default)', undefined, 10],
      ['window { calls: 20 }', { calls: 20 }, 10],
      ['window { calls: 3 }', { calls: 3 }, 3],
      ['window { duration: 1000 }', { duration: 1000 }, 10],
    ] as const)(
      'minimumCalls defaults to min(10, n) for calls, 10 for a duration: %s',
      (_, window, minimum) => {
        const { breaker, call } = setup({ failureRateThreshold: 1, window });
        run(call, 'f'.repeat(minimum - 1));
        expect(breaker.state).toBe('closed');
        run(call, 'f');
        expect(breaker.state).toBe('open');
      },
    );

    it('minimumCalls given: the rate rules wait for that many calls in the window', () => {
      const { breaker, call } = setup({ failureRateThreshold: 0.1, minimumCalls: 5, window: { calls: 10 } });
      run(call, 'ffff');
      expect(breaker.state).toBe('closed');
      run(call, 's');
      expect(breaker.state).toBe('open');
    });

    it('minimumCalls does not hold back consecutiveFailures', () => {
      const { breaker, call } = setup({ consecutiveFailures: 2, failureRateThreshold: 1, minimumCalls: 50 });
      run(call, 'ff');
      expect(breaker.state).toBe('open');
    });

    it.each([
      ['3/4 failures with threshold 0.75: at the threshold, opens', 0.75, 'fsff', 'open'],
      ['2/4 failures with threshold 0.75: below, stays closed', 0.75, 'fsfs', 'closed'],
      ['4/4 failures with threshold 1: opens', 1, 'ffff', 'open'],
      ['3/4 failures with threshold 1: stays closed', 1, 'sfff', 'closed'],
    ] as const)('failureRateThreshold is >=: %s', (_, threshold, outcomes, state) => {
      const { breaker, call } = setup({ failureRateThreshold: threshold, window: { calls: 4 } });
      run(call, outcomes);
      expect(breaker.state).toBe(state);
    });

    it('{ calls: n } counts the last n counted outcomes: older ones slide out', () => {
      const { breaker, call } = setup({ failureRateThreshold: 0.5, window: { calls: 4 } });
      // f s s s: 1/4; s s s s: 0/4 (the f slid out); s s s f: 1/4; s s f f: 2/4 opens.
      run(call, 'fsssss');
      run(call, 'f');
      expect(breaker.state).toBe('closed');
      run(call, 'f');
      expect(breaker.state).toBe('open');
    });

    it('any one rule that is met opens it (the rules are checked after every counted outcome)', () => {
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 5,
        failureRateThreshold: 0.9,
        slowCallRateThreshold: 0.5,
        slowCallDuration: 10,
        window: { calls: 4 },
      });
      const slow = call();
      scheduler.advanceBy(10);
      slow.succeed();
      run(call, 'ss');
      expect(breaker.state).toBe('closed');
      const slow2 = call();
      scheduler.advanceBy(10);
      slow2.succeed();
      expect(breaker.state).toBe('open');
    });
  });

  describe('rule 4: open', () => {
    it('refuses every call without running it: CircuitOpenError with the open time left', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 100 });
      scheduler.advanceTo(5);
      run(call, 'f');
      scheduler.advanceTo(35);
      expect(breaker.state).toBe('open');
      const refused = call();
      expect(refused.status).toBe('refused');
      expect(refused.ran).toBe(false);
      expect(refused.error).toBeInstanceOf(CircuitOpenError);
      expect(errorShape(refused.error as Error)).toEqual(errorShape(new CircuitOpenError('open', 70)));
      expect(refused.error).toMatchObject({ name: 'CircuitOpenError', state: 'open', retryAfter: 70 });
    });

    it('turns half-open at exactly openedAt + openDuration for whoever looks, with no timer', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 100 });
      scheduler.advanceTo(5);
      run(call, 'f');
      expect(scheduler.pendingCount).toBe(0);
      scheduler.advanceTo(104);
      expect(breaker.state).toBe('open');
      expect(call().status).toBe('refused');
      scheduler.advanceTo(105);
      expect(breaker.state).toBe('half-open');
      const probe = call();
      expect(probe.status).toBe('running');
      expect(scheduler.pendingCount).toBe(0);
    });

    it('a call is the first to look: it runs as a probe at the half-open instant', () => {
      const { call, scheduler, breaker } = setup({ consecutiveFailures: 1, openDuration: 100 });
      run(call, 'f');
      scheduler.advanceTo(100);
      const states = recordStates(breaker, scheduler);
      expect(states.log).toEqual([[100, 'half-open', 100]]);
      const probe = call();
      expect(probe.ran).toBe(true);
      expect(call().status).toBe('refused');
    });

    it('openDuration 0: half-open at the instant it opened', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 0 });
        const source = hot('-f---s');
        expectObservable(source.pipe(calls(breaker, { f: cold('-#'), s: cold('-(s|)') }))).toBe('--x---s');
        expectObservable(letters(breaker)).toBe('c-(oh)c');
      });
    });

    it('openDuration as a function: gets 1, 2, 3... for consecutive opens without closing, 1 after closing', () => {
      const opens: number[] = [];
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 1,
        halfOpenMaxWait: 7,
        openDuration: (n) => {
          opens.push(n);
          return n * 10;
        },
      });
      const states = recordStates(breaker, scheduler);
      run(call, 'f'); //                               opens 1 at 0: half-open at 10
      scheduler.advanceTo(10);
      run(call, 'f'); //                               the probe fails: opens 2, half-open at 30
      scheduler.advanceTo(30);
      call(); //                                       a hung probe: halfOpenMaxWait opens it (3) at 37
      scheduler.advanceTo(37 + 30);
      run(call, 'f'); //                               opens 4 at 67: half-open at 107
      scheduler.advanceTo(107);
      run(call, 's'); //                               closes
      run(call, 'f'); //                               opens 1 again at 107
      expect(opens).toEqual([1, 2, 3, 4, 1]);
      expect(states.log.map(([at, state]) => [at, state])).toEqual([
        [0, 'closed'],
        [0, 'open'],
        [10, 'half-open'],
        [10, 'open'],
        [30, 'half-open'],
        [37, 'open'],
        [67, 'half-open'],
        [67, 'open'],
        [107, 'half-open'],
        [107, 'closed'],
        [107, 'open'],
      ]);
    });
  });

  describe('rule 5: half-open', () => {
    /** A breaker opened at 0 and half-open at 10. */
    function halfOpen(options: Partial<CircuitBreakerOptions> = {}, trip = 'f') {
      const opens: number[] = [];
      const setupResult = setup({
        consecutiveFailures: 1,
        openDuration: (n) => {
          opens.push(n);
          return 10;
        },
        ...options,
      });
      run(setupResult.call, trip);
      setupResult.scheduler.advanceTo(10);
      expect(setupResult.breaker.state).toBe('half-open');
      return { ...setupResult, opens };
    }

    it('lets at most halfOpenProbes calls run at once; others are refused with retryAfter 0', () => {
      const { breaker, call } = halfOpen({ halfOpenProbes: 3 });
      const probes = [call('p1'), call('p2'), call('p3')];
      expect(probes.map((p) => p.status)).toEqual(['running', 'running', 'running']);
      const refused = call();
      expect(refused.status).toBe('refused');
      expect(refused.error).toMatchObject({ state: 'half-open', retryAfter: 0 });
      expect(errorShape(refused.error as Error)).toEqual(errorShape(new CircuitOpenError('half-open', 0)));
      // A success frees its slot (one more probe may run), but three successes are needed to close.
      probes[0]!.succeed();
      expect(breaker.state).toBe('half-open');
      const p4 = call('p4');
      expect(p4.status).toBe('running');
      expect(call().status).toBe('refused');
      probes[1]!.succeed();
      expect(breaker.state).toBe('half-open');
      probes[2]!.succeed();
      expect(breaker.state).toBe('closed');
      // p4 started in half-open: its outcome after the close is not counted.
      p4.fail();
      expect(breaker.state).toBe('closed');
    });

    it('closing clears the window and the run of failures, and opens goes back to 0', () => {
      const { breaker, call, opens } = halfOpen(
        { consecutiveFailures: 3, failureRateThreshold: 0.5, window: { calls: 4 } },
        'sfff',
      );
      run(call, 's');
      expect(breaker.state).toBe('closed');
      // Before it opened, the window held s f f f. Kept, f f s would make it f f f s (3/4); cleared, the
      // window holds three calls, below minimumCalls, and the run of failures is 0.
      run(call, 'ffs');
      expect(breaker.state).toBe('closed');
      run(call, 'f');
      expect(breaker.state).toBe('open');
      expect(opens).toEqual([1, 1]);
    });

    it('the first failed probe opens it again with opens + 1; the other probes then count for nothing', () => {
      const { breaker, call, opens, scheduler } = halfOpen({ halfOpenProbes: 2 });
      const p1 = call('p1');
      const p2 = call('p2');
      p1.fail();
      expect(breaker.state).toBe('open');
      expect(opens).toEqual([1, 2]);
      p2.succeed();
      expect(breaker.state).toBe('open');
      scheduler.advanceTo(20);
      expect(breaker.state).toBe('half-open');
    });

    it('a slow probe opens it again when a slow rule is set', () => {
      const { breaker, call, opens, scheduler } = halfOpen({
        slowCallRateThreshold: 0.5,
        slowCallDuration: 5,
      });
      const probe = call();
      scheduler.advanceBy(5);
      probe.succeed();
      expect(breaker.state).toBe('open');
      expect(opens).toEqual([1, 2]);
    });

    it('a slow probe is a good probe when no slow rule is set (slowCallDuration alone)', () => {
      const { breaker, call, scheduler } = halfOpen({ slowCallDuration: 5 });
      const probe = call();
      scheduler.advanceBy(50);
      probe.succeed();
      expect(breaker.state).toBe('closed');
    });

    it('halfOpenMaxWait: a hung probe opens it again at first probe start + halfOpenMaxWait', () => {
      const { breaker, call, opens, scheduler } = halfOpen({ halfOpenMaxWait: 6, halfOpenProbes: 2 });
      const states = recordStates(breaker, scheduler);
      scheduler.advanceTo(12);
      const p1 = call('p1');
      scheduler.advanceTo(14);
      const p2 = call('p2');
      p1.succeed();
      scheduler.advanceTo(17);
      expect(breaker.state).toBe('half-open');
      scheduler.advanceTo(18);
      expect(breaker.state).toBe('open');
      expect(opens).toEqual([1, 2]);
      // The hung probe's later outcome is not counted: neither its success nor its failure decides.
      scheduler.advanceTo(28);
      expect(breaker.state).toBe('half-open');
      p2.succeed();
      expect(breaker.state).toBe('half-open');
      expect(states.log).toEqual([
        [10, 'half-open', 10],
        [18, 'open', 18],
        [28, 'half-open', 28],
      ]);
    });

    it('halfOpenMaxWait: a hung probe that fails later does not reopen the next half-open', () => {
      const { breaker, call, scheduler } = halfOpen({ halfOpenMaxWait: 5 });
      const hung = call('hung');
      scheduler.advanceTo(15);
      expect(breaker.state).toBe('open');
      scheduler.advanceTo(25);
      expect(breaker.state).toBe('half-open');
      hung.fail();
      expect(breaker.state).toBe('half-open');
      const probe = call();
      expect(probe.status).toBe('running');
      probe.succeed();
      expect(breaker.state).toBe('closed');
    });

    it('halfOpenMaxWait counts from the first probe, not from the half-open instant', () => {
      const { breaker, call, scheduler } = halfOpen({ halfOpenMaxWait: 5 });
      expect(scheduler.pendingCount).toBe(0);
      scheduler.advanceTo(100);
      expect(breaker.state).toBe('half-open');
      call();
      expect(scheduler.pendingCount).toBe(1);
      scheduler.advanceTo(104);
      expect(breaker.state).toBe('half-open');
      scheduler.advanceTo(105);
      expect(breaker.state).toBe('open');
    });

    it('a decision before halfOpenMaxWait cancels its action', () => {
      const { breaker, call, scheduler } = halfOpen({ halfOpenMaxWait: 5 });
      const probe = call();
      expect(scheduler.pendingCount).toBe(1);
      probe.succeed();
      expect(breaker.state).toBe('closed');
      expect(scheduler.pendingCount).toBe(0);
    });

    it('a cancelled probe releases its permit (resilience4j stuck half-open, as a regression test)', () => {
      const { breaker, call } = halfOpen();
      for (let i = 0; i < 100; i++) {
        const probe = call(`probe ${String(i)}`);
        expect(probe.status).toBe('running');
        expect(call().status).toBe('refused');
        probe.cancel();
        expect(breaker.state).toBe('half-open');
      }
      const last = call();
      expect(last.status).toBe('running');
      last.succeed();
      expect(breaker.state).toBe('closed');
    });

    it('an ignored probe releases its permit and decides nothing', () => {
      const { breaker, call } = halfOpen({ isFailure });
      const probe = call();
      probe.fail(ignorable);
      expect(breaker.state).toBe('half-open');
      const next = call();
      expect(next.status).toBe('running');
      next.succeed();
      expect(breaker.state).toBe('closed');
    });

    it('a probe cancelled by take() downstream releases its permit (marbles)', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 5 });
        const first = cold('-#');
        const hung = cold('----------(s|)');
        const probe = cold('-(s|)');
        hot('-a').subscribe(() => first.pipe(breaker.guard()).subscribe({ error: () => undefined }));
        // At 8 a probe starts; its subscriber leaves at 10, before it ends.
        const leave = hot('----------a');
        hot('--------a').subscribe(() => hung.pipe(breaker.guard(), takeUntil(leave)).subscribe());
        const late = hot('-----------p');
        expectObservable(late.pipe(calls(breaker, { p: probe }))).toBe('------------s');
        expectSubscriptions(hung.subscriptions).toBe('--------^-!');
        expectObservable(letters(breaker)).toBe('c-o----h----c');
      });
    });
  });

  describe('many in-flight calls failing at once while it opens (opossum #385, as a regression test)', () => {
    it('opens once; the other failures are not counted; half-open on time; a good probe closes it', () => {
      const opens: number[] = [];
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 3,
        openDuration: (n) => {
          opens.push(n);
          return 100;
        },
      });
      const states = recordStates(breaker, scheduler);
      const inFlight = Array.from({ length: 20 }, (_, i) => call(`in flight ${String(i)}`));
      scheduler.advanceTo(10);
      for (const c of inFlight.slice(0, 12)) c.fail();
      expect(breaker.state).toBe('open');
      scheduler.advanceTo(50);
      for (const c of inFlight.slice(12, 16)) c.fail();
      scheduler.advanceTo(110);
      expect(breaker.state).toBe('half-open');
      const probe = call('probe');
      // In-flight calls from before the open fail while the probe runs: they decide nothing.
      for (const c of inFlight.slice(16, 19)) c.fail();
      expect(breaker.state).toBe('half-open');
      probe.succeed();
      expect(breaker.state).toBe('closed');
      // The last one fails after it closed: it started two states ago, so it is not counted either.
      inFlight[19]!.fail();
      run(call, 'ff');
      expect(breaker.state).toBe('closed');
      expect(opens).toEqual([1]);
      expect(states.log).toEqual([
        [0, 'closed', 0],
        [10, 'open', 10],
        [110, 'half-open', 110],
        [110, 'closed', 110],
      ]);
    });

    it('in-flight calls that succeed after it opened do not close it (marbles)', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 2, openDuration: 10 });
        const inners = { f: cold('--#'), s: cold('--------(s|)') };
        // Eight calls at 1: four fail at 3 (it opens at the second), four succeed at 9 while open.
        const source = hot('-(ffffssss)');
        expectObservable(source.pipe(calls(breaker, inners))).toBe('---(xxxx)(ssss)');
        expectObservable(letters(breaker)).toBe('c--o---------h');
      });
    });
  });

  describe('state$', () => {
    it('replays the current state on subscribe, then every transition at its instant', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10 });
        const source = hot('--f------------s');
        source.pipe(calls(breaker, { f: cold('-#'), s: cold('-(s|)') })).subscribe();
        const values = {
          c: change('closed', 0),
          o: change('open', 3),
          h: change('half-open', 13),
          C: change('closed', 16),
        };
        expectObservable(breaker.state$).toBe('c--o---------h--C', values);
        // Late subscribers: at 5 it is open since 3; at 14 half-open since 13.
        expectObservable(breaker.state$, '-----^').toBe('-----o-------h--C', values);
        expectObservable(breaker.state$, '--------------^').toBe('--------------h-C', values);
      });
    });

    it('a subscriber after the half-open instant that nobody saw gets half-open since that instant', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      run(call, 'f');
      scheduler.advanceTo(1000);
      const states = recordStates(breaker, scheduler);
      expect(states.log).toEqual([[1000, 'half-open', 10]]);
    });

    it('holds one scheduled action per subscription, only while open; none after unsubscribe', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      const a = recordStates(breaker, scheduler);
      const b = recordStates(breaker, scheduler);
      expect(scheduler.pendingCount).toBe(0);
      run(call, 'f');
      expect(scheduler.pendingCount).toBe(2);
      const c = recordStates(breaker, scheduler);
      expect(scheduler.pendingCount).toBe(3);
      c.unsubscribe();
      expect(scheduler.pendingCount).toBe(2);
      scheduler.advanceTo(10);
      expect(scheduler.pendingCount).toBe(0);
      expect(a.log).toEqual([
        [0, 'closed', 0],
        [0, 'open', 0],
        [10, 'half-open', 10],
      ]);
      expect(b.log).toEqual(a.log);
      // Open again: each subscription re-arms its one action; unsubscribing cancels it.
      run(call, 'f');
      expect(scheduler.pendingCount).toBe(2);
      a.unsubscribe();
      b.unsubscribe();
      expect(scheduler.pendingCount).toBe(0);
      scheduler.advanceTo(100);
      expect(a.log).toHaveLength(4);
    });

    it('no action while isolated, half-open or closed', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      recordStates(breaker, scheduler);
      run(call, 'f');
      expect(scheduler.pendingCount).toBe(1);
      const isolation = breaker.isolate();
      expect(scheduler.pendingCount).toBe(0);
      isolation.release();
      expect(scheduler.pendingCount).toBe(0);
    });

    it('a subscriber that leaves at once (take(1)) leaves no action behind', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      run(call, 'f');
      const seen: CircuitState[] = [];
      breaker.state$.pipe(take(1)).subscribe((c) => seen.push(c.state));
      expect(seen).toEqual(['open']);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('emits only when the state changes (a reset while closed emits nothing)', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 2 });
      const states = recordStates(breaker, scheduler);
      run(call, 'f');
      breaker.reset();
      run(call, 'sfs');
      expect(states.log).toEqual([[0, 'closed', 0]]);
    });

    it('every subscriber sees every transition, in order, when one of them changes the state as it is told', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      // The first subscriber isolates the breaker as soon as it opens (say, to wait for an operator).
      const first: CircuitState[] = [];
      breaker.state$.subscribe((c) => {
        first.push(c.state);
        if (c.state === 'open') breaker.isolate();
      });
      const second = recordStates(breaker, scheduler);
      run(call, 'f');
      expect(breaker.state).toBe('isolated');
      expect(first).toEqual(['closed', 'open', 'isolated']);
      // Neither a stale 'open' after 'isolated', nor 'isolated' without the 'open' before it.
      expect(second.log.map(([, state]) => state)).toEqual(['closed', 'open', 'isolated']);
    });
  });

  describe('callTimeout', () => {
    it("the call's subscriber gets CallTimeoutError at exactly start + callTimeout; the inner is unsubscribed", () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 2, callTimeout: 4, openDuration: 10 });
        const slow = cold('-a------(b|)');
        const quick = cold('---(q|)');
        const source = hot('-s-q---s');
        const inners = { s: slow, q: quick };
        // s at 1 times out at 5 (its a at 2 passed on); q ends at 6 within its 4 ms; s at 7 times out at 11.
        expectObservable(source.pipe(calls(breaker, inners))).toBe('--a--tq-a--t');
        expectSubscriptions(slow.subscriptions).toBe(['-^---!', '-------^---!']);
        expectSubscriptions(quick.subscriptions).toBe('---^--!');
        // Two timeouts in a row with a success between: the run is 1, then 1.
        expectObservable(letters(breaker)).toBe('c');
      });
    });

    it('a timed-out call counts as a failure whatever isFailure says', () => {
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 2,
        callTimeout: 5,
        isFailure: () => false,
      });
      const a = call('a');
      scheduler.advanceBy(5);
      expect(a.status).toBe('timed out');
      expect(a.error).toBeInstanceOf(CallTimeoutError);
      expect(errorShape(a.error as Error)).toEqual(errorShape(new CallTimeoutError(5)));
      expect(a.error).toMatchObject({ name: 'CallTimeoutError', timeout: 5 });
      expect(breaker.state).toBe('closed');
      // An ordinary error is ignored (isFailure false): it does not end the run of timeouts.
      run(call, 'f');
      call('b');
      scheduler.advanceBy(5);
      expect(breaker.state).toBe('open');
    });

    it('one action per running call, cancelled when the call ends or is cancelled', () => {
      const { call, scheduler } = setup({ consecutiveFailures: 5, callTimeout: 5 });
      const a = call('a');
      const b = call('b');
      const c = call('c');
      expect(scheduler.pendingCount).toBe(3);
      a.succeed();
      b.fail();
      c.cancel();
      expect(scheduler.pendingCount).toBe(0);
    });

    it('a call that times out after the breaker changed state is not counted', () => {
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 1,
        callTimeout: 50,
        openDuration: 10,
      });
      const slow = call('slow');
      run(call, 'f');
      scheduler.advanceTo(10);
      const probe = call('probe');
      scheduler.advanceTo(50);
      expect(slow.status).toBe('timed out');
      expect(breaker.state).toBe('half-open');
      probe.succeed();
      expect(breaker.state).toBe('closed');
    });

    it('a probe that times out opens it again', () => {
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 1,
        callTimeout: 5,
        openDuration: 10,
      });
      run(call, 'f');
      scheduler.advanceTo(10);
      call('probe');
      scheduler.advanceTo(15);
      expect(breaker.state).toBe('open');
    });
  });

  describe('rule 8: isolate() and reset()', () => {
    it('isolate(): every call refused with retryAfter Infinity until every handle is released', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1 });
      const states = recordStates(breaker, scheduler);
      const first = breaker.isolate();
      scheduler.advanceTo(5);
      const second = breaker.isolate();
      expect(breaker.state).toBe('isolated');
      const refused = call();
      expect(refused.status).toBe('refused');
      expect(refused.ran).toBe(false);
      expect(errorShape(refused.error as Error)).toEqual(
        errorShape(new CircuitOpenError('isolated', Infinity)),
      );
      expect(refused.error).toMatchObject({ state: 'isolated', retryAfter: Infinity });
      first.release();
      first.release(); // twice: does nothing
      expect(breaker.state).toBe('isolated');
      scheduler.advanceTo(1_000_000);
      expect(breaker.state).toBe('isolated');
      second.release();
      expect(breaker.state).toBe('closed');
      expect(call().status).toBe('running');
      expect(states.log).toEqual([
        [0, 'closed', 0],
        [0, 'isolated', 0],
        [1_000_000, 'closed', 1_000_000],
      ]);
    });

    it('releasing the last handle closes it with the window cleared and opens 0', () => {
      const opens: number[] = [];
      const { breaker, call, scheduler } = setup({
        failureRateThreshold: 0.5,
        window: { calls: 4 },
        halfOpenMaxWait: 1,
        openDuration: (n) => {
          opens.push(n);
          return 10;
        },
      });
      run(call, 'ffff');
      scheduler.advanceTo(10);
      call('hung');
      scheduler.advanceTo(11); // opens 2
      const isolation = breaker.isolate();
      isolation.release();
      expect(breaker.state).toBe('closed');
      run(call, 'fff');
      expect(breaker.state).toBe('closed');
      run(call, 'f');
      expect(opens).toEqual([1, 2, 1]);
    });

    it('reset() does not end an isolation', () => {
      const { breaker } = setup({ consecutiveFailures: 1 });
      const isolation = breaker.isolate();
      breaker.reset();
      expect(breaker.state).toBe('isolated');
      isolation.release();
      expect(breaker.state).toBe('closed');
    });

    it('an isolated breaker with a finished handle and a new one stays isolated until the new one goes', () => {
      const { breaker } = setup({ consecutiveFailures: 1 });
      const a = breaker.isolate();
      a.release();
      const b = breaker.isolate();
      a.release();
      expect(breaker.state).toBe('isolated');
      b.release();
      expect(breaker.state).toBe('closed');
    });

    it('isolating during half-open: the running probe decides nothing afterwards', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      run(call, 'f');
      scheduler.advanceTo(10);
      const probe = call('probe');
      const isolation = breaker.isolate();
      probe.fail();
      expect(breaker.state).toBe('isolated');
      isolation.release();
      expect(breaker.state).toBe('closed');
      expect(scheduler.pendingCount).toBe(0);
    });

    it('reset() from open: closed, counts cleared, opens 0; state$ emits closed', () => {
      const opens: number[] = [];
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 2,
        openDuration: (n) => {
          opens.push(n);
          return 10;
        },
      });
      const states = recordStates(breaker, scheduler);
      run(call, 'ff');
      scheduler.advanceTo(10);
      run(call, 'f'); // probe fails: opens 2
      scheduler.advanceTo(12);
      breaker.reset();
      expect(breaker.state).toBe('closed');
      expect(call().status).toBe('running');
      run(call, 'ff');
      expect(opens).toEqual([1, 2, 1]);
      expect(states.log.slice(-2)).toEqual([
        [12, 'closed', 12],
        [12, 'open', 12],
      ]);
    });

    it('reset() while closed clears the window and the run of failures', () => {
      const { breaker, call } = setup({
        consecutiveFailures: 3,
        failureRateThreshold: 0.5,
        window: { calls: 4 },
      });
      run(call, 'sff');
      breaker.reset();
      run(call, 'ff');
      expect(breaker.state).toBe('closed');
      run(call, 's');
      expect(breaker.state).toBe('closed');
    });

    it('running calls keep running; they count if the breaker was closed when they started and has not changed since', () => {
      const { breaker, call } = setup({ consecutiveFailures: 1, openDuration: 10 });
      const running = call('running');
      breaker.reset(); // while closed: not a change of state
      expect(running.status).toBe('running');
      running.fail();
      expect(breaker.state).toBe('open');
    });

    it('a call running across a reset from open is not counted', () => {
      const { breaker, call } = setup({ consecutiveFailures: 1, openDuration: 10 });
      const before = call('before');
      run(call, 'f');
      breaker.reset();
      before.fail();
      expect(breaker.state).toBe('closed');
    });

    it('a probe running across a reset from half-open is not counted, and keeps running', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      run(call, 'f');
      scheduler.advanceTo(10);
      const probe = call('probe');
      breaker.reset();
      expect(probe.status).toBe('running');
      probe.fail();
      expect(breaker.state).toBe('closed');
      expect(scheduler.pendingCount).toBe(0);
    });
  });

  describe('rule 10: timers', () => {
    it('no scheduled action while closed without callTimeout, whatever runs and fails', () => {
      const { call, scheduler } = setup({ failureRateThreshold: 0.5, consecutiveFailures: 10 });
      const running = [call(), call(), call()];
      run(call, 'fsfsfcsi');
      expect(scheduler.pendingCount).toBe(0);
      running.forEach((c) => c.succeed());
      expect(scheduler.pendingCount).toBe(0);
    });

    it('open and half-open hold nothing by themselves (halfOpenMaxWait Infinity, no state$ subscriber)', () => {
      const { breaker, call, scheduler } = setup({ consecutiveFailures: 1, openDuration: 10 });
      run(call, 'f');
      expect(scheduler.pendingCount).toBe(0);
      scheduler.advanceTo(10);
      call('probe');
      expect(breaker.state).toBe('half-open');
      expect(scheduler.pendingCount).toBe(0);
    });

    it('after everything is unsubscribed, nothing is left', () => {
      const { breaker, call, scheduler } = setup({
        consecutiveFailures: 1,
        openDuration: 10,
        halfOpenMaxWait: 5,
        callTimeout: 100,
      });
      const states = recordStates(breaker, scheduler);
      const slow = call('slow');
      run(call, 'f');
      scheduler.advanceTo(10);
      const probe = call('probe');
      expect(scheduler.pendingCount).toBe(3); // slow's and the probe's timeouts, the max wait
      slow.cancel();
      probe.cancel();
      states.unsubscribe();
      expect(scheduler.pendingCount).toBe(1); // the max wait: half-open has not decided
      scheduler.advanceTo(15);
      expect(breaker.state).toBe('open');
      expect(scheduler.pendingCount).toBe(0);
    });
  });

  describe('rule 9: toJSON() and initialState', () => {
    const WINDOWS = [
      ['window { calls: 4 }', { calls: 4 }],
      ['window { duration: 100, buckets: 4 }', { duration: 100, buckets: 4 }],
    ] as const;

    it.each(WINDOWS)('is plain JSON, and a restored breaker writes the same snapshot (%s)', (_, window) => {
      const { breaker, call, scheduler } = setup({
        failureRateThreshold: 0.5,
        consecutiveFailures: 3,
        window,
      });
      run(call, 'sff');
      scheduler.advanceTo(30);
      run(call, 'is');
      const snapshot = breaker.toJSON();
      const json: unknown = JSON.parse(JSON.stringify(snapshot));
      expect(json).toEqual(snapshot);
      const restored = new CircuitBreaker({
        failureRateThreshold: 0.5,
        consecutiveFailures: 3,
        window,
        scheduler: manual(123_456),
        initialState: json as typeof snapshot,
      });
      // The same counts at the same ages (the order of a time window's buckets is free).
      expect(normalized(restored.toJSON())).toEqual(normalized(snapshot));
    });

    it.each(WINDOWS)('closed: the window counts and the run of failures carry over (%s)', (_, window) => {
      const options = { failureRateThreshold: 0.5, minimumCalls: 4, consecutiveFailures: 3, window };
      const { breaker, call } = setup(options);
      run(call, 'sff'); // 2/3, below minimumCalls 4; a run of 2
      const snapshot = breaker.toJSON();
      expect(snapshot).toMatchObject({ state: 'closed', consecutiveFailures: 2 });
      // On another clock, one more failure meets both rules; a fresh breaker would stay closed.
      const later = manual(1_000_000);
      const restored = new CircuitBreaker({ ...options, scheduler: later, initialState: snapshot });
      const fresh = new CircuitBreaker({ ...options, scheduler: later });
      expect(restored.state).toBe('closed');
      run(caller(restored), 'f');
      run(caller(fresh), 'f');
      expect(restored.state).toBe('open');
      expect(fresh.state).toBe('closed');
      const counts = new CircuitBreaker({
        failureRateThreshold: 0.5,
        minimumCalls: 4,
        window,
        scheduler: later,
        initialState: snapshot,
      });
      run(caller(counts), 's'); // 2/4 from the window alone
      expect(counts.state).toBe('open');
    });

    it('a restored time window still forgets its outcomes once they are older than the window', () => {
      const options = { failureRateThreshold: 1, minimumCalls: 3, window: { duration: 100, buckets: 4 } };
      const { breaker, call, scheduler } = setup(options);
      scheduler.advanceTo(10);
      run(call, 'ff');
      const snapshot = breaker.toJSON();
      const later = manual(5_000);
      const restored = new CircuitBreaker({ ...options, scheduler: later, initialState: snapshot });
      later.advanceTo(5_100);
      run(caller(restored), 'f');
      expect(restored.state).toBe('closed');
    });

    it('open: a restarted process on another clock resumes the remaining open time', () => {
      const opens: number[] = [];
      const options = {
        consecutiveFailures: 1,
        openDuration: (n: number) => {
          opens.push(n);
          return n * 100;
        },
      };
      const { breaker, call, scheduler } = setup(options, 1_000_000);
      run(call, 'f');
      scheduler.advanceBy(100);
      run(call, 'f'); // the probe fails: opens 2, open for 200 ms from 1_000_100
      scheduler.advanceBy(30);
      const snapshot = breaker.toJSON();
      expect(snapshot).toMatchObject({ state: 'open', opens: 2, openedFor: 30 });

      const later = manual(7);
      const restored = new CircuitBreaker({ ...options, scheduler: later, initialState: snapshot });
      const states = recordStates(restored, later);
      const refused = caller(restored)();
      expect(refused.error).toMatchObject({ state: 'open', retryAfter: 170 });
      later.advanceTo(176);
      expect(restored.state).toBe('open');
      later.advanceTo(177);
      expect(states.log).toEqual([
        [7, 'open', -23],
        [177, 'half-open', 177],
      ]);
      run(caller(restored), 'f'); // opens 3
      expect(opens.slice(-1)).toEqual([3]);
      expect(later.now() + 0).toBe(177);
      expect(caller(restored)().error).toMatchObject({ retryAfter: 300 });
    });

    it('open, restored after the open time has passed: half-open at once', () => {
      const options = { consecutiveFailures: 1, openDuration: 100 };
      const { breaker, call, scheduler } = setup(options);
      run(call, 'f');
      scheduler.advanceTo(99);
      const snapshot = breaker.toJSON();
      const later = manual(50);
      const restored = new CircuitBreaker({ ...options, scheduler: later, initialState: snapshot });
      expect(restored.state).toBe('open');
      later.advanceTo(51);
      expect(restored.state).toBe('half-open');
    });

    it('a snapshot taken after the half-open instant that nobody saw says half-open', () => {
      const options = { consecutiveFailures: 1, openDuration: 100, halfOpenProbes: 2 };
      const { breaker, call, scheduler } = setup(options);
      run(call, 'f');
      scheduler.advanceTo(500);
      const snapshot = breaker.toJSON();
      expect(snapshot).toMatchObject({ state: 'half-open', opens: 1 });
      const restored = new CircuitBreaker({ ...options, scheduler: manual(), initialState: snapshot });
      expect(restored.state).toBe('half-open');
      const probes = caller(restored);
      const a = probes();
      const b = probes();
      expect(probes().status).toBe('refused');
      a.succeed();
      b.succeed();
      expect(restored.state).toBe('closed');
    });
  });
});
