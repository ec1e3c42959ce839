// The examples of docs/monitoring.md, run. Each example block of the page (a ```ts block whose first
// line is `// <name>.ts`) is the file spec/docs/monitoring/<name>.ts, character for character: the
// first test checks that, the others run the files.
import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { from, map, mergeMap, Subject, timer } from 'rxjs';
import {
  bufferDropping,
  FlowMeter,
  ManualTimeScheduler,
  resetVirtualTime,
  tokenBucket,
  withVirtualTime,
} from 'rxjs-backpressure';
import { dropRateAlerts, type DropRateAlert } from './monitoring/drop-rate-alerts';
import { logDrops } from './monitoring/log-drops';
import { serveFlowMetrics } from './monitoring/prometheus';

const root = resolve(__dirname, '../..');
const examples = join(__dirname, 'monitoring');

afterEach(() => {
  resetVirtualTime();
});

/** The page's ```ts blocks that name a file on their first line: name → text. */
function exampleBlocks(page: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const [, body] of readFileSync(page, 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const name = /^\/\/ ([\w.-]+\.ts)\n/.exec(body!)?.[1];
    if (name !== undefined) blocks.set(name, body!);
  }
  return blocks;
}

describe('docs/monitoring.md', () => {
  it('shows each example exactly as the file this spec runs', () => {
    const blocks = exampleBlocks(join(root, 'docs', 'monitoring.md'));
    const files = readdirSync(examples).sort();
    expect([...blocks.keys()].sort()).toEqual(files);
    for (const file of files) {
      expect({ file, text: blocks.get(file) }).toEqual({
        file,
        text: readFileSync(join(examples, file), 'utf8'),
      });
    }
  });

  it('log-drops.ts: one line per 10 s with drops, counted by reason', () => {
    withVirtualTime((scheduler) => {
      const uploads = new FlowMeter({ name: 'uploads' });
      const lines: string[] = [];
      const logging = logDrops(uploads, (line) => lines.push(`${scheduler.now()}: ${line}`));
      const files = new Subject<number>();
      // One upload at a time, 4 s each; 2 may wait, for 3 s at most.
      const upload = (file: number) => timer(4_000).pipe(map(() => file));
      const uploading = files.pipe(bufferDropping(2, upload, { meter: uploads, ttl: 3_000 })).subscribe();

      [1, 2, 3, 4, 5].forEach((file) => files.next(file)); // 1 starts, 2 and 3 wait, 4 and 5 overflow
      scheduler.advanceBy(12_000); // 2 and 3 expire at 3 s; the first line at 10 s
      [6, 7, 8, 9].forEach((file) => files.next(file)); // 6 starts, 7 and 8 wait, 9 overflows
      scheduler.advanceBy(20_000); // 7 and 8 expire at 15 s; the second line at 20 s, none at 30 s

      expect(lines).toEqual([
        '10000: uploads: 4 dropped in the last 10 s (2 overflow, 2 expired)',
        '20000: uploads: 3 dropped in the last 10 s (1 overflow, 2 expired)',
      ]);
      logging.unsubscribe();
      uploading.unsubscribe();
    });
  });

  it('drop-rate-alerts.ts: fires when over a minute more than the threshold is dropped, resolves after', () => {
    withVirtualTime((scheduler) => {
      const logins = new FlowMeter({ name: 'logins' });
      const alerts: DropRateAlert[] = [];
      const alerting = dropRateAlerts(logins, 0.2).subscribe((alert) => alerts.push(alert));
      // One attempt a second, at x.5 s, for 200 s; from 60.5 to 69.8 s, four a second. The police
      // bucket lets one a second through: 3 of each burst second's 4 are rejected.
      const times = Array.from({ length: 200 }, (_, s) => s * 1_000 + 500);
      for (let s = 60; s < 70; s++) times.push(s * 1_000 + 600, s * 1_000 + 700, s * 1_000 + 800);
      const limiting = from(times)
        .pipe(
          mergeMap((at) => timer(at).pipe(map(() => at))),
          tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 1_000, mode: 'police', meter: logins }),
        )
        .subscribe();
      scheduler.advanceTo(200_000);

      // At 65 s the minute (5, 65] holds 55 calm attempts and 5 burst seconds: 15 of 75 dropped, 0.2,
      // not above the threshold. At 70 s: 30 of 90. At 120 s still 30 of 90; at 125 s, 15 of 75.
      expect(alerts).toEqual([
        { flow: 'logins', firing: true, rate: 30 / 90, time: 70_000 },
        { flow: 'logins', firing: false, rate: 15 / 75, time: 125_000 },
      ]);
      expect(logins.snapshot().dropped.rejected).toBe(30);
      alerting.unsubscribe();
      limiting.unsubscribe();
    });
  });

  describe('prometheus.ts', () => {
    const freePort = () =>
      new Promise<number>((done, fail) => {
        const server = createServer();
        server.once('error', fail);
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => done(port));
        });
      });
    const scrape = (port: number) =>
      new Promise<{ status: number | undefined; body: string }>((done, fail) => {
        get({ host: '127.0.0.1', port, path: '/metrics' }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => done({ status: response.statusCode, body }));
        }).on('error', fail);
      });

    let stop: (() => Promise<void>) | undefined;
    afterAll(async () => {
      await stop?.();
    });

    it('serves every metric of the table to a scrape', async () => {
      const scheduler = new ManualTimeScheduler(0);
      const uploads = new FlowMeter({ name: 'uploads', scheduler });
      const files = new Subject<number>();
      const upload = (file: number) => timer(10, scheduler).pipe(map(() => file));
      const uploading = files.pipe(bufferDropping(1, upload, { meter: uploads, scheduler })).subscribe();
      [1, 2, 3].forEach((file) => files.next(file)); // 1 starts, 2 waits, 3 is dropped
      scheduler.advanceBy(15); // 1 took 10 ms; 2 started after waiting 10 ms

      const port = await freePort();
      stop = await serveFlowMetrics([uploads], port);
      const { status, body } = await scrape(port);
      await stop();
      stop = undefined;
      uploading.unsubscribe();

      expect(status).toBe(200);
      const names = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => `${name!} ${type!}`);
      expect(names).toEqual(
        expect.arrayContaining([
          'backpressure_items_received_total counter',
          'backpressure_items_released_total counter',
          'backpressure_items_dropped_total counter',
          'backpressure_queue_size gauge',
          'backpressure_queue_capacity gauge',
          'backpressure_inflight gauge',
          'backpressure_concurrency_limit gauge',
          'backpressure_tokens_available gauge',
          'backpressure_queue_wait_time gauge',
          'backpressure_operation_duration gauge',
        ]),
      );
      const sample = (line: string) => expect(body.split('\n')).toContain(line);
      const scope = 'otel_scope_name="my-service"';
      sample(`backpressure_items_received_total{backpressure_flow="uploads",${scope}} 3`);
      sample(
        `backpressure_items_dropped_total{backpressure_flow="uploads",backpressure_drop_reason="overflow",${scope}} 1`,
      );
      sample(`backpressure_queue_size{backpressure_flow="uploads",${scope}} 0`);
      sample(`backpressure_inflight{backpressure_flow="uploads",${scope}} 1`);
      sample(`backpressure_queue_wait_time{backpressure_flow="uploads",quantile="0.99",${scope}} 0.01`);
      sample(`backpressure_operation_duration{backpressure_flow="uploads",quantile="0.5",${scope}} 0.01`);
    });
  });
});
