/**
 * `rxjs-backpressure/redis`: a token bucket in Redis, shared by every process that uses the same key,
 * for `tokenBucket`'s `store` option. Works with ioredis 6.x and node-redis (`redis`) 6.x clients,
 * which are optional peer dependencies: this entry never loads either, it uses the client you pass.
 * @module rxjs-backpressure/redis
 */
export {
  redisTokenStore,
  redisErrorCode,
  TokenStoreTimeoutError,
  isTokenStoreTimeoutError,
} from './redisTokenStore.js';
export type {
  RedisTokenStore,
  RedisTokenStoreOptions,
  IoRedisClientLike,
  NodeRedisClientLike,
} from './redisTokenStore.js';
export { TOKEN_BUCKET_SCRIPT, TOKEN_BUCKET_SCRIPT_SHA1 } from './script.js';
