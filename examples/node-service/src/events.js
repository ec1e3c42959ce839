// The POST /events pipeline. Every event is an `item` with a `settle(status, outcome, extra)` that
// answers its HTTP request exactly once (later calls do nothing); every path below ends in one.
//
//   requests$ ─ groupBy(client) ─ tokenBucket(police, per client) ─ bufferPriority(ttl) ─ breaker.guard() ─ downstream
//                                   │ 'rejected': 429 + Retry-After     │ 'shed' / 'expired': 503    │ open: 503, failed: 502/504
//
// The naive version (`naive: true`) is the same code with `mergeMap` in place of the library's
// operators: no limit per client, no bounded queue, no expiry, no breaker.
import { catchError, debounceTime, EMPTY, finalize, groupBy, mergeMap, Subject, tap } from 'rxjs';
import {
  bufferPriority,
  isCallTimeoutError,
  isCircuitOpenError,
  memoryTokenStore,
  tokenBucket,
} from 'rxjs-backpressure';

export const PRIORITY_RANK = { critical: 3, normal: 2, bulk: 1 };

/**
 * Wraps a store so that the item whose request it answers learns the store's `delay` when refused:
 * in police mode that is "the time until a retry of the same request could succeed", the exact
 * Retry-After. `tokenBucket` computes it too but does not pass it to `onDrop` (see the README,
 * "What the library lacks"), so the item is tagged by the `cost` function, which the operator calls
 * for a value synchronously right before it asks the store for it.
 */
function retryAwareStore(store, tag) {
  return {
    acquire(request) {
      const item = tag.current;
      tag.current = undefined;
      const note = (grant) => {
        if (item && grant && grant.granted === false) item.retryAfterMs = grant.delay;
        return grant;
      };
      const answer = store.acquire(request);
      return answer && typeof answer.then === 'function' ? answer.then(note) : note(answer);
    },
  };
}

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
  const period = 1000 / config.rate; // ms per token

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
    const refillMs = Math.ceil(config.burst * period);
    output$ = requests$.pipe(
      groupBy((item) => item.event.client, { duration: (group) => group.pipe(debounceTime(refillMs)) }),
      mergeMap((group) => {
        const tag = { current: undefined };
        const store = retryAwareStore(redisStoreFor(group.key) ?? memoryTokenStore(), tag);
        return group.pipe(
          tokenBucket({
            capacity: config.burst,
            tokensPerInterval: config.rate,
            interval: 1000,
            mode: 'police',
            store,
            cost: (item) => {
              tag.current = item;
              return 1;
            },
            onStoreError: 'local',
            instances: config.instances,
            onStoreFailure,
            meter: meters.rateLimit,
            onDrop: (item) => {
              // Exact: the store's own answer. Without one (Redis unreachable, the local fallback
              // decided), the bound: one token at the fallback's rate.
              const exact = item.retryAfterMs !== undefined;
              const ms = exact ? item.retryAfterMs : period * config.instances;
              item.settle(429, 'rate-limited', {
                headers: {
                  'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
                  'x-retry-after-ms': String(Math.ceil(ms)),
                  'x-retry-after-source': exact ? 'bucket' : 'fallback-bound',
                },
                body: { retryAfterMs: Math.ceil(ms) },
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
