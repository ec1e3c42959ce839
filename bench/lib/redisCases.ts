/**
 * The cases of bench/redis.bench.ts: one shared limit on one Redis, driven by this library's
 * `redisTokenStore`, by rate-limiter-flexible's `RateLimiterRedis` and by Bottleneck's Redis mode.
 * Each case offers `count` values (in bursts of `burst`, one burst per `gapMs`, or all at once with
 * gapMs 0) and resolves when every value has been decided. Run in the bench process, or in a child
 * process (`node --import tsx bench/lib/redisCases.ts <case> <socket> <key> <count> <burst> <gapMs>`)
 * for the 3-process runs.
 */
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { lastValueFrom, Observable, reduce } from 'rxjs';
import { tokenBucket } from '../../src/index.js';
import { redisTokenStore } from '../../src/redis/index.js';

/** The limit every case applies: generous, so that the limiters' own cost is what is measured. */
export const CAPACITY = 1000;
export const RATE = 1_000_000; // per second

export interface CaseResult {
  /** Values let through (granted or released). */
  passed: number;
  /** Values refused. */
  refused: number;
  /** Wall time from the first offer to the last decision, in ms. */
  ms: number;
  /** Commands this process sent to Redis meanwhile: its round trips (pipelined or not). */
  commands: number;
}

/** Every command an ioredis client of this process sends (Bottleneck's own clients included). */
let sentCommands = 0;
const prototype = Redis.prototype as unknown as { sendCommand: (...args: unknown[]) => unknown };
const send = prototype.sendCommand;
prototype.sendCommand = function (this: unknown, ...args: unknown[]) {
  sentCommands++;
  return send.apply(this, args);
};

export const CASES = ['tokenBucket shape', 'tokenBucket police', 'RateLimiterRedis', 'Bottleneck'] as const;
export type CaseName = (typeof CASES)[number];

/** `count` values in bursts of `burst`, one burst every `gapMs` (0: all at once, synchronously). */
function offers(count: number, burst: number, gapMs: number): Observable<number> {
  return new Observable<number>((subscriber) => {
    let sent = 0;
    const sendBurst = () => {
      for (let i = 0; i < burst && sent < count && !subscriber.closed; i++) subscriber.next(sent++);
      if (sent >= count) subscriber.complete();
    };
    if (gapMs === 0) {
      while (sent < count && !subscriber.closed) sendBurst();
      return undefined;
    }
    sendBurst();
    const timer = setInterval(sendBurst, gapMs);
    return () => clearInterval(timer);
  });
}

export async function runCase(
  name: CaseName,
  socket: string,
  key: string,
  count: number,
  burst: number,
  gapMs: number,
): Promise<CaseResult> {
  const client = new Redis({ path: socket, lazyConnect: true });
  await client.connect();
  try {
    const started = performance.now();
    const commandsBefore = sentCommands;
    let passed = 0;
    let refused = 0;
    if (name === 'tokenBucket shape' || name === 'tokenBucket police') {
      const store = redisTokenStore({ client, key, timeout: 5000 });
      passed = await lastValueFrom(
        offers(count, burst, gapMs).pipe(
          tokenBucket({
            capacity: CAPACITY,
            tokensPerInterval: RATE,
            interval: 1000,
            store,
            mode: name === 'tokenBucket shape' ? 'shape' : 'police',
            onDrop: () => {
              refused++;
            },
          }),
          reduce((n) => n + 1, 0),
        ),
        { defaultValue: 0 },
      );
    } else if (name === 'RateLimiterRedis') {
      // Its Redis limiter is a fixed window: RATE points per second.
      const limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix: key,
        points: RATE,
        duration: 1,
      });
      const decisions: Promise<void>[] = [];
      await lastValueFrom(
        offers(count, burst, gapMs).pipe(
          reduce((n) => {
            decisions.push(
              limiter.consume('k').then(
                () => {
                  passed++;
                },
                () => {
                  refused++;
                },
              ),
            );
            return n + 1;
          }, 0),
        ),
      );
      await Promise.all(decisions);
    } else {
      // A token bucket in Bottleneck's terms: a reservoir of CAPACITY refilled at RATE, shared in Redis.
      const limiter = new Bottleneck({
        id: key,
        datastore: 'ioredis',
        clientOptions: { path: socket },
        clearDatastore: false,
        maxConcurrent: null,
        minTime: 0,
        reservoir: CAPACITY,
        reservoirIncreaseAmount: RATE / 100,
        reservoirIncreaseInterval: 10,
        reservoirIncreaseMaximum: CAPACITY,
      });
      await limiter.ready();
      const jobs: Promise<void>[] = [];
      await lastValueFrom(
        offers(count, burst, gapMs).pipe(
          reduce((n) => {
            jobs.push(
              limiter
                .schedule(() => Promise.resolve())
                .then(
                  () => {
                    passed++;
                  },
                  () => {
                    refused++;
                  },
                ),
            );
            return n + 1;
          }, 0),
        ),
      );
      await Promise.all(jobs);
      await limiter.disconnect(false);
    }
    return { passed, refused, ms: performance.now() - started, commands: sentCommands - commandsBefore };
  } finally {
    client.disconnect();
  }
}

// As a child process: run one case, print its result as JSON.
if (process.argv[1]?.endsWith('redisCases.ts')) {
  const [name, socket, key, count, burst, gap] = process.argv.slice(2);
  runCase(name as CaseName, socket ?? '', key ?? '', Number(count), Number(burst), Number(gap)).then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n');
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
