import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';
import { checkLimit } from '../internal/limits.js';
import { checkMeter, type FlowMeter } from '../monitoring/FlowMeter.js';
import {
  createStoreTokenBucket,
  type StoreErrorMode,
  type StoreSettings,
} from '../internal/storeTokenBucket.js';
import {
  costAboveCapacity,
  createTokenBucket,
  tokenPeriod,
  type TokenBucketSettings,
} from '../internal/tokenBucketInternals.js';
import type { TokenStore } from '../stores/TokenStore.js';
import * as check from '../internal/validate.js';
import type { OnDrop, OverflowStrategy } from '../types.js';

/** Options of {@link tokenBucket}. */
export interface TokenBucketOptions<T> {
  /**
   * Bucket size: the largest burst, in tokens. A finite number > 0, or an Observable of them that
   * changes it while the stream runs (it must emit at once on subscription): a lower capacity clips
   * the tokens held, a higher one keeps them; a waiting value whose cost is then above the capacity
   * is reported `'rejected'` and the stream errors with a `RangeError`. Required.
   */
  capacity: number | Observable<number>;
  /**
   * Tokens added every `interval`, accrued continuously. A finite number > 0, or an Observable of
   * them: tokens accrued up to a change keep the old rate, then the new rate applies. Required.
   */
  tokensPerInterval: number | Observable<number>;
  /**
   * Milliseconds over which `tokensPerInterval` tokens accrue. A finite number >= 0 (0: refill at once).
   * @default 1000
   */
  interval?: number;
  /**
   * Tokens in the bucket at subscription, from 0 to `capacity`.
   * @default capacity (starts full)
   */
  initialTokens?: number;
  /**
   * Tokens one value takes: a finite number >= 0, or a function of the value returning one. A value
   * whose cost exceeds `capacity` can never pass: a constant `cost` above `capacity` is refused at
   * creation (`RangeError`); a value whose `cost` function returns more than `capacity` is reported
   * `'rejected'` and the stream errors with a `RangeError` naming the cost and the capacity. A
   * function returning a negative, `NaN` or non-number errors the stream with a `TypeError`.
   * @default 1
   */
  cost?: number | ((value: T) => number);
  /**
   * `'shape'`: a value without enough tokens waits (FIFO) until they accrue.
   * `'police'`: a value without enough tokens is dropped (`'rejected'`) or errors the stream.
   * @default 'shape'
   */
  mode?: 'shape' | 'police';
  /**
   * Shape mode only: values allowed to wait. A non-negative integer or `Infinity`, or an Observable
   * of them (lowering it drops nothing by itself: arrivals find the queue full until it drains).
   * @default Infinity
   */
  queueCapacity?: number | Observable<number>;
  /**
   * Shape mode: what to do when `queueCapacity` values already wait (any {@link OverflowStrategy}).
   * Police mode: `'drop-incoming'` drops a value that finds too few tokens, `'error'` errors the stream
   * with a {@link RateLimitExceededError}.
   * @default 'drop-incoming'
   */
  overflow?: OverflowStrategy;
  /**
   * Shape mode only: the longest a value may wait for its tokens, in ms (a finite number >= 0, or
   * `Infinity`). A value still waiting after the releases of the instant `arrival + ttl` is reported
   * `'expired'`. A finite `ttl` in police mode is a `RangeError` (nothing waits there).
   * @default Infinity
   */
  ttl?: number;
  /**
   * Where time is read and timers are scheduled.
   * @default asyncScheduler (virtual under `TestScheduler.run` and `withVirtualTime`)
   */
  scheduler?: SchedulerLike;
  /** Called once for every discarded value: `'overflow'`, `'rejected'`, `'expired'` or `'cleared'`. */
  onDrop?: OnDrop<T>;
  /** Counts what flows through this operator, with the tokens available (see {@link FlowMeter}). */
  meter?: FlowMeter;
  /**
   * Where the bucket lives when several operators or processes share one limit: a
   * {@link TokenStore} such as `memoryTokenStore()` or `redisTokenStore(...)` from
   * `rxjs-backpressure/redis`. The store starts full; `initialTokens` does not apply.
   *
   * Shape mode takes the tokens of all the values that wait, up to `capacity`, in one request and
   * spreads them at the delays the store answers; values that arrive while a request is in flight
   * wait (subject to `queueCapacity`, `overflow` and `ttl`, which also covers the wait after the
   * answer). Police mode asks once per value and applies the answers in arrival order. A request in
   * flight at unsubscribe is abandoned: its answer is ignored and the tokens it took are not given
   * back. Limits that change are sent with the next request. The meter's `tokens` gauge reads 0
   * (the tokens live in the store), except while `'local'` falls back.
   * @default undefined (an in-process bucket: none of the store options apply)
   */
  store?: TokenStore;
  /**
   * With `store`: what happens while the store cannot be reached (it throws, rejects, or, for
   * `redisTokenStore`, does not answer within its `timeout`):
   * - `'error'`: the output errors with the store's error; waiting values are reported `'cleared'`;
   * - `'open'`: values pass without any limit;
   * - `'closed'`: values are reported `'rejected'`;
   * - `'local'`: an in-process bucket of the same `capacity` and `tokensPerInterval / instances`
   *   takes over (it starts with `capacity / instances` tokens).
   *
   * Except with `'error'`, the operator goes back to the store once it answers again, trying it at
   * most once per `retryInterval`.
   * @default 'error'
   */
  onStoreError?: StoreErrorMode;
  /**
   * With `onStoreError: 'local'` (and required there): how many processes share the store, so that
   * their fallback buckets together keep about the shared rate. A positive integer.
   */
  instances?: number;
  /**
   * With `store` and `onStoreError` `'open'`, `'closed'` or `'local'`: the least time between two
   * attempts to reach the store again while falling back, in ms. A finite number >= 0.
   * @default 1000
   */
  retryInterval?: number;
  /**
   * With `store`: called when the store fails and the operator falls back (or, with `'error'`, before
   * the output errors), and again on every retry that fails; not for each value. A throw errors
   * the output.
   */
  onStoreFailure?: (error: unknown, mode: StoreErrorMode) => void;
}

const OPERATOR = 'tokenBucket';
const TOKEN_BUCKET_KEYS: readonly string[] = [
  'capacity',
  'tokensPerInterval',
  'interval',
  'initialTokens',
  'cost',
  'mode',
  'queueCapacity',
  'overflow',
  'ttl',
  'scheduler',
  'onDrop',
  'meter',
];
/** The options of a bucket whose state lives in a store (see `TokenStore`). */
const STORE_KEYS: readonly string[] = [
  'store',
  'onStoreError',
  'instances',
  'retryInterval',
  'onStoreFailure',
];
const STORE_ERROR_MODES: readonly StoreErrorMode[] = ['error', 'open', 'closed', 'local'];

/**
 * Lets bursts through up to a capacity, then paces values to a sustained rate.
 *
 * A bucket holds up to `capacity` tokens and refills continuously at `tokensPerInterval` per
 * `interval`; each value takes `cost` tokens.
 *
 * ```
 * tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10 })   (1 frame = 1 ms)
 * source:  (abcd)----------------------------|
 * shape:   (ab)------c---------d-------------|
 * police:  (ab)------------------------------|     onDrop: c 'rejected', d 'rejected'
 * ```
 *
 * In `'shape'` mode (the default) a value that finds enough tokens, with nobody waiting ahead of it,
 * is emitted at once; otherwise it waits, in arrival order, until its tokens have accrued. Waiting
 * values beyond `queueCapacity` are handled by `overflow`. On completion the waiting values are
 * emitted at their times, then the output completes.
 *
 * In `'police'` mode nothing waits: a value that finds too few tokens is dropped with reason
 * `'rejected'`, or, with `overflow: 'error'`, errors the stream with {@link RateLimitExceededError}.
 * Completion is immediate.
 *
 * A source error is sent at once; waiting values are reported `'cleared'`. Time is read only from
 * `scheduler` (default `asyncScheduler`), so the operator runs in virtual time in tests. There is at
 * most one scheduled action per subscription, and none while nothing waits. With whole-millisecond
 * token periods (`interval / tokensPerInterval`) every emission falls on a whole millisecond, however
 * many values pass.
 *
 * ## Example
 * ```ts
 * import { tokenBucket } from 'rxjs-backpressure';
 *
 * // An API allows bursts of 10 requests and 5 requests per second sustained.
 * requests$.pipe(
 *   tokenBucket({ capacity: 10, tokensPerInterval: 5, interval: 1000, queueCapacity: 100 }),
 *   mergeMap((req) => callApi(req)),
 * );
 * ```
 *
 * @see {@link leakyBucket} for a steady outflow without bursts.
 * @param options See {@link TokenBucketOptions}; `capacity` and `tokensPerInterval` are required.
 * @return An operator emitting the source's values, paced or policed.
 */
export function tokenBucket<T>(options: TokenBucketOptions<NoInfer<T>>): MonoTypeOperatorFunction<T> {
  check.options(OPERATOR, options, [...TOKEN_BUCKET_KEYS, ...STORE_KEYS], { required: true });
  const {
    capacity,
    tokensPerInterval,
    interval = 1000,
    cost = 1,
    mode = 'shape',
    overflow = 'drop-incoming',
    ttl = Infinity,
    scheduler,
    onDrop,
    meter,
  } = options;
  checkLimit(OPERATOR, 'capacity', capacity, check.finitePositive);
  checkLimit(OPERATOR, 'tokensPerInterval', tokensPerInterval, check.finitePositive);
  check.finiteNonNegative(OPERATOR, 'interval', interval);
  // With numbers, everything is checked now; an Observable's values are checked as they come.
  if (typeof capacity === 'number' && typeof tokensPerInterval === 'number') {
    tokenPeriod(OPERATOR, interval, tokensPerInterval, capacity);
  }
  const { initialTokens } = options;
  if (initialTokens !== undefined || typeof capacity === 'number') {
    const max = typeof capacity === 'number' ? capacity : Infinity;
    check.numberInRange(OPERATOR, 'initialTokens', initialTokens === undefined ? max : initialTokens, 0, max);
  }
  if (typeof cost !== 'function') {
    check.finiteNonNegative(OPERATOR, 'cost', cost);
    if (typeof capacity === 'number' && cost > capacity) throw costAboveCapacity(OPERATOR, cost, capacity);
  }
  const modeValue: unknown = mode;
  if (modeValue !== 'shape' && modeValue !== 'police') {
    throw new (typeof modeValue === 'string' ? RangeError : TypeError)(
      `${OPERATOR}: \`mode\` must be 'shape' or 'police', got ${check.describe(modeValue)}`,
    );
  }
  check.nonNegativeOrInfinity(OPERATOR, 'ttl', ttl);
  check.scheduler(OPERATOR, scheduler);
  check.optionalFunction(OPERATOR, 'onDrop', onDrop);
  checkMeter(OPERATOR, meter);

  const { queueCapacity: requestedQueue = Infinity } = options;
  checkLimit(OPERATOR, 'queueCapacity', requestedQueue, check.nonNegativeIntegerOrInfinity);
  let queueCapacity: number | Observable<number>;
  if (mode === 'police') {
    if (options.queueCapacity !== undefined) {
      throw new RangeError(
        `${OPERATOR}: \`queueCapacity\` applies to mode 'shape' only (police mode never queues), got ${check.describe(options.queueCapacity)}`,
      );
    }
    if (ttl !== Infinity) {
      throw new RangeError(
        `${OPERATOR}: \`ttl\` applies to mode 'shape' only (police mode never queues), got ${check.describe(ttl)}`,
      );
    }
    check.overflowStrategy(OPERATOR, overflow, ['drop-incoming', 'error']);
    queueCapacity = 0;
  } else {
    check.overflowStrategy(OPERATOR, overflow);
    queueCapacity = requestedQueue;
  }

  const storeSettings = checkStoreOptions(options);
  if (storeSettings && options.initialTokens !== undefined) {
    throw new RangeError(
      `${OPERATOR}: \`initialTokens\` does not apply with \`store\` (a store's bucket starts full), got ${check.describe(options.initialTokens)}`,
    );
  }

  const settings: TokenBucketSettings<T> = {
    operator: OPERATOR,
    capacity,
    tokensPerInterval,
    interval,
    rateChange: 'rescale',
    initialTokens,
    cost,
    mode,
    queueCapacity,
    overflow,
    ttl,
    scheduler,
    onDrop,
    meter,
  };
  // Without a store the in-process bucket runs as it always has: the store path is a separate one.
  return storeSettings ? createStoreTokenBucket<T>(settings, storeSettings) : createTokenBucket<T>(settings);
}

/** Validates the store options; `undefined` without a store (then none of them may be given). */
function checkStoreOptions(options: TokenBucketOptions<never>): StoreSettings | undefined {
  const { store, onStoreError = 'error', instances, retryInterval = 1000, onStoreFailure } = options;
  if (store === undefined) {
    for (const key of ['onStoreError', 'instances', 'retryInterval', 'onStoreFailure'] as const) {
      // null is a wrong type, as for every option; any other value is out of place without a store.
      if ((options[key] as unknown) === null) {
        throw new TypeError(`${OPERATOR}: \`${key}\` must be left out without \`store\`, got null`);
      }
      if (options[key] !== undefined) {
        throw new RangeError(
          `${OPERATOR}: \`${key}\` applies only with \`store\`, got ${check.describe(options[key])}`,
        );
      }
    }
    return undefined;
  }
  const given: unknown = store;
  if (
    typeof given !== 'object' ||
    given === null ||
    typeof (given as { acquire?: unknown }).acquire !== 'function'
  ) {
    throw new TypeError(
      `${OPERATOR}: \`store\` must be a TokenStore (an object with an acquire method), got ${check.describe(store)}`,
    );
  }
  const modeValue: unknown = onStoreError;
  if (!(STORE_ERROR_MODES as readonly unknown[]).includes(modeValue)) {
    throw new (typeof modeValue === 'string' ? RangeError : TypeError)(
      `${OPERATOR}: \`onStoreError\` must be one of 'error', 'open', 'closed', 'local', got ${check.describe(modeValue)}`,
    );
  }
  if (onStoreError === 'local') {
    if (instances === undefined) {
      throw new TypeError(
        `${OPERATOR}: \`instances\` is required with onStoreError 'local' (the fallback bucket gets \`tokensPerInterval / instances\`)`,
      );
    }
    check.positiveInteger(OPERATOR, 'instances', instances);
  } else if (instances !== undefined) {
    throw new RangeError(
      `${OPERATOR}: \`instances\` applies only with onStoreError 'local', got ${check.describe(instances)}`,
    );
  }
  check.finiteNonNegative(OPERATOR, 'retryInterval', retryInterval);
  if (onStoreError === 'error' && options.retryInterval !== undefined) {
    throw new RangeError(
      `${OPERATOR}: \`retryInterval\` does not apply with onStoreError 'error' (the output errors at the first failure), got ${check.describe(retryInterval)}`,
    );
  }
  check.optionalFunction(OPERATOR, 'onStoreFailure', onStoreFailure);
  return { store, onStoreError, instances: instances ?? 1, retryInterval, onStoreFailure };
}
