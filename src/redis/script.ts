/**
 * The Lua script behind `redisTokenStore`: one atomic decision per call, on the time Redis reads
 * itself (`TIME`), so that the clocks of the processes sharing the bucket do not matter.
 *
 * The bucket is one number, `fullAt`: the instant (Redis clock, ms) at which it is full again, as in
 * `decide` of `../stores/TokenStore.ts`, whose steps it repeats. The key expires at that instant: a
 * full bucket keeps nothing in Redis.
 *
 * KEYS[1]: the bucket's key. ARGV: mode (`reserve` or `police`), cost, capacity, period (ms per
 * token). Returns `{ granted (1 or 0), delay (ms), time (ms) }`, the two numbers as strings, since Redis
 * truncates Lua numbers to integers.
 */
export const TOKEN_BUCKET_SCRIPT = `-- rxjs-backpressure token bucket (GCRA) v1
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local cost = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local period = tonumber(ARGV[4])
local fullAt = tonumber(redis.call('GET', KEYS[1])) or now
if fullAt < now then fullAt = now end
local wait = fullAt - (capacity - cost) * period - now
if ARGV[1] == 'police' and wait > 1e-6 then
  return { 0, string.format('%.17g', wait), string.format('%.17g', now) }
end
fullAt = fullAt + cost * period
local ttl = math.ceil(fullAt - now)
if ttl > 0 then
  redis.call('SET', KEYS[1], string.format('%.17g', fullAt), 'PX', ttl)
else
  redis.call('DEL', KEYS[1])
end
if wait < 1e-6 then wait = 0 end
return { 1, string.format('%.17g', wait), string.format('%.17g', now) }
`;

/** SHA-1 of {@link TOKEN_BUCKET_SCRIPT}, for EVALSHA (a test checks that it matches). */
export const TOKEN_BUCKET_SCRIPT_SHA1 = '8711959b602e3a2663bdf66c59551599bab248cb';
