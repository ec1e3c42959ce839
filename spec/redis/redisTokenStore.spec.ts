import { createHash } from 'node:crypto';
import { asyncScheduler } from 'rxjs';
import {
  isTokenStoreTimeoutError,
  redisErrorCode,
  redisTokenStore,
  TOKEN_BUCKET_SCRIPT,
  TOKEN_BUCKET_SCRIPT_SHA1,
  TokenStoreTimeoutError,
  type NodeRedisClientLike,
} from 'rxjs-backpressure/redis';
import { tokenStoreConformance } from '../stores/conformance';
import { CLIENT_KINDS, connect, type TestClient } from './clients';
import { describeWithRedis, RedisServer, sleep } from './redisServer';

let keys = 0;
/** A key no other test uses. */
const freshKey = () => `conformance:${String(process.pid)}:${String(++keys)}`;

describe('redisTokenStore without a server', () => {
  it('sends the script whose SHA-1 it names', () => {
    expect(createHash('sha1').update(TOKEN_BUCKET_SCRIPT).digest('hex')).toBe(TOKEN_BUCKET_SCRIPT_SHA1);
  });

  it('reads the code of a Redis error from its first word, never the rest of the message', () => {
    expect(redisErrorCode(new Error('NOSCRIPT No matching script. Please use EVAL.'))).toBe('NOSCRIPT');
    expect(
      redisErrorCode(new Error('ERR user_script:1: Script attempted to access nonexistent global')),
    ).toBe('ERR');
    expect(redisErrorCode(new Error('connect ECONNREFUSED /tmp/x.sock'))).toBeUndefined();
    expect(redisErrorCode('NOSCRIPT')).toBeUndefined();
  });

  it('validates its options, naming the option and the value', () => {
    const client = { evalsha: () => Promise.resolve(null), eval: () => Promise.resolve(null) };
    expect(() => redisTokenStore({ client, key: 'a{b}' })).toThrow(
      'redisTokenStore: `key` must be a non-empty string without { or } (the store adds the hash tag), got "a{b}" (string)',
    );
    expect(() => redisTokenStore({ client, key: '' })).toThrow(RangeError);
    expect(() => redisTokenStore({ client, key: 1 as never })).toThrow(TypeError);
    expect(() => redisTokenStore({ client, key: 'k', timeout: 0 })).toThrow(
      'redisTokenStore: `timeout` must be a finite number > 0 or Infinity, got 0 (number)',
    );
    expect(() => redisTokenStore({ client: {} as never, key: 'k' })).toThrow(
      'redisTokenStore: `client` must be an ioredis or node-redis (`redis`) client',
    );
    expect(() => redisTokenStore({ client, key: 'k', timeOut: 5 } as never)).toThrow(
      'redisTokenStore: unknown option `timeOut` (did you mean `timeout`?)',
    );
    expect(redisTokenStore({ client, key: 'api:github' }).key).toBe('{api:github}:tokens');
  });

  it('fails a request Redis does not answer within timeout with a TokenStoreTimeoutError', async () => {
    const client: NodeRedisClientLike = {
      evalSha: () => new Promise(() => undefined),
      eval: () => new Promise(() => undefined),
    };
    const store = redisTokenStore({ client, key: 'slow', timeout: 20 });
    const err = await Promise.resolve(
      store.acquire({ mode: 'police', cost: 1, capacity: 1, period: 1 }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenStoreTimeoutError);
    expect(isTokenStoreTimeoutError(err)).toBe(true);
    expect((err as Error).message).toBe(
      'redisTokenStore: no answer from Redis within `timeout` 20 ms (key {slow}:tokens)',
    );
  });

  it('counts a reply that is not the script reply as a failure', async () => {
    const client: NodeRedisClientLike = {
      evalSha: () => Promise.resolve('OK'),
      eval: () => Promise.resolve('OK'),
    };
    const store = redisTokenStore({ client, key: 'odd' });
    await expect(store.acquire({ mode: 'police', cost: 1, capacity: 1, period: 1 })).rejects.toThrow(
      'redisTokenStore: unexpected reply from the script: "OK"',
    );
  });
});

describeWithRedis('redisTokenStore on a real redis-server', () => {
  let server: RedisServer;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  });
  const open = async (kind: TestClient['kind']) => {
    const c = await connect(kind, server.socket);
    clients.push(c);
    return c;
  };

  describe.each(CLIENT_KINDS)('through %s', (kind) => {
    let main: TestClient;
    let other: TestClient;
    beforeAll(async () => {
      main = await open(kind);
      // The same bucket seen through the other kind of client.
      other = await open(kind === 'ioredis' ? 'node-redis' : 'ioredis');
    });

    describe('the store conformance suite', () => {
      tokenStoreConformance(() => ({
        store: () => redisTokenStore({ client: main.client, key: freshKey(), timeout: 2000 }),
        sameBucket: (store) => {
          const key = /^\{(.*)\}:tokens$/.exec((store as unknown as { key: string }).key)?.[1] ?? '';
          return redisTokenStore({ client: other.client, key, timeout: 2000 });
        },
        scheduler: asyncScheduler,
        settle: sleep,
        tolerance: 1000,
      }));
    });

    it('keeps one number per key, which expires when the bucket is full again', async () => {
      const key = freshKey();
      const store = redisTokenStore({ client: main.client, key });
      expect(store.key).toBe(`{${key}}:tokens`);
      await store.acquire({ mode: 'reserve', cost: 2, capacity: 4, period: 5_000 });
      const ttl = Number(await main.command('PTTL', store.key));
      expect(ttl).toBeGreaterThan(9_000);
      expect(ttl).toBeLessThanOrEqual(10_000);
      // A short period: full again after 20 ms, and nothing is left in Redis.
      const quick = redisTokenStore({ client: main.client, key: freshKey() });
      await quick.acquire({ mode: 'police', cost: 2, capacity: 2, period: 10 });
      expect(Number(await main.command('EXISTS', quick.key))).toBe(1);
      await sleep(60);
      expect(Number(await main.command('EXISTS', quick.key))).toBe(0);
    });

    it("answers with Redis's own clock", async () => {
      const store = redisTokenStore({ client: main.client, key: freshKey() });
      const grant = await store.acquire({ mode: 'police', cost: 1, capacity: 1, period: 10 });
      const [seconds, micros] = (await main.command('TIME')) as [string, string];
      const redisNow = Number(seconds) * 1000 + Number(micros) / 1000;
      expect(redisNow - grant.time).toBeGreaterThanOrEqual(0);
      expect(redisNow - grant.time).toBeLessThan(1000);
    });

    it('loads the script with EVAL when Redis has lost it (NOSCRIPT, matched by code)', async () => {
      const store = redisTokenStore({ client: main.client, key: freshKey() });
      await store.acquire({ mode: 'police', cost: 1, capacity: 2, period: 60_000 });
      await main.command('SCRIPT', 'FLUSH');
      expect(await main.command('SCRIPT', 'EXISTS', TOKEN_BUCKET_SCRIPT_SHA1)).toEqual([0]);
      expect(await store.acquire({ mode: 'police', cost: 1, capacity: 2, period: 60_000 })).toMatchObject({
        granted: true,
      });
      expect(await main.command('SCRIPT', 'EXISTS', TOKEN_BUCKET_SCRIPT_SHA1)).toEqual([1]);
      expect((await store.acquire({ mode: 'police', cost: 1, capacity: 2, period: 60_000 })).granted).toBe(
        false,
      );
    });

    it('passes other Redis errors on unchanged', async () => {
      const wrongType = redisTokenStore({ client: main.client, key: freshKey() });
      await main.command('LPUSH', wrongType.key, 'x');
      const err = await Promise.resolve(
        wrongType.acquire({ mode: 'police', cost: 1, capacity: 2, period: 10 }),
      ).catch((e: unknown) => e);
      expect(redisErrorCode(err)).toMatch(/^(WRONGTYPE|ERR)$/);
    });
  });
});
