import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { TokenGrant, TokenRequest, TokenStore } from '../stores/TokenStore.js';
import * as check from '../internal/validate.js';
import { TOKEN_BUCKET_SCRIPT, TOKEN_BUCKET_SCRIPT_SHA1 } from './script.js';

/**
 * What `redisTokenStore` needs of an ioredis 6.x client (`new Redis(...)` or `new Cluster(...)`).
 * Typed by shape, so that this package's types never import ioredis.
 */
export interface IoRedisClientLike {
  /** EVALSHA: runs the cached script by its SHA-1 (keys first, then arguments). */
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  /** EVAL: runs the script's text (the first time, or after Redis lost its script cache). */
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * What `redisTokenStore` needs of a node-redis (`redis`) 6.x client (`createClient(...)` once
 * connected, or `createCluster(...)`). Typed by shape, so that this package's types never import it.
 */
export interface NodeRedisClientLike {
  /** EVALSHA: runs the cached script by its SHA-1. */
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** EVAL: runs the script's text (the first time, or after Redis lost its script cache). */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Options of {@link redisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * A connected ioredis 6.x or node-redis (`redis`) 6.x client, or either's cluster client. The store
   * sends it one EVALSHA per decision (EVAL the first time, or after Redis lost its script cache).
   * Give it an `'error'` listener: node-redis throws an unhandled `'error'` event when Redis goes away.
   * Required.
   */
  client: IoRedisClientLike | NodeRedisClientLike;
  /**
   * Names the shared bucket: every process that uses the same key on the same Redis draws from the
   * same tokens. The Redis key is `{<key>}:tokens`: the braces make a cluster hash tag, so that
   * whatever the store keeps for this bucket stays in one slot. A non-empty string without `{` or `}`.
   * Required.
   */
  key: string;
  /**
   * Milliseconds to wait for Redis before the request counts as failed (see `onStoreError` of
   * `tokenBucket`), measured on `scheduler`. A finite number > 0, or `Infinity` (wait for the
   * client's own timeouts).
   * @default 50
   */
  timeout?: number;
  /**
   * Where the timeout is scheduled (virtual under `withVirtualTime`, like every timer of the library).
   * @default asyncScheduler
   */
  scheduler?: SchedulerLike;
}

/** A {@link TokenStore} on Redis, as {@link redisTokenStore} makes it. */
export interface RedisTokenStore extends TokenStore {
  /** The Redis key of the bucket, `{<key>}:tokens`. */
  readonly key: string;
}

/**
 * The error a {@link redisTokenStore} request fails with when Redis has not answered within
 * `timeout`. Recognise it across copies of the library with {@link isTokenStoreTimeoutError}.
 */
export class TokenStoreTimeoutError extends Error {
  /** Always `'TokenStoreTimeoutError'`. */
  override readonly name = 'TokenStoreTimeoutError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isTokenStoreTimeoutError = true;

  constructor(
    /** The timeout that ran out, in ms. */
    readonly timeout: number,
    /** The Redis key of the bucket. */
    readonly key: string,
  ) {
    super(`redisTokenStore: no answer from Redis within \`timeout\` ${String(timeout)} ms (key ${key})`);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** True for a {@link TokenStoreTimeoutError} from any copy of this library. */
export function isTokenStoreTimeoutError(err: unknown): err is TokenStoreTimeoutError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isTokenStoreTimeoutError?: unknown }).isTokenStoreTimeoutError === true
  );
}

/**
 * The code of a Redis error reply: its first word (`NOSCRIPT`, `ERR`, `WRONGTYPE`, ...), which is
 * what the protocol defines; the rest of the message is free text that changes between versions
 * (Redis 7 prefixed script errors with `ERR `). `undefined` for anything that is not an error reply.
 */
export function redisErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { message } = err as { message?: unknown };
  if (typeof message !== 'string') return undefined;
  const match = /^([A-Z][A-Z0-9_]*)(?:\s|$)/.exec(message);
  return match ? match[1] : undefined;
}

const NAME = 'redisTokenStore';

/**
 * A {@link TokenStore} in Redis: one token bucket shared by every process that uses the same `key`
 * on the same Redis (cluster workers, pods, serverless instances), so that together they keep one
 * limit, such as an API's "100 requests per second for this key".
 *
 * Each decision is one Lua script, run atomically by Redis, that reads the time from Redis itself
 * (`TIME`): the clocks of the processes do not matter. The bucket is one number per key (GCRA, as
 * in redis-cell: the instant the bucket is full again), and the key expires at that instant, so an
 * idle bucket keeps nothing in Redis. A Redis that loses the key (a restart without persistence, an
 * eviction) starts the bucket full again. Scripts are sent with EVALSHA, and with EVAL when Redis
 * answers `NOSCRIPT` (errors are told apart by their code, never by message text).
 *
 * A request Redis does not answer within `timeout` fails with a {@link TokenStoreTimeoutError}
 * (`tokenBucket`'s `onStoreError` decides what happens then); a late answer is ignored, and the tokens
 * it took stay taken.
 *
 * ## Example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { tokenBucket } from 'rxjs-backpressure';
 * import { redisTokenStore } from 'rxjs-backpressure/redis';
 *
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * client.on('error', (err) => console.warn('redis:', err.message));
 * const store = redisTokenStore({ client, key: 'api:github', timeout: 50 });
 * requests$.pipe(
 *   tokenBucket({ capacity: 20, tokensPerInterval: 10, interval: 1000, store, onStoreError: 'local', instances: 4 }),
 * );
 * ```
 *
 * @see `memoryTokenStore` (main entry), the same bucket inside one process.
 * @param options See {@link RedisTokenStoreOptions}; `client` and `key` are required.
 * @return A store to pass as `tokenBucket`'s `store` option.
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  check.options(NAME, options, ['client', 'key', 'timeout', 'scheduler'], { required: true });
  const { client, key, timeout = 50, scheduler = asyncScheduler } = options;
  check.scheduler(NAME, options.scheduler);
  const run = scriptRunner(client);
  if (typeof key !== 'string') {
    throw new TypeError(`${NAME}: \`key\` must be a non-empty string, got ${check.describe(key)}`);
  }
  if (key === '' || /[{}]/.test(key)) {
    throw new RangeError(
      `${NAME}: \`key\` must be a non-empty string without { or } (the store adds the hash tag), got ${check.describe(key)}`,
    );
  }
  check.positiveOrInfinity(NAME, 'timeout', timeout);
  const redisKey = `{${key}}:tokens`;

  const evaluate = async (args: string[]): Promise<unknown> => {
    try {
      return await run(true, redisKey, args);
    } catch (err) {
      // Redis lost its script cache (a restart, SCRIPT FLUSH, a failover): send the script itself.
      if (redisErrorCode(err) !== 'NOSCRIPT') throw err;
      return run(false, redisKey, args);
    }
  };

  return {
    key: redisKey,
    acquire(request: TokenRequest): Promise<TokenGrant> {
      const args = [request.mode, String(request.cost), String(request.capacity), String(request.period)];
      const reply = evaluate(args).then(toGrant);
      if (timeout === Infinity) return reply;
      return new Promise<TokenGrant>((resolve, reject) => {
        const timer = scheduler.schedule(() => {
          reject(new TokenStoreTimeoutError(timeout, redisKey));
        }, timeout);
        reply
          .finally(() => {
            timer.unsubscribe();
          })
          .then(resolve, reject);
      });
    },
  };
}

/** EVALSHA (`cached`) or EVAL of the script through whichever client this is. */
function scriptRunner(client: unknown): (cached: boolean, key: string, args: string[]) => Promise<unknown> {
  const c = client as Partial<IoRedisClientLike & NodeRedisClientLike> | null;
  if (typeof c === 'object' && c !== null) {
    if (typeof c.evalSha === 'function' && typeof c.eval === 'function') {
      const nodeRedis = c as NodeRedisClientLike;
      return (cached, key, args) => {
        const options = { keys: [key], arguments: args };
        return cached
          ? nodeRedis.evalSha(TOKEN_BUCKET_SCRIPT_SHA1, options)
          : nodeRedis.eval(TOKEN_BUCKET_SCRIPT, options);
      };
    }
    if (typeof c.evalsha === 'function' && typeof c.eval === 'function') {
      const ioredis = c as IoRedisClientLike;
      return (cached, key, args) =>
        cached
          ? ioredis.evalsha(TOKEN_BUCKET_SCRIPT_SHA1, 1, key, ...args)
          : ioredis.eval(TOKEN_BUCKET_SCRIPT, 1, key, ...args);
    }
  }
  throw new TypeError(
    `${NAME}: \`client\` must be an ioredis or node-redis (\`redis\`) client (with evalsha/evalSha and eval), got ${check.describe(client)}`,
  );
}

/** The script's reply as a grant; a TypeError (a store failure) for anything else. */
function toGrant(reply: unknown): TokenGrant {
  if (Array.isArray(reply) && reply.length === 3) {
    const [granted, delay, time] = reply as unknown[];
    const d = Number(delay);
    const t = Number(time);
    if ((granted === 0 || granted === 1) && Number.isFinite(d) && d >= 0 && Number.isFinite(t)) {
      return { granted: granted === 1, delay: d, time: t };
    }
  }
  throw new TypeError(`${NAME}: unexpected reply from the script: ${JSON.stringify(reply)}`);
}
