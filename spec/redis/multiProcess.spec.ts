import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describeWithRedis, RedisServer } from './redisServer';

const CAPACITY = 10;
const RATE = 50; // tokens per second
const DURATION = 5_000;
const WORKERS = ['ioredis', 'node-redis', 'ioredis'] as const;

interface WorkerReport {
  /** Release times of shaped values, by the Redis clock (ms). */
  shape: number[];
  /** Decision times of policed values that were granted, by the Redis clock (ms). */
  police: number[];
  policed: number;
  /** Shaped values released before their time by the local clock. */
  early: number;
  offered: number;
  requests: number;
}

/**
 * The largest excess of releases over the bound of rule 3 in any window: for sorted times, the
 * values in [t_i, t_j] number j - i + 1 and may be at most capacity + rate * (t_j - t_i).
 */
function worstExcess(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let worst = -Infinity;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const span = (sorted[j] as number) - (sorted[i] as number);
      const allowed = CAPACITY + (RATE * span) / 1000;
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return worst;
}

describeWithRedis('3 processes share one key (rule 3)', () => {
  let server: RedisServer;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await server.stop();
  });

  it('never exceed capacity + rate * t in any window, and together get within 5% of 10 + 250 in 5 s, shaped and policed', async () => {
    const worker = join(__dirname, 'fixtures', 'sharedWorker.ts');
    const reports = WORKERS.map((kind) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', worker, server.socket, kind, String(DURATION)],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      children.push(child);
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      const ready = new Promise<void>((resolve, reject) => {
        child.once('exit', (code) =>
          reject(new Error(`worker exited with ${String(code)} before it was ready`)),
        );
        lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(line))));
      });
      const report = ready.then(
        () =>
          new Promise<WorkerReport>((resolve, reject) => {
            child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)}`)));
            lines.once('line', (line) => resolve(JSON.parse(line) as WorkerReport));
          }),
      );
      return { child, ready, report };
    });
    await Promise.all(reports.map((r) => r.ready));
    const startAt = Date.now() + 200;
    for (const { child } of reports) child.stdin?.write(`${String(startAt)}\n`);
    const results = await Promise.all(reports.map((r) => r.report));

    const end = startAt + DURATION;
    const shape = results.flatMap((r) => r.shape).filter((t) => t <= end);
    const allPolice = results.flatMap((r) => r.police);
    const police = allPolice.filter((t) => t <= end);
    const expected = CAPACITY + (RATE * DURATION) / 1000; // 260

    const summary = {
      offered: results.map((r) => r.offered),
      shape: shape.length,
      police: police.length,
      requests: results.map((r) => r.requests),
      excess: [worstExcess(shape), worstExcess(police)],
    };
    process.stderr.write(`multi-process: ${JSON.stringify(summary)}\n`);
    // Demand above the rate (each process alone offers more than the shared rate), even on a busy machine.
    expect(results.every((r) => r.offered >= (RATE * DURATION) / 1000)).toBe(true);
    expect(worstExcess(shape)).toBeLessThanOrEqual(1e-6);
    expect(worstExcess(allPolice)).toBeLessThanOrEqual(1e-6);
    expect(results.reduce((n, r) => n + r.early, 0)).toBe(0);
    expect(shape.length).toBeGreaterThanOrEqual(expected * 0.95);
    expect(shape.length).toBeLessThanOrEqual(expected * 1.05);
    expect(police.length).toBeGreaterThanOrEqual(expected * 0.95);
    expect(police.length).toBeLessThanOrEqual(expected * 1.05);
    expect(results.reduce((n, r) => n + r.policed, 0)).toBe(allPolice.length);
    // Shaping costs one round trip per batch: far fewer requests than values.
    const requests = results.reduce((n, r) => n + r.requests, 0);
    expect(requests).toBeLessThan(shape.length);
  }, 30_000);
});
