// What the load test and the tests share: free ports, child processes in their own process groups
// (stopped with the whole group, also when something fails), a Redis server, and an autocannon load
// that tracks every event by id.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';

/** A port free on 127.0.0.1 now (the OS picks it; it is released before use). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const running = new Set();

/**
 * Starts `command args` in a process group of its own, with an IPC channel when `ipc` (for a Node
 * script: the service's memory samples). Collects its stdout JSON lines in `records`.
 */
export function startProcess(command, args, { ipc = false, env = {}, name = command } = {}) {
  const child = spawn(command, args, {
    cwd: EXAMPLE_DIR,
    detached: true, // its own process group: stop() signals the group, workers included
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const proc = {
    name,
    child,
    records: [],
    samples: [],
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    exitInfo: undefined,
  };
  proc.exited.then((info) => {
    proc.exitInfo = info;
    running.delete(proc);
  });
  running.add(proc);
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      try {
        proc.records.push(JSON.parse(line));
      } catch {
        proc.records.push({ event: 'text', line });
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    proc.stderr += chunk;
    if (proc.stderr.length > 100_000) proc.stderr = proc.stderr.slice(-50_000);
  });
  if (ipc) child.on('message', (m) => m?.type === 'sample' && proc.samples.push({ ...m, at: Date.now() }));
  child.on('error', () => {});
  return proc;
}

/** Waits for a stdout record matching `predicate`; fails on exit or after `timeout` ms. */
export async function waitForRecord(proc, predicate, timeout = 20_000) {
  const start = Date.now();
  for (;;) {
    const found = proc.records.find(predicate);
    if (found) return found;
    if (proc.exitInfo) {
      throw new Error(
        `${proc.name} exited (${JSON.stringify(proc.exitInfo)}) before it was ready:\n${proc.stderr}`,
      );
    }
    if (Date.now() - start > timeout)
      throw new Error(`${proc.name}: not ready after ${timeout} ms:\n${proc.stderr}`);
    await sleep(20);
  }
}

/** Sends `signal` to the process group, waits up to `timeout` ms, then kills the group. */
export async function stopProcess(proc, { signal = 'SIGTERM', timeout = 15_000 } = {}) {
  if (proc.exitInfo) return proc.exitInfo;
  const kill = (sig) => {
    try {
      process.kill(-proc.child.pid, sig);
    } catch {
      // already gone
    }
  };
  kill(signal);
  let timer;
  const result = await Promise.race([
    proc.exited,
    new Promise((r) => (timer = setTimeout(r, timeout, 'timeout'))),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    kill('SIGKILL');
    await proc.exited;
    return { code: null, signal: 'SIGKILL', timedOut: true };
  }
  // Workers of a cluster have the same group: make sure none is left behind.
  kill('SIGKILL');
  return result;
}

/** Stops every process started here and not yet stopped (for afterAll / finally). */
export async function stopAll() {
  await Promise.all([...running].map((proc) => stopProcess(proc, { timeout: 5_000 })));
}

/** The downstream on a free port: capacity `concurrency * 1000 / latency` per second. */
export async function startDownstream({ concurrency = 10, latency = 100 } = {}) {
  const port = await freePort();
  const proc = startProcess(
    process.execPath,
    [
      'src/downstream.js',
      '--port',
      String(port),
      '--concurrency',
      String(concurrency),
      '--latency',
      String(latency),
    ],
    { name: 'downstream' },
  );
  await waitForRecord(proc, (r) => r.event === 'listening');
  return { proc, url: `http://${HOST}:${port}`, port };
}

/** The service on a free port, with an IPC channel for its memory samples. */
export async function startService({ downstream, instances = 1, redis, naive = false, extraArgs = [] }) {
  const port = await freePort();
  const args = [
    'src/service.js',
    '--port',
    String(port),
    '--downstream',
    downstream,
    '--instances',
    String(instances),
  ];
  if (redis) args.push('--redis', redis);
  if (naive) args.push('--naive');
  const proc = startProcess(process.execPath, [...args, ...extraArgs], {
    ipc: true,
    name: naive ? 'naive' : 'service',
  });
  await waitForRecord(proc, (r) => r.event === 'listening');
  return { proc, url: `http://${HOST}:${port}`, port };
}

/**
 * Debian's redis-server on a free port of 127.0.0.1, without persistence, in a temporary folder.
 * Throws when there is no redis-server (tests decide whether that is a skip or a failure).
 */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'node-service-redis-'));
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  const proc = startProcess(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--loglevel',
      'warning',
    ],
    { name: 'redis-server' },
  );
  const start = Date.now();
  for (;;) {
    if (proc.exitInfo)
      throw new Error(`redis-server exited: ${JSON.stringify(proc.exitInfo)} ${proc.stderr}`);
    const ok = await new Promise((resolve) => {
      import('node:net').then(({ connect }) => {
        const socket = connect(port, HOST);
        socket.once('connect', () => {
          socket.write('PING\r\n');
          socket.once('data', (d) => {
            socket.destroy();
            resolve(String(d).startsWith('+PONG'));
          });
        });
        socket.once('error', () => resolve(false));
      });
    });
    if (ok) break;
    if (Date.now() - start > 10_000) throw new Error('redis-server did not answer PING within 10 s');
    await sleep(50);
  }
  return {
    proc,
    url: `redis://${HOST}:${port}`,
    stop: async () => {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The event mix: `clients` clients in turn; 20% critical, 50% normal, 30% bulk. */
export function eventFor(n, { clients, runId }) {
  const slot = (n * 7) % 10;
  return {
    id: `${runId}-${n}`,
    client: `client-${n % clients}`,
    priority: slot < 2 ? 'critical' : slot < 7 ? 'normal' : 'bulk',
    payload: { n, note: 'load test event' },
  };
}

/**
 * POST /events at `rate` per second for `duration` s with autocannon, tracking every event by id.
 *
 * autocannon paces by connection: each connection sends at most `rate` requests per second, one at a
 * time (the next when the previous is answered or times out). Connections that start together send
 * together, so the load is split into `slots` autocannon runs started 1000/slots ms apart, each
 * with rate/slots connections at 1 request per second: `slots` small bursts per second instead of
 * one large one. A connection waits for its answer, so the rate is only reached while answers take
 * less than a second (the client `timeout`, 1 s by default; a timed-out request is abandoned, the
 * connection reconnects and goes on). Each connection sends `duration` requests, then stops once the
 * last is answered or timed out. The result counts what was really sent.
 */
export async function runLoad({
  url,
  rate,
  duration,
  clients = 20,
  slots = 20,
  timeout = 1,
  runId = 'run',
  onTick,
}) {
  const sent = new Map(); // id -> sentAt (ms)
  const answers = new Map(); // id -> { status, latency, retryAfter, retryAfterMs, outcome }
  let n = 0;
  let unattributed = 0;
  const perSlot = Math.max(1, Math.round(rate / slots));
  const started = performance.now();
  const runs = [];
  for (let s = 0; s < slots; s++) {
    if (s > 0) await sleep(1000 / slots);
    const run = autocannon({
      url,
      connections: perSlot,
      connectionRate: 1,
      // `amount` rather than `duration`: each connection stops after its last answer (or timeout),
      // so that no request is abandoned in flight when the run ends.
      amount: perSlot * duration,
      timeout,
      requests: [
        {
          method: 'POST',
          path: '/events',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req, context) => {
            const event = eventFor(n++, { clients, runId });
            context.id = event.id;
            sent.set(event.id, performance.now());
            return { ...req, body: JSON.stringify(event) };
          },
          onResponse: (status, body, context, headers) => {
            let id = context.id;
            let outcome;
            try {
              const parsed = JSON.parse(body);
              id = parsed.id ?? id;
              outcome = parsed.outcome;
            } catch {
              // not ours: counted by status only
            }
            const sentAt = sent.get(id);
            if (sentAt === undefined || answers.has(id)) {
              unattributed++;
              return;
            }
            answers.set(id, {
              status,
              outcome,
              latency: performance.now() - sentAt,
              retryAfter: headers['retry-after'] ?? headers['Retry-After'],
              retryAfterMs: headers['x-retry-after-ms'] ?? headers['X-Retry-After-Ms'],
            });
          },
        },
      ],
    });
    runs.push(
      new Promise((resolve, reject) => {
        run.once('done', resolve);
        run.once('error', reject);
      }),
    );
    onTick?.(s);
  }
  const results = await Promise.all(runs);
  const elapsed = (performance.now() - started) / 1000;
  const timeouts = results.reduce((sum, r) => sum + r.timeouts, 0);
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  return { sent, answers, unattributed, timeouts, errors, elapsed };
}

/** Answers by status (per second too), p50/p99 of the 2xx answers' latency (ms), unanswered count. */
export function summarize({ sent, answers, elapsed }, { duration = elapsed } = {}) {
  // Per second of the whole run: from the first request to the last answer.
  const byStatus = {};
  const accepted = [];
  for (const answer of answers.values()) {
    byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
    if (answer.status >= 200 && answer.status < 300) accepted.push(answer.latency);
  }
  accepted.sort((a, b) => a - b);
  const pct = (p) =>
    accepted.length
      ? accepted[Math.min(accepted.length - 1, Math.ceil((p / 100) * accepted.length) - 1)]
      : NaN;
  return {
    sentPerSecond: sent.size / duration,
    perSecondByStatus: Object.fromEntries(Object.entries(byStatus).map(([s, c]) => [s, c / duration])),
    byStatus,
    p50: pct(50),
    p99: pct(99),
    acceptedCount: accepted.length,
    unanswered: sent.size - answers.size,
  };
}

/** Ids sent but not answered, and not reported by the service (its `unanswered` log lines). */
export function lostSilently({ sent, answers }, serviceRecords) {
  const reported = new Set(serviceRecords.filter((r) => r.event === 'unanswered').map((r) => r.id));
  const lost = [];
  for (const id of sent.keys()) if (!answers.has(id) && !reported.has(id)) lost.push(id);
  return lost;
}

/** Start, peak and end of the service's own memory samples (bytes) taken from `from` to `to` (ms since epoch). */
export function memoryOver(allSamples, from = 0, to = Infinity) {
  const samples = allSamples.filter((s) => s.at >= from && s.at <= to);
  if (samples.length === 0) return undefined;
  const first = samples[0];
  const last = samples[samples.length - 1];
  return {
    rss: { start: first.rss, peak: Math.max(...samples.map((s) => s.rss)), end: last.rss },
    heap: { start: first.heapUsed, peak: Math.max(...samples.map((s) => s.heapUsed)), end: last.heapUsed },
  };
}

/** One POST /events: resolves with the answer ({ status, headers, body }) or the error ({ error }). */
function postEvent(url, event, agent, timeout) {
  return new Promise((resolve) => {
    const body = JSON.stringify(event);
    const req = request(
      new URL('/events', url),
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          let parsed;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed });
        });
        res.on('error', (err) => resolve({ error: err.code ?? String(err) }));
      },
    );
    req.setTimeout(timeout, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err) => resolve({ error: err.code ?? String(err) }));
    req.end(body);
  });
}

/**
 * An open-loop load without autocannon, for the tests that need every request's own outcome: one
 * event every 1000/rate ms whatever the answers, each its own request (`keepAlive: false`: a new
 * connection each, so that cluster workers share them). Resolves once every request has ended.
 */
export async function openLoop({
  url,
  rate,
  duration,
  clients = 10,
  client,
  runId = 'open',
  keepAlive = true,
  timeout = 10_000,
}) {
  const agent = new Agent({ keepAlive, maxSockets: 256 });
  const results = new Map();
  const total = Math.round(rate * duration);
  const started = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const event = eventFor(i, { clients, runId });
    if (client) event.client = client;
    pending.push(postEvent(url, event, agent, timeout).then((r) => results.set(event.id, r)));
  }
  await Promise.all(pending);
  agent.destroy();
  return { results, elapsed: (performance.now() - started) / 1000 };
}
