/**
 * The demo's circuit-breaker table: a steady stream of requests to a downstream that fails for 10 s,
 * with no breaker and through `CircuitBreaker.protect` in each `whenOpen` mode, in virtual time.
 *
 * Everything for this table lives here (workload, rows, runner, text), so that `index.ts` only adds
 * its lines to the output.
 */
import {
  catchError,
  EMPTY,
  map,
  mergeMap,
  retry,
  share,
  take,
  tap,
  throwError,
  timer,
  type MonoTypeOperatorFunction,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
  VirtualTimeScheduler,
} from 'rxjs';
import { CircuitBreaker, isCircuitOpenError, type DropReason, type OnDrop } from '../src/index.js';
import { textTable, wrap } from './text.js';

/** The workload: requests 1, 2, 3, … one every `everyMs`; the downstream is broken for a while. */
export const outageWorkload = {
  count: 300,
  everyMs: 100,
  /** A call to the healthy downstream succeeds after this many ms. */
  healthyMs: 50,
  /** A call to the broken downstream fails after this many ms (a 503 after a while). */
  failAfterMs: 200,
  /** Calls started in [outageFrom, outageUntil) fail. */
  outageFrom: 5_000,
  outageUntil: 15_000,
  describeProducer: '300 requests, one every 100 ms (10/s) for 30 s',
  describeDownstream:
    'a call succeeds after 50 ms, except from 5 s to 15 s, when it fails after 200 ms (10 s of outage)',
};

type Workload = typeof outageWorkload;

/** The downstream call: one per request let through. */
export type Call = (request: number) => Observable<number>;

/** The breaker every breaker row uses (built inside the virtual-time run, so it reads virtual time). */
export const breakerCode = 'new CircuitBreaker({ consecutiveFailures: 5, openDuration: 2_000 })';
const makeBreaker = (scheduler: SchedulerLike) =>
  new CircuitBreaker({ consecutiveFailures: 5, openDuration: 2_000, scheduler });

export interface OutageScenario {
  label: string;
  /** The pipeline, as shown under the table (`breaker` is {@link breakerCode}). */
  code: string;
  /** Builds the pipeline around the downstream call; `onDrop` counts what the operator reports. */
  pipeline: (
    call: Call,
    onDrop: OnDrop<number>,
    scheduler: SchedulerLike,
  ) => OperatorFunction<number, number>;
  explain: (result: OutageResult) => string;
}

export interface OutageResult {
  arrived: number;
  /** Calls made to the downstream. */
  calls: number;
  /** Of those, calls made while it was broken (whatever became of them). */
  broken: number;
  /** Calls that failed (the broken downstream's error reached the pipeline). */
  failed: number;
  /** Calls unsubscribed before they ended (the stream errored while they ran). */
  cancelled: number;
  /** Requests whose call succeeded and reached the subscriber. */
  processed: number;
  /** Requests reported to `onDrop`, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** Requests never handled: they arrived after the stream had ended, or while nothing was subscribed. */
  unhandled: number;
  /** Processed requests whose call started later than they arrived. */
  delayed: number;
  /** Longest a processed request waited between arrival and the start of its call, in ms. */
  worstWait: number;
  /** First success after the downstream was healthy again, in ms after it was; undefined: none. */
  recoveredAfter: number | undefined;
  /** Virtual time (ms) of the last successful call, if any. */
  lastSuccessAt: number | undefined;
  outcome: 'completed' | 'errored';
  endedAt: number;
  error?: string;
  errorName?: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
const num = (n: number | undefined) => (n === undefined ? '?' : n.toLocaleString('en-US'));

/** The rows of the table, in order. */
export const outageScenarios: OutageScenario[] = [
  {
    label: 'no breaker',
    code: 'mergeMap((r) => call(r).pipe(catchError(() => EMPTY)))',
    pipeline: (call) => mergeMap((r) => call(r).pipe(catchError(() => EMPTY))),
    explain: (r) =>
      `Without a breaker every request of the outage goes to the broken downstream: ${r.broken} ` +
      `calls, each taking ${outageWorkload.failAfterMs} ms to fail, and ${r.failed} requests lost. ` +
      `It notices the recovery at once (the first call after the outage succeeds ` +
      `${num(r.recoveredAfter)} ms after it), because it never stopped calling.`,
  },
  {
    label: "whenOpen 'error'",
    code: "breaker.protect(call, { onError: 'continue' })",
    pipeline: (call, onDrop, scheduler) =>
      makeBreaker(scheduler).protect(call, { onError: 'continue', onDrop }),
    explain: (r) =>
      `whenOpen 'error' (the default) ends the stream at the first request refused, at ` +
      `${seconds(r.endedAt)}: after ${r.failed} failures in a row the breaker opens, the next ` +
      `request is reported 'rejected', the output errors with CircuitOpenError and the call still ` +
      `running is cancelled; the ${r.unhandled} requests after that are never handled. 'error' ` +
      `suits one call per subscription (a request handler that answers 503 at once), not a ` +
      `long-lived stream on its own.`,
  },
  {
    label: "'error' + retry",
    code:
      "breaker.protect(call, { onError: 'continue' }), " +
      'retry({ delay: (e) => (isCircuitOpenError(e) ? timer(e.retryAfter) : throwError(() => e)) })',
    pipeline: (call, onDrop, scheduler) => {
      const breaker = makeBreaker(scheduler);
      return (source) =>
        source.pipe(
          breaker.protect(call, { onError: 'continue', onDrop }),
          retry({
            delay: (err: unknown) =>
              isCircuitOpenError(err) ? timer(err.retryAfter, scheduler) : throwError(() => err),
          }),
        );
    },
    explain: (r) =>
      `Adding a retry after the error's retryAfter keeps the stream alive, but 'error' and ` +
      `half-open do not mix: the stream resubscribes when the breaker turns half-open, the next ` +
      `request starts the probe, the one after it is refused while the probe runs, the output ` +
      `errors again, and that error's teardown cancels the probe. A cancelled call is not counted, ` +
      `so the breaker never learns that the downstream is still broken: it stays half-open, and ` +
      `every other request reaches the broken downstream (${r.broken} calls, ${r.cancelled} of ` +
      `them cancelled halfway). ${r.dropped.rejected ?? 0} requests are rejected, and ` +
      `${r.unhandled} arrive during the first open period while nothing is subscribed (the ` +
      `requests are hot: nobody hears them).`,
  },
  {
    label: "whenOpen 'drop'",
    code: "breaker.protect(call, { whenOpen: 'drop', onError: 'continue', onDrop })",
    pipeline: (call, onDrop, scheduler) =>
      makeBreaker(scheduler).protect(call, { whenOpen: 'drop', onError: 'continue', onDrop }),
    explain: (r) =>
      `whenOpen 'drop' spares the downstream: ${r.broken} calls reach it while it is broken (the ` +
      `5 failures that open the breaker, the call already running then, and one probe every 2 s), ` +
      `and the ${r.dropped.rejected ?? 0} requests refused meanwhile are reported 'rejected' at ` +
      `once. The price is recovery: the breaker learns that the downstream is back only at its ` +
      `next probe, ${num(r.recoveredAfter)} ms after it was.`,
  },
  {
    label: "whenOpen 'wait'",
    code: "breaker.protect(call, { whenOpen: 'wait', capacity: 200, onError: 'continue', onDrop })",
    pipeline: (call, onDrop, scheduler) =>
      makeBreaker(scheduler).protect(call, { whenOpen: 'wait', capacity: 200, onError: 'continue', onDrop }),
    explain: (r) =>
      `whenOpen 'wait' sends the broken downstream the same ${r.broken} calls and loses only ` +
      `those: the requests that arrive while the breaker is open wait (up to 200 may), the oldest ` +
      `waiting one is the probe each time the breaker turns half-open, and once a probe succeeds, ` +
      `${num(r.recoveredAfter)} ms after the downstream is back, the ${r.delayed} processed ` +
      `requests that waited are sent in order, the longest after ${seconds(r.worstWait)}.`,
  },
];

const describeError = (err: unknown): string =>
  err instanceof Error ? `${err.name}: ${err.message}` : String(err);

/**
 * Runs one row in virtual time: every timer (the requests, the downstream, the breaker, the retry)
 * runs on one `VirtualTimeScheduler` passed explicitly, flushed to the end, so every run gives the
 * same table and takes no real waiting. (Not `TestScheduler.run` as in ./run.ts: its run mode throws
 * "Expected a due immediate or interval" when an error tears down timers due at the same frame,
 * which the 'error' rows do; plain RxJS `mergeMap` + `timer` does it too.)
 */
export function runOutage(scenario: OutageScenario, w: Workload = outageWorkload): OutageResult {
  const arrivedAt = new Map<number, number>();
  const startedAt = new Map<number, number>();
  const dropped: Partial<Record<DropReason, number>> = {};
  /** Request → the instant its call succeeded. */
  const succeeded = new Map<number, number>();
  let calls = 0;
  let broken = 0;
  let failed = 0;
  let processed = 0;
  let ending:
    { outcome: 'completed' | 'errored'; endedAt: number; error?: string; errorName?: string } | undefined;

  const scheduler = new VirtualTimeScheduler();
  const call: Call = (request) => {
    const now = scheduler.now();
    calls++;
    startedAt.set(request, now);
    if (now >= w.outageFrom && now < w.outageUntil) {
      broken++;
      return timer(w.failAfterMs, scheduler).pipe(
        mergeMap(() => {
          failed++;
          return throwError(() => new Error(`503 for request ${request}`));
        }),
      );
    }
    return timer(w.healthyMs, scheduler).pipe(
      map(() => {
        succeeded.set(request, scheduler.now());
        return request;
      }),
    );
  };
  const onDrop: OnDrop<number> = (_request, reason) => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  };
  // Hot: the requests come whether or not anyone listens (a retry resubscribes to the same ones).
  const arrive: MonoTypeOperatorFunction<number> = tap((request) => arrivedAt.set(request, scheduler.now()));
  const requests$ = timer(0, w.everyMs, scheduler).pipe(
    take(w.count),
    map((i) => i + 1),
    arrive,
    share({ resetOnRefCountZero: false }),
  );
  requests$.pipe(scenario.pipeline(call, onDrop, scheduler)).subscribe({
    next: () => processed++,
    error: (err: unknown) => {
      ending = {
        outcome: 'errored',
        endedAt: scheduler.now(),
        error: describeError(err),
        errorName: err instanceof Error ? err.name : undefined,
      };
    },
    complete: () => {
      ending = { outcome: 'completed', endedAt: scheduler.now() };
    },
  });
  scheduler.flush();
  if (!ending) throw new Error(`demo: ${scenario.label} neither completed nor errored`);

  if (processed !== succeeded.size) throw new Error(`demo: ${scenario.label} emitted what no call returned`);
  const waits = [...succeeded.keys()].map((r) => (startedAt.get(r) ?? 0) - (arrivedAt.get(r) ?? 0));
  const reported = Object.values(dropped).reduce((a, b) => a + (b ?? 0), 0);
  const cancelled = calls - failed - succeeded.size;
  const successTimes = [...succeeded.values()].sort((a, b) => a - b);
  const recovered = successTimes.find((at) => at >= w.outageUntil);
  return {
    arrived: arrivedAt.size,
    calls,
    broken,
    failed,
    cancelled,
    processed,
    dropped,
    unhandled: arrivedAt.size - processed - failed - cancelled - reported,
    delayed: waits.filter((wait) => wait > 0).length,
    worstWait: Math.max(0, ...waits),
    recoveredAfter: recovered === undefined ? undefined : recovered - w.outageUntil,
    lastSuccessAt: successTimes.at(-1),
    ...ending,
  };
}

/** "95 failed, 4 rejected, 201 never handled": every request not processed, by what became of it. */
function lostText(r: OutageResult): string {
  const parts = [
    r.failed > 0 ? `${r.failed} failed` : '',
    r.cancelled > 0 ? `${r.cancelled} cancelled` : '',
    ...Object.entries(r.dropped).map(([reason, n]) => `${n ?? 0} ${reason}`),
    r.unhandled > 0 ? `${r.unhandled} never handled` : '',
  ].filter(Boolean);
  return `${r.arrived - r.processed}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** The table's lines, ready for the demo's output. */
export function outageSection(width: number, w: Workload = outageWorkload): string[] {
  const results = outageScenarios.map((scenario) => ({ scenario, result: runOutage(scenario, w) }));
  const table = textTable(
    ['pipeline', 'calls', 'to broken', 'processed', 'lost', 'waited', 'recovered', 'outcome'],
    results.map(({ scenario, result: r }) => [
      scenario.label,
      String(r.calls),
      String(r.broken),
      String(r.processed),
      lostText(r),
      r.delayed > 0 ? `${r.delayed}, up to ${seconds(r.worstWait)}` : '0',
      r.recoveredAfter === undefined ? 'never' : `+${num(r.recoveredAfter)} ms`,
      r.outcome === 'completed'
        ? `completed at ${num(r.endedAt)} ms`
        : `errored at ${num(r.endedAt)} ms (${r.errorName ?? 'error'})`,
    ]),
    ['left', 'right', 'right', 'right', 'left', 'left', 'right', 'left'],
  );
  const code = textTable(
    ['pipeline', 'code'],
    results.map(({ scenario }) => [scenario.label, scenario.code]),
    ['left', 'left'],
  );
  return [
    'Circuit breaker: a downstream that fails for 10 s',
    '',
    `producer:   ${w.describeProducer}`,
    `downstream: ${w.describeDownstream}`,
    `breaker:    ${breakerCode}`,
    '',
    table,
    '',
    code,
    '',
    wrap(
      'calls: calls made to the downstream; to broken: those made while it was broken, wasted. ' +
        'lost: requests not processed, by what became of them (their call failed, or was ' +
        'cancelled when the stream errored; reported to onDrop with that reason; or never handled ' +
        'because the stream had ended or was not subscribed). ' +
        'waited: processed requests whose call started later than they arrived. recovered: the ' +
        'first successful call after the downstream is healthy again, counted from that instant ' +
        `(${seconds(w.outageUntil)}).`,
      width,
    ),
    '',
    ...results.flatMap(({ scenario, result }, i) => [
      ...(i > 0 ? [''] : []),
      wrap(scenario.explain(result), width),
    ]),
    '',
    wrap(
      `A breaker trades recovery time for sparing the downstream: it stops calling after ` +
        `${plural(5, 'failure')} and asks again once per openDuration, so it finds the downstream ` +
        `healthy up to openDuration late. What happens to the requests meanwhile is the whenOpen ` +
        `mode: end the stream, drop them with a reason, or keep them in a bounded queue.`,
      width,
    ),
  ];
}
