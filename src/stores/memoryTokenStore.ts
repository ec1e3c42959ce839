import { asyncScheduler, type SchedulerLike } from 'rxjs';
import * as check from '../internal/validate.js';
import { decide, type TokenGrant, type TokenRequest, type TokenStore } from './TokenStore.js';

/** Options of {@link memoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /**
   * Where the store reads time. Give the operators that share the store the same scheduler.
   * @default asyncScheduler (virtual under `TestScheduler.run` and `withVirtualTime`)
   */
  scheduler?: SchedulerLike;
}

const NAME = 'memoryTokenStore';

/**
 * A {@link TokenStore} in this process's memory: one token bucket that several `tokenBucket` operators
 * (or subscriptions) share, so that together they keep one limit.
 *
 * It runs the same algorithm as `redisTokenStore` (GCRA: one number, the instant the bucket is full
 * again) and answers synchronously, so a stream through it behaves exactly as the in-process bucket
 * would, in virtual time too. It starts full. Use it to share a limit inside one process, and in tests
 * as a stand-in for the Redis store.
 *
 * ```text
 * const store = memoryTokenStore();   capacity 2, tokensPerInterval 1, interval 10 (1 frame = 1 ms)
 * a$:      (ab)------------------|     a$.pipe(tokenBucket({ ..., store }))
 * b$:      --(cd)----------------|     b$.pipe(tokenBucket({ ..., store }))
 * out a:   (ab)------------------|
 * out b:   ----------c---------d-|     (a and b took the two tokens: b waits for new ones)
 * ```
 *
 * ## Example
 * ```ts
 * import { merge } from 'rxjs';
 * import { memoryTokenStore, tokenBucket } from 'rxjs-backpressure';
 *
 * // Two streams share 10 calls per second.
 * const store = memoryTokenStore();
 * const limit = tokenBucket<Request>({ capacity: 10, tokensPerInterval: 10, interval: 1000, store });
 * merge(search$.pipe(limit), suggest$.pipe(limit)).subscribe(send);
 * ```
 *
 * @see `redisTokenStore` in `rxjs-backpressure/redis`, to share a limit between processes.
 * @param options See {@link MemoryTokenStoreOptions}.
 * @return A store to pass as `tokenBucket`'s `store` option.
 */
export function memoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  check.options(NAME, options, ['scheduler']);
  const { scheduler: given } = options;
  check.scheduler(NAME, given);
  const scheduler = given ?? asyncScheduler;
  let fullAt = -Infinity;
  return {
    acquire(request: TokenRequest): TokenGrant {
      const time = scheduler.now();
      const decision = decide(fullAt, time, request.mode, request.cost, request.capacity, request.period);
      fullAt = decision.fullAt;
      return { granted: decision.granted, delay: decision.delay, time };
    },
  };
}
