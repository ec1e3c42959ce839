/**
 * The standard load test (issue 11): four scenarios, each run through the same set of policies.
 * `scripts/loadtest.ts` runs them and writes docs/loadtest.md; spec/simulation checks conservation on
 * every policy here.
 */
import { catchError, concatMap, EMPTY, exhaustMap, mergeMap, type Observable } from 'rxjs';
import {
  bufferDropping,
  bufferFixed,
  bufferPriority,
  bufferSliding,
  CircuitBreaker,
  tokenBucket,
} from '../../src/index.js';
import {
  bursts,
  downstream,
  lognormal,
  meanServiceTime,
  poisson,
  type Arrival,
  type Call,
  type Policy,
  type Scenario,
  type SimulatedResponse,
} from '../../src/simulation/index.js';

/** The downstream of every scenario: 4 workers, log-normal service times (median 20 ms, p99 80 ms), a 1 s client timeout. */
export const WORKERS = 4;
export const SERVICE_TIME = lognormal({ median: 20, p99: 80 });
export const TIMEOUT = 1_000;
/** Requests per second the downstream can serve (about 167). */
export const CAPACITY = (WORKERS * 1000) / meanServiceTime(SERVICE_TIME);
/** Virtual ms of traffic per scenario. */
export const DURATION = 60_000;
/** When the incident of scenario 3 starts and ends. */
export const INCIDENT = { from: 20_000, to: 40_000 } as const;

const rate = (factor: number) => Math.round(CAPACITY * factor);
const base = { workers: WORKERS, serviceTime: SERVICE_TIME, timeout: TIMEOUT };

export interface LoadScenario {
  /** A short name for files (docs/loadtest/<id>-<chart>.svg). */
  id: string;
  title: string;
  /** One sentence: what the traffic and the downstream do. */
  description: string;
  scenario: Scenario;
}

export const SCENARIOS: readonly LoadScenario[] = [
  {
    id: 'steady',
    title: '1. Steady overload',
    description: `Poisson arrivals at ${String(rate(2))}/s, twice what the downstream serves (about ${String(rate(1))}/s), for 60 s.`,
    scenario: {
      duration: DURATION,
      seed: 11,
      arrivals: poisson({ rate: rate(2) }),
      downstream: downstream(base),
    },
  },
  {
    id: 'bursts',
    title: '2. Bursts',
    description: `${String(rate(10))} values spread over 1 s (10x capacity) every 10 s, nothing in between: on average exactly the downstream's capacity.`,
    scenario: {
      duration: DURATION,
      seed: 12,
      arrivals: bursts({ size: rate(10), every: 10_000, spacing: 1000 / rate(10) }),
      downstream: downstream(base),
    },
  },
  {
    id: 'incident',
    title: '3. Incident',
    description: `Poisson arrivals at ${String(rate(0.6))}/s (60% of capacity); from 20 s to 40 s the downstream runs on 1 of its 4 workers, then recovers.`,
    scenario: {
      duration: DURATION,
      seed: 13,
      arrivals: poisson({ rate: rate(0.6) }),
      downstream: downstream({
        ...base,
        phases: [
          { at: INCIDENT.from, workers: 1 },
          { at: INCIDENT.to, workers: WORKERS },
        ],
      }),
    },
  },
  {
    id: 'priorities',
    title: '4. Mixed priorities under overload',
    description: `Poisson arrivals at ${String(rate(2))}/s (2x capacity), 20% of them \`critical\`, 80% \`optional\`.`,
    scenario: {
      duration: DURATION,
      seed: 14,
      arrivals: poisson({ rate: rate(2), classes: { critical: 0.2, optional: 0.8 } }),
      downstream: downstream(base),
    },
  },
];

/** A call whose failure ends only that call (RxJS's project-based operators have no `onError`). */
const tolerant =
  (call: Call) =>
  (request: Arrival): Observable<SimulatedResponse> =>
    call(request).pipe(catchError(() => EMPTY));

/** Calls at once; the library's buffers and the breaker run this many, like mergeMap(f, 8). */
const CONCURRENCY = 8;
/** Values allowed to wait in the buffers. */
const QUEUE = 100;
/** The token bucket's sustained rate: 90% of the capacity, and bursts of 20. */
const BUCKET = { capacity: 20, tokensPerInterval: rate(0.9), interval: 1000 } as const;

/** The policies every scenario runs, in table order, with the one line that describes each. */
export const POLICIES: readonly { name: string; description: string; policy: Policy }[] = [
  {
    name: 'concatMap',
    description: 'one call at a time, everything else queued without bound',
    policy: (call) => concatMap(tolerant(call)),
  },
  {
    name: 'mergeMap(f, 8)',
    description: '8 calls at once, everything else queued without bound',
    policy: (call) => mergeMap(tolerant(call), CONCURRENCY),
  },
  {
    name: 'exhaustMap',
    description: 'one call at a time, values arriving meanwhile ignored (unreported)',
    policy: (call) => exhaustMap(tolerant(call)),
  },
  {
    name: 'bufferFixed',
    description: `8 calls at once, ${String(QUEUE)} may wait, one more errors the stream`,
    policy: (call, { onDrop }) =>
      bufferFixed(QUEUE, call, { concurrency: CONCURRENCY, onDrop, onError: 'continue' }),
  },
  {
    name: 'bufferDropping',
    description: `8 calls at once, ${String(QUEUE)} may wait, arrivals beyond dropped`,
    policy: (call, { onDrop }) =>
      bufferDropping(QUEUE, call, { concurrency: CONCURRENCY, onDrop, onError: 'continue' }),
  },
  {
    name: 'bufferSliding',
    description: `8 calls at once, ${String(QUEUE)} may wait, the oldest evicted`,
    policy: (call, { onDrop }) =>
      bufferSliding(QUEUE, call, { concurrency: CONCURRENCY, onDrop, onError: 'continue' }),
  },
  {
    name: 'bufferPriority + ttl',
    description: `8 calls at once, ${String(QUEUE)} may wait, critical first, optional shed first, 500 ms ttl`,
    policy: (call, { onDrop }) =>
      bufferPriority(QUEUE, call, {
        concurrency: CONCURRENCY,
        priority: (request) => (request.class === 'critical' ? 1 : 0),
        ttl: 500,
        onDrop,
        onError: 'continue',
      }),
  },
  {
    name: 'tokenBucket shape',
    description: `${String(BUCKET.tokensPerInterval)}/s (bursts of ${String(BUCKET.capacity)}), ${String(QUEUE)} may wait for tokens, then every call at once`,
    policy:
      (call, { onDrop }) =>
      (source) =>
        source.pipe(tokenBucket({ ...BUCKET, queueCapacity: QUEUE, onDrop }), mergeMap(tolerant(call))),
  },
  {
    name: 'tokenBucket police',
    description: `${String(BUCKET.tokensPerInterval)}/s (bursts of ${String(BUCKET.capacity)}), values without a token rejected, then every call at once`,
    policy:
      (call, { onDrop }) =>
      (source) =>
        source.pipe(tokenBucket({ ...BUCKET, mode: 'police', onDrop }), mergeMap(tolerant(call))),
  },
  {
    name: 'CircuitBreaker.protect',
    description:
      'every call at once; opens for 2 s when half of the last 20 calls failed or took over 500 ms, dropping arrivals meanwhile',
    policy: (call, { onDrop }) => {
      // Made inside the policy: each run starts with a closed breaker, on the run's virtual clock.
      const breaker = new CircuitBreaker({
        failureRateThreshold: 0.5,
        slowCallDuration: 500,
        slowCallRateThreshold: 0.5,
        window: { calls: 20 },
        minimumCalls: 10,
        openDuration: 2_000,
      });
      return breaker.protect(call, { whenOpen: 'drop', onError: 'continue', onDrop });
    },
  },
];
