/**
 * Shared limits in Redis (issue 13): values per second through one shared bucket, from one process
 * and from 3, and Redis round trips per value, for `tokenBucket` with `redisTokenStore` next to
 * rate-limiter-flexible's `RateLimiterRedis` (11.x) and Bottleneck's Redis mode, on the same
 * redis-server in the same run. Without redis-server on the machine the section says so and is
 * skipped.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { RedisServer, redisAvailable } from '../spec/redis/redisServer.js';
import { CAPACITY, CASES, RATE, runCase, type CaseName, type CaseResult } from './lib/redisCases.js';
import { markdownTable, num, ratio } from './lib/markdown.js';
import type { BenchContext, BenchSection, BenchSuite, TargetResult } from './lib/suite.js';

/** Run as `node --import tsx bench/index.ts`: the bench folder is the script's. */
const WORKER = join(dirname(resolve(process.argv[1] ?? 'bench/index.ts')), 'lib', 'redisCases.ts');

/** Values per case: Bottleneck does a few hundred per second, so it gets fewer to keep the run short. */
function sizeOf(name: CaseName, quick: boolean, base: number): number {
  const n = name === 'Bottleneck' ? base / 10 : base;
  return quick ? Math.max(100, Math.round(n / 20)) : n;
}

interface Row {
  name: CaseName;
  values: number;
  passed: number;
  perSecond: number;
  roundTrips: number;
  withinBound: boolean;
}

let keys = 0;

/** Runs `name` in `processes` processes at once on one key; counts Redis commands around it. */
async function measure(
  server: RedisServer,
  name: CaseName,
  processes: number,
  count: number,
  burst: number,
  gapMs: number,
): Promise<Row> {
  const key = `bench:${String(process.pid)}:${String(++keys)}`;
  let results: CaseResult[];
  if (processes === 1) {
    results = [await runCase(name, server.socket, key, count, burst, gapMs)];
  } else {
    results = await Promise.all(
      Array.from({ length: processes }, () => runChild(name, server.socket, key, count, burst, gapMs)),
    );
  }
  // The slowest process's time from its first offer to its last decision.
  const ms = Math.max(...results.map((r) => r.ms));
  const values = count * processes;
  const passed = results.reduce((n, r) => n + r.passed, 0);
  return {
    name,
    values,
    passed,
    perSecond: (values / ms) * 1000,
    roundTrips: results.reduce((n, r) => n + r.commands, 0) / values,
    // The limit (CAPACITY + RATE * t) cannot have been exceeded by the count alone.
    withinBound: passed <= CAPACITY + (RATE * ms) / 1000,
  };
}

function runChild(
  name: CaseName,
  socket: string,
  key: string,
  count: number,
  burst: number,
  gapMs: number,
): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, name, socket, key, String(count), String(burst), String(gapMs)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as CaseResult);
      else reject(new Error(`${name} worker exited with ${String(code)}`));
    });
  });
}

const table = (rows: readonly Row[]) =>
  markdownTable(
    ['limiter', 'values', 'let through', 'values/s', 'round trips per value', 'within the limit'],
    rows.map((r) => [
      r.name,
      num(r.values),
      num(r.passed),
      num(r.perSecond),
      num(r.roundTrips, 3),
      r.withinBound ? 'yes' : '**no**',
    ]),
    ['left', 'right', 'right', 'right', 'right', 'left'],
  );

async function sharedLimits(context: BenchContext): Promise<BenchSection> {
  const title = 'One limit shared through Redis';
  if (!redisAvailable) {
    const message = 'skipped: no redis-server on this machine (apt-get install redis-server)';
    context.log(message);
    return { title, body: `_${message}._`, targets: [] };
  }
  const server = await RedisServer.start();
  try {
    const single: Row[] = [];
    for (const name of CASES) {
      context.log(`redis: ${name}, 1 process`);
      const n = sizeOf(name, context.quick, 20_000);
      single.push(await measure(server, name, 1, n, n, 0));
    }
    const triple: Row[] = [];
    for (const name of CASES) {
      context.log(`redis: ${name}, 3 processes`);
      const n = sizeOf(name, context.quick, 10_000);
      triple.push(await measure(server, name, 3, n, n, 0));
    }
    // Bursts: 50 values every 10 ms (5,000 per second) for one second.
    const bursts: Row[] = [];
    for (const name of ['tokenBucket shape', 'tokenBucket police'] as const) {
      context.log(`redis: ${name}, bursts`);
      const n = context.quick ? 500 : 5000;
      bursts.push(await measure(server, name, 1, n, 50, 10));
    }

    const targets: TargetResult[] = [];
    for (const [label, rows] of [
      ['1 process', single],
      ['3 processes', triple],
    ] as const) {
      const ours = rows.find((r) => r.name === 'tokenBucket shape') as Row;
      const best = Math.max(...rows.filter((r) => !r.name.startsWith('tokenBucket')).map((r) => r.perSecond));
      targets.push({
        target: `tokenBucket + redisTokenStore ≥ 2× the values/s of the faster of RateLimiterRedis and Bottleneck (${label})`,
        measured: ratio(ours.perSecond / best),
        met: ours.perSecond >= 2 * best && rows.every((r) => r.withinBound),
      });
    }
    const shapedBursts = bursts[0] as Row;
    targets.push({
      target: 'fewer than 0.2 Redis round trips per value when values arrive in bursts (shape mode)',
      measured: num(shapedBursts.roundTrips, 3),
      met: shapedBursts.roundTrips < 0.2,
    });

    const body = [
      `Every limiter applies the same limit, generous enough (bursts of ${num(CAPACITY)}, ` +
        `${num(RATE)} per second) that what is measured is each limiter's own cost: how many values ` +
        'it decides per second through one key on one local redis-server (unix socket), and how many ' +
        'commands its processes sent to Redis per value (round trips, pipelined or not; for Bottleneck ' +
        "its bookkeeping too). `tokenBucket shape` reserves a waiting batch's tokens in one " +
        'script call; `tokenBucket police` and `RateLimiterRedis` make one call per value (pipelined by ' +
        'ioredis); Bottleneck makes several. RateLimiterRedis is a fixed window (its only Redis ' +
        "algorithm); Bottleneck's bucket is a reservoir refilled by its heartbeat. Each case runs once, " +
        'in this process; the 3-process rows start 3 processes at once on the same key.',
      '',
      '**One process, one burst** (Bottleneck: a tenth as many values)',
      '',
      table(single),
      '',
      "**3 processes at once, one key** (values: the sum; values/s: the sum over the slowest process's time)",
      '',
      table(triple),
      '',
      '**Bursts of 50 values every 10 ms** (arrivals spread in time, as a service sees them)',
      '',
      table(bursts),
    ].join('\n');
    return { title, body, targets };
  } finally {
    await server.stop();
  }
}

export const suite: BenchSuite = {
  title: 'Shared limits (Redis)',
  sections: [sharedLimits],
};
