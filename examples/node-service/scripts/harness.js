// What the load test and the tests share: child processes in their own process groups (stopped
// with the whole group, also when something fails, and also when the runner itself dies), a Redis
// server, and an autocannon load that tracks every event by id.
//
// Orphans: every child runs detached, in a process group of its own, so that stopping it stops its
// workers too; but then nothing stops it when the runner is killed. Two guards, one on each side:
// - here, on SIGINT, SIGTERM and 'exit' of the runner, every running child's group is killed
//   synchronously (SIGKILL: a handler can wait for nothing), then the signal is raised again;
// - in the children, for when the runner dies without running a handler (SIGKILL): each has an IPC
//   channel to the runner, which closes when the runner dies, whatever killed it. The service and
//   the downstream shut down on its 'disconnect'; redis-server, which cannot watch its parent, runs
//   under scripts/orphan-guard.js, which stops it then.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));
const ORPHAN_GUARD = fileURLToPath(new URL('./orphan-guard.js', import.meta.url));
const HOST = '127.0.0.1';

/**
 * A port free on 127.0.0.1 now (the OS picks it; it is released before use, so another process may
 * take it first). Only for redis-server, which cannot be told to pick one (`--port 0` turns TCP
 * off): startRedis() tries again when the port was taken.
 */
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

/** Children started here and not yet exited. */
const running = new Set();
/** Temporary folders of Redis servers not yet stopped. */
const tempDirs = new Set();

/** Kills `proc`'s whole process group now (the child leads it: it was started detached). */
function killGroupSync(proc, signal = 'SIGKILL') {
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    // already gone
  }
}

/** The runner is going away: no child may outlive it. Synchronous, as an 'exit' handler must be. */
function killAllSync() {
  for (const proc of running) killGroupSync(proc);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

function onRunnerSignal(signal) {
  killAllSync();
  process.removeListener('SIGINT', onRunnerSignal);
  process.removeListener('SIGTERM', onRunnerSignal);
  // Raise it again: with no other listener left, the default action ends the runner by this
  // signal (exit status 130 or 143, as without this handler). Another listener decides for itself.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let runnerHooked = false;
function hookRunner() {
  if (runnerHooked) return;
  runnerHooked = true;
  process.on('exit', killAllSync);
  process.on('SIGINT', onRunnerSignal);
  process.on('SIGTERM', onRunnerSignal);
}

/**
 * Starts `command args` in a process group of its own, with an IPC channel when `ipc` (for a Node
 * script: the service's memory samples, and the channel whose end tells the child that the runner
 * died). Collects its stdout JSON lines in `records`. Killed with its group if the runner exits or
 * gets SIGINT or SIGTERM before stopping it.
 */
export function startProcess(command, args, { ipc = false, env = {}, name = command } = {}) {
  hookRunner();
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
  const kill = (sig) => killGroupSync(proc, sig);
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

/**
 * The downstream on a port of its own choosing (`--port 0`; the port is read from its `listening`
 * line): capacity `concurrency * 1000 / latency` per second. Its IPC channel ends it if the runner
 * dies.
 */
export async function startDownstream({ concurrency = 10, latency = 100 } = {}) {
  const proc = startProcess(
    process.execPath,
    ['src/downstream.js', '--port', '0', '--concurrency', String(concurrency), '--latency', String(latency)],
    { ipc: true, name: 'downstream' },
  );
  const { port } = await waitForRecord(proc, (r) => r.event === 'listening');
  return { proc, url: `http://${HOST}:${port}`, port };
}

/**
 * The service on a port of its own choosing (`--port 0`; the port is read from its `listening`
 * line), with an IPC channel for its memory samples (which also ends it if the runner dies).
 */
export async function startService({ downstream, instances = 1, redis, naive = false, extraArgs = [] }) {
  const args = [
    'src/service.js',
    '--port',
    '0',
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
  const { port } = await waitForRecord(proc, (r) => r.event === 'listening');
  return { proc, url: `http://${HOST}:${port}`, port };
}

/** Whether a Redis server answers PING on 127.0.0.1:`port`. */
function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.write('PING\r\n');
      socket.once('data', (d) => {
        socket.destroy();
        resolve(String(d).startsWith('+PONG'));
      });
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Debian's redis-server on a free port of 127.0.0.1, without persistence, in a temporary folder
 * (removed by `stop()`, or here if it does not start). It runs under scripts/orphan-guard.js, in
 * the guard's process group, so that it stops when the runner dies. redis-server cannot pick a
 * port itself, so the port is found free beforehand; if another process takes it in between, the
 * server exits ("Address already in use") and is started again on another port (3 tries).
 * Throws when there is no redis-server (tests decide whether that is a skip or a failure).
 */
export async function startRedis({ tries = 3 } = {}) {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'node-service-redis-')));
  tempDirs.add(dir);
  const remove = () => {
    tempDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const proc = startProcess(
        process.execPath,
        [
          ORPHAN_GUARD,
          bin,
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
        { ipc: true, name: 'redis-server' },
      );
      const start = Date.now();
      let failure;
      for (;;) {
        // Checked before each PING: a server that failed to bind is not the one that answers.
        if (proc.exitInfo) {
          const output = proc.records.map((r) => r.line ?? JSON.stringify(r)).join('\n');
          failure = {
            portTaken: /address already in use/i.test(output + proc.stderr),
            message: `redis-server exited: ${JSON.stringify(proc.exitInfo)}\n${output}\n${proc.stderr}`,
          };
          break;
        }
        if (await redisAnswers(port)) {
          if (!proc.exitInfo) break;
          continue;
        }
        if (Date.now() - start > 10_000) {
          await stopProcess(proc);
          throw new Error('redis-server did not answer PING within 10 s');
        }
        await sleep(50);
      }
      if (!failure) {
        return {
          proc,
          url: `redis://${HOST}:${port}`,
          dir,
          stop: async () => {
            await stopProcess(proc);
            remove();
          },
        };
      }
      if (!failure.portTaken || attempt >= tries) throw new Error(failure.message);
    }
  } catch (err) {
    remove();
    throw err;
  }
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
