import { Subject } from 'rxjs';
import {
  tokenBucket,
  type DropReason,
  type StoreErrorMode,
  type TokenGrant,
  type TokenRequest,
  type TokenStore,
} from '../../src/index';
import { isTokenStoreTimeoutError, redisTokenStore } from '../../src/redis/index';
import { connect, type TestClient } from './clients';
import { describeWithRedis, RedisServer, sleep } from './redisServer';

let keys = 0;
const freshKey = () => `faults:${String(process.pid)}:${String(++keys)}`;

/** A store that notes when Redis answered, so a test can tell that the stream went back to it. */
function noting(store: TokenStore, answered: number[]): TokenStore {
  return {
    acquire: async (request: TokenRequest): Promise<TokenGrant> => {
      const grant = await store.acquire(request);
      answered.push(Date.now());
      return grant;
    },
  };
}

/** Phases of a run, in ms: healthy, Redis down, Redis back. */
const HEALTHY = 300;
const DOWN = 500;
/**
 * The down window starts this long after the kill: a batch granted just before it may still leave
 * (its tokens were taken: at most capacity * period = 100 ms), and the first request must time out.
 */
const GRACE = 200;
const BACK = 700;
/** 20 tokens per second, bursts of 2; 200 values offered per second. */
const LIMIT = { capacity: 2, tokensPerInterval: 20, interval: 1000 } as const;
const OFFER_EVERY = 5;

describeWithRedis('tokenBucket on Redis when Redis fails (rule 4)', () => {
  let server: RedisServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await RedisServer.start();
    client = await connect('ioredis', server.socket);
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
  });

  /**
   * Offers a value every 5 ms through the bucket while Redis runs, is killed, and is started again
   * (with no keys); returns what happened, phase by phase.
   */
  async function outage(mode: 'shape' | 'police', onStoreError: StoreErrorMode) {
    const answered: number[] = [];
    const store = noting(redisTokenStore({ client: client.client, key: freshKey(), timeout: 50 }), answered);
    const failures: [unknown, StoreErrorMode][] = [];
    const released: number[] = [];
    const dropped: [number, DropReason][] = [];
    let error: unknown;
    let errorAt = Infinity;
    const source = new Subject<number>();
    const subscription = source
      .pipe(
        tokenBucket<number>({
          ...LIMIT,
          mode,
          store,
          onStoreError,
          ...(onStoreError === 'local' ? { instances: 2 } : {}),
          ...(onStoreError === 'error' ? {} : { retryInterval: 200 }),
          onStoreFailure: (err, m) => failures.push([err, m]),
          onDrop: (value, reason) => dropped.push([value, reason]),
        }),
      )
      .subscribe({
        next: () => released.push(Date.now()),
        error: (err: unknown) => {
          error = err;
          errorAt = Date.now();
        },
      });
    let offered = 0;
    const offering = setInterval(() => {
      if (!subscription.closed) source.next(offered++);
    }, OFFER_EVERY);
    try {
      await sleep(HEALTHY);
      const killedAt = Date.now();
      await server.kill();
      await sleep(DOWN);
      const restartedAt = Date.now();
      await server.launch();
      await sleep(BACK);
      clearInterval(offering);
      const endedAt = Date.now();
      subscription.unsubscribe();
      const between = (from: number, to: number) => released.filter((t) => t >= from && t < to).length;
      return {
        failures,
        error,
        offered,
        released: released.length,
        dropped,
        down: between(killedAt + GRACE, restartedAt),
        back: between(restartedAt + 400, endedAt),
        backSeconds: (endedAt - restartedAt - 400) / 1000,
        downSeconds: (restartedAt - killedAt - GRACE) / 1000,
        answeredAfterRestart: answered.some((t) => t > restartedAt),
        afterError: released.filter((t) => t > errorAt).length,
        errorDelay: errorAt - killedAt,
      };
    } finally {
      clearInterval(offering);
      subscription.unsubscribe();
      if (server.pid === undefined) await server.launch();
    }
  }

  const reasons = (dropped: [number, DropReason][]) =>
    dropped.reduce<Record<string, number>>((n, [, r]) => ({ ...n, [r]: (n[r] ?? 0) + 1 }), {});

  describe.each(['shape', 'police'] as const)('%s mode, Redis killed mid-run then restarted', (mode) => {
    it("'error': the output errors once, waiting values are cleared, nothing is lost", async () => {
      const r = await outage(mode, 'error');
      expect(r.error).toBeDefined();
      expect(r.failures).toHaveLength(1);
      expect(r.failures[0]?.[1]).toBe('error');
      expect(r.released + r.dropped.length).toBe(r.offered);
      // At the first request after the kill (a batch granted before it may still leave meanwhile).
      expect(r.errorDelay).toBeLessThan(DOWN);
      expect(r.afterError).toBe(0);
    });

    it("'open': values pass without limit while Redis is down; the stream goes back to Redis", async () => {
      const r = await outage(mode, 'open');
      expect(r.error).toBeUndefined();
      expect(r.failures.length).toBeGreaterThanOrEqual(1);
      expect(r.failures.every(([, m]) => m === 'open')).toBe(true);
      // Far above the limit of 20/s while down (200/s offered).
      expect(r.down).toBeGreaterThan(LIMIT.capacity + 3 * LIMIT.tokensPerInterval * r.downSeconds);
      expect(r.answeredAfterRestart).toBe(true);
      expect(r.back).toBeLessThanOrEqual(
        LIMIT.capacity + LIMIT.tokensPerInterval * (r.backSeconds + 0.4) + 1,
      );
      expect(r.released + r.dropped.length).toBe(r.offered);
    });

    it("'closed': values are rejected while Redis is down; the stream goes back to Redis", async () => {
      const r = await outage(mode, 'closed');
      expect(r.error).toBeUndefined();
      expect(r.down).toBe(0);
      expect(reasons(r.dropped).rejected).toBeGreaterThan(20);
      expect(r.answeredAfterRestart).toBe(true);
      expect(r.back).toBeGreaterThan(0);
      expect(r.released + r.dropped.length).toBe(r.offered);
    });

    it("'local': an in-process bucket at rate / instances holds while Redis is down", async () => {
      const r = await outage(mode, 'local');
      expect(r.error).toBeUndefined();
      expect(r.failures.every(([, m]) => m === 'local')).toBe(true);
      // 10/s with a start of 1 token: a handful in 0.3 s, not the 60 offered.
      expect(r.down).toBeGreaterThan(0);
      expect(r.down).toBeLessThanOrEqual(LIMIT.capacity + (LIMIT.tokensPerInterval / 2) * r.downSeconds + 2);
      expect(r.answeredAfterRestart).toBe(true);
      expect(r.back).toBeGreaterThan(0);
      expect(r.released + r.dropped.length).toBe(r.offered);
    });
  });

  it('starts the bucket full again when a restart loses the key (documented)', async () => {
    const store = redisTokenStore({ client: client.client, key: freshKey(), timeout: 1000 });
    const police = () =>
      Promise.resolve(store.acquire({ mode: 'police', cost: 1, capacity: 3, period: 60_000 })).then(
        (g) => g.granted,
      );
    expect([await police(), await police(), await police(), await police()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    await server.kill();
    await server.launch();
    expect([await police(), await police(), await police(), await police()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('fails a request with TokenStoreTimeoutError when Redis is too slow, and recovers', async () => {
    const store = redisTokenStore({ client: client.client, key: freshKey(), timeout: 50 });
    const ask = () => Promise.resolve(store.acquire({ mode: 'police', cost: 1, capacity: 5, period: 1000 }));
    expect((await ask()).granted).toBe(true);
    server.pause();
    try {
      const started = Date.now();
      const err = await ask().catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(isTokenStoreTimeoutError(err)).toBe(true);
      expect(waited).toBeGreaterThanOrEqual(45);
      expect(waited).toBeLessThan(1000);

      // Through the operator: 'open' lets the value pass once the timeout has run out.
      const released: number[] = [];
      const failures: unknown[] = [];
      const source = new Subject<string>();
      const subscription = source
        .pipe(
          tokenBucket({
            ...LIMIT,
            store,
            onStoreError: 'open',
            onStoreFailure: (e) => failures.push(e),
          }),
        )
        .subscribe(() => released.push(Date.now() - started));
      const sentAt = Date.now() - started;
      source.next('a');
      await sleep(200);
      subscription.unsubscribe();
      expect(failures).toHaveLength(1);
      expect(isTokenStoreTimeoutError(failures[0])).toBe(true);
      expect(released).toHaveLength(1);
      expect((released[0] as number) - sentAt).toBeGreaterThanOrEqual(45);
    } finally {
      server.resume();
    }
    expect((await ask()).granted).toBe(true);
  });
});
