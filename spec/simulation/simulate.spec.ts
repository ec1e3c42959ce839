import { catchError, concatMap, EMPTY, exhaustMap, filter, mergeMap, retry, take, timer } from 'rxjs';
import { bufferDropping, bufferFixed, tokenBucket, withVirtualTime } from '../../src/index';
import {
  bursts,
  compare,
  constant,
  downstream,
  fixed,
  lognormal,
  poisson,
  simulate,
  trace,
  type Policy,
  type Scenario,
} from '../../src/simulation/index';
import { accounted } from './helpers';

const noDrops = { overflow: 0, rejected: 0, expired: 0, shed: 0, cleared: 0 };

describe('simulate', () => {
  it('reports a tiny scenario exactly as worked out by hand', () => {
    // One worker, 20 ms per request; bufferDropping(1): one call at a time, one value may wait.
    //   0: a arrives, called at 0, answered at 20 (latency 20, queueWait 0)
    //   5: b arrives and waits
    //  10: c arrives, the queue is full: dropped 'overflow'
    //  20: b called (queueWait 15), answered at 40 (latency 35)
    //  45: d arrives, called at once, answered at 65 (latency 20); traffic ends at 50
    //  65: the policy completes; the worker was idle from 40 to 45
    const report = simulate({
      duration: 50,
      arrivals: trace([0, 5, 10, 45]),
      downstream: downstream({ workers: 1, serviceTime: fixed(20) }),
      sampleEvery: 25,
      policy: (call, { onDrop }) => bufferDropping(1, call, { onDrop }),
    });
    expect(report.outcome).toEqual({ ended: 'completed', at: 65 });
    expect(report.summary).toEqual({
      start: 0,
      end: 65,
      offered: 4,
      started: 3,
      calls: 3,
      succeeded: 3,
      failed: { timeout: 0, overload: 0 },
      dropped: { ...noDrops, overflow: 1 },
      lostSilently: 0,
      waiting: 0,
      latency: { p50: 20, p90: 35, p99: 35, max: 35, mean: 25 },
      queueWait: { p50: 0, p99: 15, max: 15, mean: 5 },
      goodput: 46.154, // 3 values in 0.065 s
      busy: 0.9231, // 60 of 65 ms
      queueLength: { mean: 0, max: 0 },
    });
    expect(
      report.series.map((w) => [
        w.start,
        w.end,
        w.offered,
        w.started,
        w.succeeded,
        w.dropped.overflow,
        w.waiting,
        w.busy,
        w.goodput,
      ]),
    ).toEqual([
      [0, 25, 3, 2, 1, 1, 1, 1, 40], // b waits at 25
      [25, 50, 1, 1, 1, 0, 1, 0.8, 40], // d is in its call at 50; idle 40-45
      [50, 65, 0, 0, 1, 0, 0, 1, 66.667],
    ]);
    expect(report.series[1]!.latency).toEqual({ p50: 35, p90: 35, p99: 35, max: 35, mean: 35 });
  });

  it('hands the policy requests carrying their index, arrival time and class, and a call that emits the response', () => {
    const seen: string[] = [];
    simulate({
      duration: 30,
      arrivals: trace([0, { time: 10, class: 'vip' }]),
      downstream: downstream({ workers: 1, serviceTime: 5 }),
      policy: (call) =>
        mergeMap((request) => {
          seen.push(`${String(request.index)}@${String(request.time)}:${request.class ?? '-'}`);
          return call(request).pipe(
            mergeMap(async (response) => {
              seen.push(`answer ${String(response.request.index)} at ${String(response.respondedAt)}`);
              return Promise.resolve(response);
            }),
          );
        }),
    });
    expect(seen).toEqual(['0@0:-', 'answer 0 at 5', '1@10:vip', 'answer 1 at 15']);
  });

  it('tells waiting (still in the policy at the end) from lostSilently (ignored or held when it ended)', () => {
    const scenario: Scenario = {
      duration: 1_000,
      arrivals: constant({ rate: 100 }), // 100 values, one every 10 ms
      downstream: downstream({ workers: 1, serviceTime: fixed(50) }),
      sampleEvery: 500,
      drainTimeout: 1_000,
    };
    // exhaustMap ignores what arrives during a call: 1 in 5 is served, the rest is lost silently,
    // counted in the window it arrived in, and never as waiting.
    const exhaust = simulate({ ...scenario, policy: (call) => exhaustMap(call) });
    expect(exhaust.outcome.ended).toBe('completed');
    expect(exhaust.summary).toMatchObject({ offered: 100, succeeded: 20, lostSilently: 80, waiting: 0 });
    expect(exhaust.series.map((w) => [w.lostSilently, w.waiting])).toEqual([
      [40, 1], // value 45 is in its call at 500
      [40, 0],
    ]);
    // concatMap keeps everything: 40 served in the 2 s the run may last, 60 still waiting at the end.
    // (A call answered at exactly 500 counts in the window that starts at 500.)
    const concat = simulate({ ...scenario, policy: (call) => concatMap(call) });
    expect(concat.outcome).toEqual({ ended: 'drainTimeout', at: 2_000 });
    expect(concat.summary).toMatchObject({ offered: 100, succeeded: 40, lostSilently: 0, waiting: 60 });
    expect(concat.series.map((w) => w.waiting)).toEqual([41, 81, 71, 60]);
  });

  it('reports an errored policy at that instant: what it held is lost unless its operators reported it', () => {
    const scenario: Scenario = {
      duration: 100,
      arrivals: trace([0, 10, 20, 30, 60]),
      downstream: downstream({ workers: 1, serviceTime: fixed(100), timeout: 50 }),
    };
    // mergeMap errors with the first timeout (at 50): 1, 2 and 3 are in calls, lost; 4 arrives after.
    const merged = simulate({ ...scenario, policy: (call) => mergeMap(call) });
    expect(merged.outcome).toEqual({
      ended: 'errored',
      at: 50,
      error: 'downstream: request 0 not answered within 50 ms (timeout)',
    });
    expect(merged.summary).toMatchObject({
      offered: 5,
      failed: { timeout: 1, overload: 0 },
      lostSilently: 4,
      waiting: 0,
    });
    // bufferFixed reports the values waiting in it as 'cleared' when the call's error ends the stream.
    const buffered = simulate({
      ...scenario,
      policy: (call, { onDrop }) => bufferFixed(10, call, { onDrop }),
    });
    expect(buffered.outcome.ended).toBe('errored');
    expect(buffered.summary).toMatchObject({
      offered: 5,
      failed: { timeout: 1, overload: 0 },
      dropped: { ...noDrops, cleared: 3 },
      lostSilently: 1, // value 4, which arrived after the error
      waiting: 0,
    });
  });

  it('counts a value once: a retry that succeeds replaces the earlier failure, also in past windows', () => {
    const report = simulate({
      duration: 100,
      sampleEvery: 10,
      arrivals: trace([0, 0]),
      downstream: downstream({ workers: 1, serviceTime: fixed(10), queueLimit: 0 }),
      policy: (call) =>
        mergeMap((request) =>
          call(request).pipe(
            retry({ count: 1, delay: 25 }),
            catchError(() => EMPTY),
          ),
        ),
    });
    // 1 is refused at 0 and retried at 25 (a virtual-time timer), answered at 35.
    expect(report.summary).toMatchObject({
      offered: 2,
      started: 2,
      calls: 3,
      succeeded: 2,
      failed: { timeout: 0, overload: 0 },
    });
    expect(report.series[0]!.failed.overload).toBe(0);
    expect(report.series[3]!.succeeded).toBe(1);
    expect(report.series[3]!.latency.max).toBe(35);
  });

  it('counts values arriving after the policy stopped listening as lost at once', () => {
    const report = simulate({
      duration: 100,
      arrivals: constant({ rate: 100 }), // 10 values
      downstream: downstream({ workers: 1, serviceTime: 1 }),
      policy: (call) => (source) => source.pipe(take(3), mergeMap(call)),
    });
    expect(report.summary).toMatchObject({ offered: 10, succeeded: 3, lostSilently: 7, waiting: 0 });
    expect(report.outcome.ended).toBe('completed');
  });

  it('runs operators that use the default scheduler in virtual time (tokenBucket, timer)', () => {
    const started = Date.now();
    const report = simulate({
      duration: 600_000, // ten virtual minutes
      arrivals: constant({ rate: 50 }),
      downstream: downstream({ workers: 10, serviceTime: fixed(1) }),
      policy:
        (call, { onDrop }) =>
        (source) =>
          source.pipe(
            tokenBucket({ capacity: 1, tokensPerInterval: 10, interval: 1000, queueCapacity: 0, onDrop }),
            mergeMap((request) => timer(100).pipe(mergeMap(() => call(request)))),
          ),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    // 10 per second pass: 6,000 of 30,000.
    expect(report.summary.succeeded).toBe(6_000);
    expect(report.summary.dropped.overflow).toBe(24_000);
    expect(report.summary.latency.p50).toBe(101);
  });

  it('counts drops once when the policy passes both onDrop and the meter', () => {
    const report = simulate({
      duration: 1_000,
      arrivals: bursts({ size: 10, every: 500 }),
      downstream: downstream({ workers: 1, serviceTime: fixed(10) }),
      policy: (call, { onDrop, meter }) => bufferDropping(2, call, { onDrop, meter }),
    });
    expect(report.summary).toMatchObject({
      offered: 20,
      succeeded: 6,
      dropped: { ...noDrops, overflow: 14 },
    });
    const viaMeter = simulate({
      duration: 1_000,
      arrivals: bursts({ size: 10, every: 500 }),
      downstream: downstream({ workers: 1, serviceTime: fixed(10) }),
      policy: (call, { meter }) => bufferDropping(2, call, { meter }),
    });
    expect(viaMeter.summary).toEqual(report.summary);
  });

  it('keeps offered = succeeded + failed + dropped + lostSilently + waiting, in the summary and every class', () => {
    const report = simulate({
      duration: 20_000,
      arrivals: poisson({ rate: 300, classes: { a: 1, b: 2 } }),
      downstream: downstream({
        workers: 2,
        serviceTime: lognormal({ median: 10, p99: 100 }),
        timeout: 200,
        queueLimit: 5,
      }),
      policy:
        (call, { onDrop }) =>
        (source) =>
          source.pipe(
            filter((r) => r.index % 7 !== 0),
            bufferDropping(20, call, { concurrency: 4, onDrop, onError: 'continue' }),
          ),
    });
    for (const stats of [report.summary, ...Object.values(report.summary.classes!)]) {
      expect(accounted(stats)).toBe(stats.offered);
    }
    expect(report.summary.lostSilently).toBeGreaterThan(0);
    expect(report.summary.failed.timeout + report.summary.failed.overload).toBeGreaterThan(0);
    expect(Object.keys(report.summary.classes!)).toEqual(['a', 'b']);
    const offeredByClass = report.summary.classes!.a!.offered + report.summary.classes!.b!.offered;
    expect(offeredByClass).toBe(report.summary.offered);
    // Series add up to the summary.
    const sum = (f: (w: (typeof report.series)[number]) => number) =>
      report.series.reduce((n, w) => n + f(w), 0);
    expect(sum((w) => w.offered)).toBe(report.summary.offered);
    expect(sum((w) => w.succeeded)).toBe(report.summary.succeeded);
    expect(sum((w) => w.failed.timeout)).toBe(report.summary.failed.timeout);
    expect(sum((w) => w.lostSilently)).toBe(report.summary.lostSilently);
  });

  it('gives byte-identical reports for the same scenario and seed, other ones for another seed', () => {
    const scenario = {
      duration: 30_000,
      seed: 42,
      arrivals: poisson({ rate: 400, classes: { checkout: 0.2, analytics: 0.8 } }),
      downstream: downstream({
        workers: 8,
        serviceTime: lognormal({ median: 15, p99: 60 }),
        timeout: 1_000,
        phases: [
          { at: 10_000, workers: 2 },
          { at: 20_000, workers: 8 },
        ],
      }),
    };
    const policies: Record<string, Policy> = {
      mergeMap: (call) => mergeMap((r) => call(r).pipe(catchError(() => EMPTY))),
      bufferDropping: (call, { onDrop }) =>
        bufferDropping(50, call, { concurrency: 8, onDrop, onError: 'continue' }),
    };
    const a = JSON.stringify(compare({ ...scenario, policies }));
    const b = JSON.stringify(compare({ ...scenario, policies }));
    expect(b).toBe(a);
    const other = JSON.stringify(compare({ ...scenario, seed: 43, policies }));
    expect(other).not.toBe(a);
  });

  it('cannot run inside withVirtualTime, and says so', () => {
    withVirtualTime(() => {
      expect(() =>
        simulate({
          duration: 10,
          arrivals: constant({ rate: 1 }),
          downstream: downstream({ workers: 1, serviceTime: 1 }),
          policy: (call) => mergeMap(call),
        }),
      ).toThrow('simulate: cannot run while withVirtualTime is active');
    });
  });
});
