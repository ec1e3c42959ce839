// The CI-sized load tests: real processes on 127.0.0.1, ports picked free at run time, every process
// stopped (its whole process group) in `after`, also when an assertion fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { connect } from 'node:net';
import { after, afterEach, describe, test } from 'node:test';
import {
  EXAMPLE_DIR,
  lostSilently,
  openLoop,
  runLoad,
  sleep,
  startDownstream,
  startRedis,
  startService,
  stopAll,
  stopProcess,
} from '../scripts/harness.js';

const MB = 1024 * 1024;

after(stopAll);
afterEach(stopAll);

async function delivered(downstream) {
  const res = await fetch(`${downstream.url}/delivered`);
  return new Set((await res.json()).ids);
}

/** Waits until the service's samples say it has answered all it received. */
async function settled(service, ms = 10_000) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const last = service.proc.samples.at(-1);
    if (last && last.at > start && last.inflight === 0) return last;
    await sleep(100);
  }
  assert.fail(`the service still had events in flight after ${ms} ms`);
}

describe('the installed library', () => {
  const installed = join(EXAMPLE_DIR, 'node_modules', 'rxjs-backpressure');
  test("is a copy of the root's current build (else: npm run build at the root, then npm ci here)", () => {
    const files = (dir) =>
      readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const root = join(EXAMPLE_DIR, '..', '..', 'dist');
    const built = files(root).map((e) => join(e.parentPath ?? e.path, e.name).slice(root.length));
    assert.ok(built.length > 0, 'the root has a build');
    for (const file of built) {
      assert.ok(
        readFileSync(join(root, file)).equals(readFileSync(join(installed, 'dist', file))),
        `dist${file} differs from the root's`,
      );
    }
  });
  test('resolves rxjs from this project: one copy of rxjs', () => {
    const fromLibrary = createRequire(join(installed, 'package.json')).resolve('rxjs');
    const fromHere = createRequire(join(EXAMPLE_DIR, 'package.json')).resolve('rxjs');
    assert.equal(fromLibrary, fromHere);
    assert.ok(fromHere.startsWith(join(EXAMPLE_DIR, 'node_modules')));
  });
});

describe('POST /events under 2x overload for 5 s', () => {
  test('no event is lost silently, every 429 carries a Retry-After, every 2xx was delivered', async (t) => {
    const downstream = await startDownstream(); // 100 events/s
    const service = await startService({ downstream: downstream.url });
    // 10 clients at 20/s each against a limit of 10/s: 429s; 200/s against a downstream of 100/s: 503s.
    const load = await runLoad({
      url: service.url,
      rate: 200,
      duration: 5,
      clients: 10,
      slots: 10,
      runId: 'ci',
    });
    await settled(service);
    const exit = await stopProcess(service.proc);
    assert.equal(exit.code, 0, service.proc.stderr);

    const lost = lostSilently(load, service.proc.records);
    assert.deepEqual(lost, [], 'events sent, neither answered nor reported');
    const shutdown = service.proc.records.find((r) => r.event === 'shutdown');
    assert.equal(shutdown.received, shutdown.answered + shutdown.unanswered);
    assert.equal(shutdown.inflight, 0);

    const answers = [...load.answers.values()];
    const byStatus = {};
    for (const a of answers) (byStatus[a.status] ??= []).push(a);
    assert.ok(byStatus[200]?.length > 0, 'some events delivered');
    assert.ok(byStatus[429]?.length > 0, 'some events rate-limited');
    assert.ok(byStatus[503]?.length > 0, 'some events shed or expired');
    t.diagnostic(
      `sent ${load.sent.size}; answered by status: ${Object.entries(byStatus)
        .map(([s, a]) => `${s} ${a.length}`)
        .join(', ')}; reported unanswered ${shutdown.unanswered}`,
    );
    for (const answer of byStatus[429]) {
      assert.match(String(answer.retryAfter), /^[1-9]\d*$/, 'Retry-After in whole seconds');
      // The bucket's figure: a client's next token (10/s) is at most 100 ms away.
      const ms = Number(answer.retryAfterMs);
      assert.ok(ms > 0 && ms <= 100, `X-Retry-After-Ms ${answer.retryAfterMs}`);
    }
    for (const answer of byStatus[503])
      assert.ok(['shed', 'expired', 'circuit-open'].includes(answer.outcome));
    const ids = await delivered(downstream);
    for (const [id, answer] of load.answers)
      if (answer.status === 200) assert.ok(ids.has(id), `${id} answered 200`);
  });
});

describe('GET /export', () => {
  test('a slow client holds the producer: heap growth under 20 MB, generator released on disconnect', async (t) => {
    const service = await startService({ downstream: 'http://127.0.0.1:9' });
    await sleep(1_000);
    const baseline = service.proc.samples.at(-1);
    // 2 million rows (about 190 MB) read at about 640 KB/s for 4 s.
    const socket = connect(service.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write('GET /export?rows=2000000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    let received = 0;
    const reader = setInterval(() => {
      let chunk;
      let now = 0;
      while (now < 32 * 1024 && (chunk = socket.read()) !== null) now += chunk.length;
      received += now;
    }, 50);
    const from = Date.now();
    await sleep(4_000);
    clearInterval(reader);
    const during = service.proc.samples.filter((s) => s.at >= from);
    const peakHeap = Math.max(...during.map((s) => s.heapUsed));
    t.diagnostic(
      `client read ${(received / MB).toFixed(1)} MB in 4 s; heap ${(baseline.heapUsed / MB).toFixed(1)} MB before, peak ${(peakHeap / MB).toFixed(1)} MB`,
    );
    assert.ok(received > 256 * 1024, `the client got data (${received} bytes)`);
    assert.ok(received < 20 * MB, `and only as fast as it read (${received} bytes)`);
    assert.ok(
      peakHeap - baseline.heapUsed < 20 * MB,
      `heap grew ${((peakHeap - baseline.heapUsed) / MB).toFixed(1)} MB (from ${(baseline.heapUsed / MB).toFixed(1)} MB)`,
    );
    assert.equal(during.at(-1).exports, 1, 'the export is still running, held by the client');
    socket.destroy();
    const start = Date.now();
    while (service.proc.samples.at(-1).exports !== 0) {
      assert.ok(Date.now() - start < 3_000, 'the export ended after the client went away');
      await sleep(50);
    }
  });
});

describe('SIGTERM during load', () => {
  test('every accepted event is delivered or answered, and the service exits 0', async (t) => {
    const downstream = await startDownstream();
    const service = await startService({ downstream: downstream.url });
    const load = openLoop({ url: service.url, rate: 200, duration: 4, clients: 10, runId: 'term' });
    await sleep(2_000);
    const exit = await stopProcess(service.proc, { timeout: 15_000 });
    const { results } = await load;
    assert.equal(exit.code, 0, service.proc.stderr);

    const shutdown = service.proc.records.find((r) => r.event === 'shutdown');
    assert.ok(shutdown, 'a shutdown summary');
    assert.equal(shutdown.inflight, 0);
    assert.equal(
      shutdown.received,
      shutdown.answered + shutdown.unanswered,
      'every event received was settled',
    );
    const answered = [...results.values()].filter((r) => r.status !== undefined);
    t.diagnostic(
      `sent ${results.size}; answered ${answered.length}; service: ${JSON.stringify(shutdown.byOutcome)}, drained: ${shutdown.how}`,
    );
    // Every answer the service wrote reached its client: none cut off by the shutdown.
    assert.equal(answered.length, shutdown.answered);
    const ids = await delivered(downstream);
    for (const [id, r] of results) {
      if (r.status === 200) assert.ok(ids.has(id), `${id} answered 200 but not delivered`);
    }
    for (const r of service.proc.records.filter((x) => x.event === 'unanswered')) {
      if (r.outcome === 'delivered') assert.ok(ids.has(r.id));
    }
    // Requests that got no answer never reached the service: the connection was refused or closed.
    for (const r of results.values()) {
      if (r.status === undefined) assert.match(r.error, /ECONNREFUSED|ECONNRESET|EPIPE|socket hang up/);
    }
    assert.ok(answered.length > 0 && answered.length < results.size, 'the shutdown came during the load');
  });
});

describe('--instances 2 with Redis', () => {
  test('the per-client limit holds for the service as a whole', async (t) => {
    let redis;
    try {
      execFileSync(process.env.REDIS_SERVER ?? 'redis-server', ['--version']);
    } catch {
      if (process.env.CI === 'true') assert.fail('redis-server is missing (CI=true: a failure, not a skip)');
      t.skip('redis-server is not installed (apt-get install redis-server)');
      return;
    }
    redis = await startRedis();
    try {
      const downstream = await startDownstream();
      const service = await startService({
        downstream: downstream.url,
        instances: 2,
        redis: redis.url,
        extraArgs: ['--rate', '10', '--burst', '10', '--queue', '100', '--ttl', '5000'],
      });
      // One client, 40 events/s for 3 s, a new connection each: the workers share them.
      const { results, elapsed } = await openLoop({
        url: service.url,
        rate: 40,
        duration: 3,
        client: 'one-client',
        keepAlive: false,
        runId: 'shared',
      });
      const answers = [...results.values()];
      assert.ok(
        answers.every((a) => a.status !== undefined),
        JSON.stringify(answers.find((a) => !a.status)),
      );
      const instances = new Set(answers.map((a) => a.headers['x-instance']));
      assert.equal(instances.size, 2, `both workers answered (${[...instances]})`);
      const passed = answers.filter((a) => a.status !== 429).length;
      const limit = 10 + 10 * elapsed; // burst + rate * time, for the whole service
      t.diagnostic(
        `${passed} of ${answers.length} passed the limit in ${elapsed.toFixed(2)} s (bound ${limit.toFixed(1)})`,
      );
      assert.ok(passed <= limit + 1, `${passed} passed the limit, at most ${limit.toFixed(1)} allowed`);
      assert.ok(passed >= 0.75 * limit, `${passed} passed: the limit is used, not halved`);
      for (const a of answers.filter((x) => x.status === 429)) {
        assert.equal(a.headers['retry-after'], '1');
        // As Redis answered: the shared bucket's next token (10/s) is at most 100 ms away (101 once
        // rounded up: Redis's clock is a float of ms since 1970, precise to a few 0.1 µs).
        const ms = Number(a.headers['x-retry-after-ms']);
        assert.ok(ms > 0 && ms <= 101, `x-retry-after-ms ${a.headers['x-retry-after-ms']}`);
      }
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      assert.match(metrics, /service_instance_id="w1"/);
      assert.match(metrics, /service_instance_id="w2"/);
      assert.match(metrics, /circuit_breaker_state\{[^}]*circuit_breaker_state="closed"[^}]*\} 1/);

      // Redis goes away: each worker's fallback bucket decides (burst 10, 10/s shared by 2: 5/s,
      // starting with its share, 5 tokens), and its refusals carry its own figures: up to 200 ms.
      await redis.stop();
      const post = () =>
        fetch(`${service.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client: 'after-redis', priority: 'normal' }),
        });
      const burst = await Promise.all(Array.from({ length: 16 }, post));
      const refused = burst.filter((r) => r.status === 429);
      t.diagnostic(`Redis down: ${refused.length} of 16 refused by the workers' fallback buckets`);
      assert.ok(refused.length > 0, `statuses ${burst.map((r) => r.status)}`);
      let longest = 0;
      for (const r of refused) {
        assert.equal(r.headers.get('retry-after'), '1');
        const ms = Number(r.headers.get('x-retry-after-ms'));
        assert.ok(ms > 0 && ms <= 200, `x-retry-after-ms ${ms}`);
        assert.equal((await r.json()).retryAfterMs, ms);
        longest = Math.max(longest, ms);
      }
      assert.ok(
        service.proc.records.some((r) => r.event === 'store-failure' && r.mode === 'local'),
        'the store failure was logged',
      );
      // Every worker's bucket holds a token by the latest time it told: a retry then passes.
      await sleep(longest + 5);
      assert.notEqual((await post()).status, 429, 'the retry, as told, passes the limit');
      const exit = await stopProcess(service.proc);
      assert.equal(exit.code, 0, service.proc.stderr);
    } finally {
      await redis.stop();
    }
  });
});

describe('contracts', () => {
  test("a 429's Retry-After is the bucket's: a retry after X-Retry-After-Ms passes", async () => {
    const downstream = await startDownstream();
    const service = await startService({
      downstream: downstream.url,
      extraArgs: ['--rate', '5', '--burst', '3'],
    });
    const post = () =>
      fetch(`${service.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client: 'retry', priority: 'normal' }),
      });
    const burst = await Promise.all([post(), post(), post(), post()]);
    const refused = burst.filter((r) => r.status === 429);
    assert.equal(refused.length, 1, `statuses ${burst.map((r) => r.status)}`);
    const [answer] = refused;
    assert.equal(answer.headers.get('retry-after'), '1');
    const ms = Number(answer.headers.get('x-retry-after-ms'));
    // One token every 200 ms: the wait is at most that, and the body says the same.
    assert.ok(ms > 0 && ms <= 200, `x-retry-after-ms ${ms}`);
    assert.equal((await answer.json()).retryAfterMs, ms);
    await sleep(ms + 5);
    const retry = await post();
    assert.notEqual(retry.status, 429, 'the retry, as told, passes the limit');
  });

  test('a failing downstream opens the breaker: 502, then 503 circuit-open with Retry-After, and /metrics says so', async () => {
    const downstream = await startDownstream();
    const service = await startService({ downstream: downstream.url });
    await fetch(`${downstream.url}/control`, { method: 'POST', body: JSON.stringify({ failFor: 10_000 }) });
    const statuses = [];
    let open;
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${service.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client: `c${i}`, priority: 'critical' }),
      });
      statuses.push(`${res.status} ${res.headers.get('x-event-outcome')}`);
      if (res.status === 503) open = res;
    }
    assert.deepEqual(statuses.slice(0, 5), Array(5).fill('502 downstream-failed'));
    assert.deepEqual(statuses.slice(5), Array(5).fill('503 circuit-open'));
    assert.match(open.headers.get('retry-after'), /^[12]$/);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /circuit_breaker_state\{[^}]*circuit_breaker_state="open"[^}]*\} 1/);
    assert.match(metrics, /http_server_event_responses_total\{[^}]*event_outcome="circuit-open"[^}]*\} 5/);
  });

  test('bad requests: 400 for a bad event, 404 and 405 elsewhere', async () => {
    const service = await startService({ downstream: 'http://127.0.0.1:9' });
    const post = (body) => fetch(`${service.url}/events`, { method: 'POST', body });
    assert.equal((await post('not json')).status, 400);
    assert.equal((await post(JSON.stringify({ client: 'a', priority: 'urgent' }))).status, 400);
    assert.equal((await post(JSON.stringify({ priority: 'bulk' }))).status, 400);
    assert.equal((await fetch(`${service.url}/events`)).status, 405);
    assert.equal((await fetch(`${service.url}/nothing`)).status, 404);
  });
});
