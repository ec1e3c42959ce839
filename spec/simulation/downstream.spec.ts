import { catchError, EMPTY, mergeMap, of, type Observable } from 'rxjs';
import {
  constant,
  downstream,
  exponential,
  fixed,
  isDownstreamOverloadError,
  isDownstreamTimeoutError,
  poisson,
  simulate,
  trace,
  type Arrival,
  type Call,
  type SimulatedResponse,
} from '../../src/simulation/index';

/** Erlang C: the probability that an arrival waits, in an M/M/c queue with offered load `a` = λ/μ. */
function erlangC(c: number, a: number): number {
  let sum = 0;
  let term = 1; // a^k / k!
  for (let k = 0; k < c; k++) {
    if (k > 0) term *= a / k;
    sum += term;
  }
  const top = ((term * a) / c) * (c / (c - a)); // a^c / c! * c / (c - a)
  return top / (sum + top);
}

/** Every value straight to the downstream, however many at once: the downstream's queue is the only one. */
const direct = (call: Call) => mergeMap(call);

/** Records every response and error of the calls. */
function recording(call: Call, log: string[]): (request: Arrival) => Observable<SimulatedResponse> {
  return (request) =>
    call(request).pipe(
      mergeMap((response) => {
        log.push(
          `${String(request.index)} ok ${String(response.calledAt)}-${String(response.startedAt)}-${String(response.respondedAt)}`,
        );
        return of(response);
      }),
      catchError((error: unknown) => {
        const kind = isDownstreamTimeoutError(error)
          ? 'timeout'
          : isDownstreamOverloadError(error)
            ? 'overload'
            : 'other';
        log.push(`${String(request.index)} ${kind}`);
        return EMPTY;
      }),
    );
}

describe('the downstream model', () => {
  it('matches queueing theory: M/M/c mean wait (Erlang C) within 5% over a long run', () => {
    // 4 workers, 20 ms mean service (μ = 50/s each), Poisson arrivals at 150/s: ρ = 0.75.
    const c = 4;
    const lambda = 150;
    const mean = 20;
    const a = (lambda * mean) / 1000;
    const wq = (erlangC(c, a) / ((c * 1000) / mean - lambda)) * 1000; // ms: 10.19
    const report = simulate({
      duration: 3_000_000, // 450,000 arrivals
      seed: 2024,
      arrivals: poisson({ rate: lambda }),
      downstream: downstream({ workers: c, serviceTime: exponential({ mean }) }),
      policy: direct,
    });
    const { summary } = report;
    expect(summary.failed).toEqual({ timeout: 0, overload: 0 });
    expect(summary.queueWait.max).toBe(0); // nothing waits in the policy
    // Time in the system = wait in the downstream's queue + service.
    expect(Math.abs((summary.latency.mean - mean) / wq - 1)).toBeLessThan(0.05);
    // Little's law on the queue: Lq = λ Wq.
    expect(Math.abs(summary.queueLength.mean / ((lambda * wq) / 1000) - 1)).toBeLessThan(0.05);
    expect(Math.abs(summary.busy / (a / c) - 1)).toBeLessThan(0.01);
  });

  it('serves `workers` requests at once, the rest in FIFO order in its own queue', () => {
    const log: string[] = [];
    const report = simulate({
      duration: 100,
      arrivals: trace([0, 0, 0, 10]),
      downstream: downstream({ workers: 2, serviceTime: fixed(30) }),
      policy: (call) => mergeMap(recording(call, log)),
    });
    expect(log).toEqual(['0 ok 0-0-30', '1 ok 0-0-30', '2 ok 0-30-60', '3 ok 10-30-60']);
    expect(report.summary.queueLength.max).toBe(2);
    // Queue: 2 requests from 10 to 30, 1 from 0 to 10: (10 + 40) / 100 ms.
    expect(report.summary.queueLength.mean).toBe(0.5);
  });

  it('fails a call after `timeout` on the caller side, while the downstream still serves it', () => {
    const log: string[] = [];
    const report = simulate({
      duration: 100,
      arrivals: trace([0, 0, 0]),
      downstream: downstream({ workers: 1, serviceTime: fixed(40), timeout: 80 }),
      policy: (call) => mergeMap(recording(call, log)),
    });
    // 0 answered at 40, 1 at exactly its deadline (80: in time), 2 would be at 120: it times out at 80
    // (the timeout action was scheduled first, so it runs first at that instant).
    expect(log).toEqual(['0 ok 0-0-40', '2 timeout', '1 ok 0-40-80']);
    expect(report.summary.failed).toEqual({ timeout: 1, overload: 0 });
    expect(report.summary.succeeded).toBe(2);
    // The abandoned request kept the worker busy until 120, the end of the run is at 100 (traffic end).
    expect(report.summary.busy).toBe(1);
  });

  it('answers at once with an overload error beyond `queueLimit` waiting requests', () => {
    const log: string[] = [];
    const report = simulate({
      duration: 100,
      arrivals: trace([0, 0, 0, 0]),
      downstream: downstream({ workers: 1, serviceTime: fixed(10), queueLimit: 1 }),
      policy: (call) => mergeMap(recording(call, log)),
    });
    expect(log).toEqual(['2 overload', '3 overload', '0 ok 0-0-10', '1 ok 0-10-20']);
    expect(report.summary.failed).toEqual({ timeout: 0, overload: 2 });
    expect(report.summary.started).toBe(4);
  });

  it('applies phases: fewer workers from one instant, more later, running requests finishing', () => {
    const log: string[] = [];
    simulate({
      duration: 200,
      arrivals: constant({ rate: 100 }), // every 10 ms
      downstream: downstream({
        workers: 2,
        serviceTime: fixed(15),
        phases: [
          { at: 30, workers: 0 },
          { at: 60, workers: 1, serviceTime: 5 },
        ],
      }),
      policy: (call) => mergeMap(recording(call, log)),
    });
    // Requests 0-2 are served before the outage (2 starts at 20, ends at 35 although the phase
    // started at 30); 3-5 wait until 60 and are served one at a time, 5 ms each.
    expect(log.slice(0, 6)).toEqual([
      '0 ok 0-0-15',
      '1 ok 10-10-25',
      '2 ok 20-20-35',
      '3 ok 30-60-65',
      '4 ok 40-65-70',
      '5 ok 50-70-75',
    ]);
  });
});
