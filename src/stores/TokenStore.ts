/**
 * What `tokenBucket` asks a {@link TokenStore} for: `cost` tokens of a bucket that holds at most
 * `capacity` tokens and gains one every `period` ms.
 */
export interface TokenRequest {
  /**
   * `'reserve'` (shape mode): take the tokens now, whether they exist yet or not, and answer how long
   * until they do. `'police'` (police mode): take them only if they exist now.
   */
  mode: 'reserve' | 'police';
  /**
   * Tokens asked for: a finite number from 0 to `capacity`. In shape mode, the summed cost of every
   * value of one waiting batch.
   */
  cost: number;
  /** The bucket's size in tokens: a finite number > 0. */
  capacity: number;
  /** Milliseconds per token (`interval / tokensPerInterval`): a finite number >= 0 (0: no limit). */
  period: number;
}

/** A {@link TokenStore}'s answer. */
export interface TokenGrant {
  /**
   * Whether the tokens were taken. Always `true` in `'reserve'` mode; in `'police'` mode, `false`
   * when the bucket held fewer than `cost` tokens (nothing was taken then).
   */
  granted: boolean;
  /**
   * Milliseconds, from the decision, until the bucket holds (reserve: held) `cost` tokens: a finite
   * number >= 0. Reserve mode: when the tokens taken exist, 0 if they already did. Police mode: 0 when
   * granted, else the time until a retry of the same request could succeed.
   *
   * Tokens accrue one per `period`, so in reserve mode the first `c` tokens of the cost exist at
   * `delay - (cost - c) * period` (at least 0): this is how `tokenBucket` spreads one batch's values.
   */
  delay: number;
  /** The store's clock at the decision, in ms (Redis: its `TIME`). For logs and tests. */
  time: number;
}

/**
 * Where a token bucket keeps its state when several operators, or several processes, share one limit
 * (the `store` option of `tokenBucket`).
 *
 * One store is one bucket: every request on it draws from the same tokens, and each request states
 * the parameters (`capacity`, `period`) to apply. A decision must be atomic: two requests never see
 * the same tokens. The store may answer synchronously (an in-memory store, so that virtual-time tests
 * stay exact) or with a promise; a throw, a rejected promise or an answer that is not a
 * {@link TokenGrant} counts as the store being unreachable (see `onStoreError`).
 *
 * Implementations: `memoryTokenStore` (this package) and `redisTokenStore`
 * (`rxjs-backpressure/redis`).
 *
 * ## Example
 * ```ts
 * import type { TokenGrant, TokenRequest, TokenStore } from 'rxjs-backpressure';
 *
 * // A store that logs every decision of another one.
 * function logged(store: TokenStore): TokenStore {
 *   return {
 *     acquire: async (request: TokenRequest): Promise<TokenGrant> => {
 *       const grant = await store.acquire(request);
 *       console.log(request.mode, request.cost, grant.granted, grant.delay);
 *       return grant;
 *     },
 *   };
 * }
 * ```
 */
export interface TokenStore {
  /** Takes tokens (see {@link TokenRequest}) and answers how it went. */
  acquire(request: TokenRequest): TokenGrant | PromiseLike<TokenGrant>;
}

/**
 * Differences below this many milliseconds are rounding, not time (as in the in-process bucket); the
 * Lua script of `redisTokenStore` uses the same.
 */
export const STORE_EPSILON_MS = 1e-6;

/** The outcome of {@link decide}: the grant, and the bucket's new `fullAt`. */
export interface Decision {
  granted: boolean;
  delay: number;
  fullAt: number;
}

/**
 * The generic cell rate algorithm on one number, `fullAt` (the instant the bucket is full again), as
 * both stores run it: `memoryTokenStore` here, `redisTokenStore` in Lua with the same steps.
 *
 * At `now` the bucket holds `capacity - max(0, fullAt - now) / period` tokens; `cost` tokens exist at
 * `readyAt = max(fullAt, now) - (capacity - cost) * period`. Reserve: take them and move `fullAt` by
 * `cost * period`, answering `max(0, readyAt - now)`. Police: the same when `readyAt <= now`, else
 * refuse with `readyAt - now` and change nothing.
 */
export function decide(
  fullAt: number,
  now: number,
  mode: 'reserve' | 'police',
  cost: number,
  capacity: number,
  period: number,
): Decision {
  const base = fullAt > now ? fullAt : now;
  const wait = base - (capacity - cost) * period - now;
  if (mode === 'police' && wait > STORE_EPSILON_MS) return { granted: false, delay: wait, fullAt };
  return { granted: true, delay: wait > STORE_EPSILON_MS ? wait : 0, fullAt: base + cost * period };
}
