// The POST /events pipeline. Every event is an `item` with a `settle(status, outcome, extra)` that
// answers its HTTP request exactly once (later calls do nothing); every path below ends in one.
//
//   requests$ ─ groupBy(client) ─ tokenBucket(police, per client) ─ bufferPriority(ttl) ─ breaker.guard() ─ downstream
//                                   │ 'rejected': 429 + Retry-After     │ 'shed' / 'expired': 503    │ open: 503, failed: 502/504
//
// The naive version (`naive: true`) is the same code with `mergeMap` in place of the library's
// operators: no limit per client, no bounded queue, no expiry, no breaker.
import { catchError, debounceTime, EMPTY, finalize, groupBy, mergeMap, Subject, tap } from 'rxjs';
import { bufferPriority, isCallTimeoutError, isCircuitOpenError, tokenBucket } from 'rxjs-backpressure';

export const PRIORITY_RANK = { critical: 3, normal: 2, bulk: 1 };

/**
 * @param {object} o
 * @param {object} o.config  limits: rate, burst, queue, ttl, concurrency, instances
 * @param {(client: string) => import('rxjs-backpressure').TokenStore | undefined} o.redisStoreFor  a shared store per client, or undefined for one in memory
 * @param {{ deliver(event: object): import('rxjs').Observable<number> }} o.downstream
 * @param {import('rxjs-backpressure').CircuitBreaker} o.breaker
 * @param {{ rateLimit: import('rxjs-backpressure').FlowMeter, queue: import('rxjs-backpressure').FlowMeter }} o.meters
 * @param {boolean} o.naive
 */
export function createEventPipeline({
  config,
  redisStoreFor,
  downstream,
  breaker,
  meters,
  naive,
  onStoreFailure,
}) {
  const requests$ = new Subject();

  /** One delivery: its outcome settles the item; cancelled before an outcome, it is still answered. */
  const deliver = (item) =>
    downstream.deliver(item.event).pipe(
      naive ? (call$) => call$ : breaker.guard(),
      tap({
        complete: () => item.settle(200, 'delivered'),
        error: (err) => {
          if (isCircuitOpenError(err)) {
            const headers = Number.isFinite(err.retryAfter)
              ? { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfter / 1000))) }
              : {};
            item.settle(503, 'circuit-open', { headers });
          } else if (isCallTimeoutError(err)) item.settle(504, 'downstream-timeout');
          else item.settle(502, 'downstream-failed');
        },
      }),
      catchError(() => EMPTY),
      // Unsubscribed before an outcome (the shutdown deadline): the call was aborted, and the event
      // may or may not have reached the downstream. Say so rather than nothing.
      finalize(() => item.settle(503, 'cancelled')),
    );

  let output$;
  if (naive) {
    output$ = requests$.pipe(mergeMap(deliver));
  } else {
    // Idle for the time a bucket takes to refill: its bucket is full again, so the group (and its
    // store) can go; the next event of that client starts a new one that is exactly as full.
    const refillMs = Math.ceil((config.burst * 1000) / config.rate);
    output$ = requests$.pipe(
      groupBy((item) => item.event.client, { duration: (group) => group.pipe(debounceTime(refillMs)) }),
      mergeMap((group) => {
        // With Redis, the bucket lives there, shared by every instance; without, in this process.
        const store = redisStoreFor(group.key);
        return group.pipe(
          tokenBucket({
            capacity: config.burst,
            tokensPerInterval: config.rate,
            interval: 1000,
            mode: 'police',
            ...(store && {
              store,
              // Redis unreachable: an in-process bucket with this instance's share of the rate.
              onStoreError: 'local',
              instances: config.instances,
              onStoreFailure,
            }),
            meter: meters.rateLimit,
            // A refusal comes with the bucket's own figures (in process, the store's answer, or the
            // local fallback's; only onStoreError 'closed' refuses without them): `retryAfter` is
            // the ms until the bucket holds this event's token, when a retry would pass.
            onDrop: (item, reason, detail) => {
              // 'cleared': still waiting for Redis's answer when the shutdown deadline passed.
              if (reason !== 'rejected') return item.settle(503, 'shutting-down');
              const { retryAfter } = detail;
              const ms = Math.ceil(retryAfter);
              item.settle(429, 'rate-limited', {
                headers: {
                  'retry-after': String(Math.max(1, Math.ceil(retryAfter / 1000))),
                  'x-retry-after-ms': String(ms),
                },
                body: { retryAfterMs: ms },
              });
            },
          }),
        );
      }),
      bufferPriority(config.queue, deliver, {
        priority: (item) => PRIORITY_RANK[item.event.priority],
        ttl: config.ttl,
        concurrency: config.concurrency,
        meter: meters.queue,
        // 'shed', 'expired', or 'cleared' (still waiting when the shutdown deadline passed).
        onDrop: (item, reason) => item.settle(503, reason === 'cleared' ? 'shutting-down' : reason),
      }),
    );
  }

  let resolveDone;
  let failed = false;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const subscription = output$.subscribe({
    error: (err) => {
      // Not expected (every callback above answers and returns); if it happens, nothing is left
      // unanswered: the operators reported what waited, and later events get a 500 at once.
      failed = true;
      console.error(JSON.stringify({ event: 'pipeline-error', error: String(err) }));
      resolveDone();
    },
    complete: () => resolveDone(),
  });
  subscription.add(() => resolveDone());

  return {
    submit: (item) => {
      if (failed) item.settle(500, 'pipeline-failed');
      else requests$.next(item);
    },
    /** No more events: what waits is delivered (or expires), then `done` resolves. */
    complete: () => requests$.complete(),
    done,
    /** The deadline passed: what still waits is answered 503 and running calls are cancelled. */
    abort: () => subscription.unsubscribe(),
  };
}
