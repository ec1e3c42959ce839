// One instance of the service: the HTTP server, the events pipeline, /export and /metrics.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { CircuitBreaker, FlowMeter } from 'rxjs-backpressure';
import { createDownstreamClient } from './downstreamClient.js';
import { createEventPipeline, PRIORITY_RANK } from './events.js';
import { handleExport } from './export.js';
import { createMetrics } from './metrics.js';

const MAX_BODY = 16 * 1024;

/** One JSON line on stdout: the service's log, read by the load test and the tests. */
export const log = (record) => process.stdout.write(JSON.stringify(record) + '\n');

/**
 * Exits once everything logged has been written: stdout to a pipe is asynchronous in Node, and a
 * bare `process.exit()` would drop the last lines (the fates of events whose clients had gone).
 */
export const exitAfterLog = (code) => process.stdout.write('', () => process.exit(code));

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(Object.assign(new Error('body too large'), { status: 413 }));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Checks a POST /events body: `{ id?, client, priority, payload? }`. Returns an error or the event. */
function parseEvent(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: 'the body is not JSON' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { error: 'the body must be an object' };
  const { id, client, priority, payload } = body;
  if (typeof client !== 'string' || client.length === 0 || client.length > 64) {
    return { error: '`client` must be a string of 1 to 64 characters' };
  }
  if (!Object.hasOwn(PRIORITY_RANK, priority))
    return { error: "`priority` must be 'critical', 'normal' or 'bulk'" };
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 64)) {
    return { error: '`id`, when given, must be a string of 1 to 64 characters' };
  }
  return { event: { id: id ?? randomUUID(), client, priority, payload } };
}

/**
 * @param {object} config  see service.js: port, host, downstream, rate, burst, queue, ttl,
 *   concurrency, instances, naive, shutdownTimeout, instanceId
 * @param {(client: string) => import('rxjs-backpressure').TokenStore | undefined} redisStoreFor
 */
export function createService(config, { redisStoreFor = () => undefined, metricsText, onShutdown } = {}) {
  const downstream = createDownstreamClient(config.downstream);
  const breaker = config.naive
    ? undefined
    : new CircuitBreaker({
        consecutiveFailures: 5,
        failureRateThreshold: 0.5,
        window: { duration: 10_000 },
        minimumCalls: 20,
        openDuration: 2_000,
        callTimeout: 2_000,
      });
  breaker?.state$.subscribe(({ state, reason }) => log({ event: 'breaker', state, reason }));

  const meters = {
    rateLimit: new FlowMeter({ name: 'events.rate_limit' }),
    queue: new FlowMeter({ name: 'events.queue' }),
    export: new FlowMeter({ name: 'export' }),
  };
  const metrics = createMetrics({
    instanceId: config.instanceId,
    flowMeters: Object.values(meters),
    breaker,
  });

  const counts = { received: 0, inflight: 0, answered: 0, unanswered: 0, byOutcome: {} };
  const events = createEventPipeline({
    config,
    redisStoreFor,
    downstream,
    breaker,
    meters,
    naive: config.naive,
    onStoreFailure: (error, mode) => log({ event: 'store-failure', mode, error: String(error) }),
  });
  const exports = new Set();
  let stopping = false;

  async function postEvent(req, res) {
    if (stopping) {
      sendJson(
        res,
        503,
        { outcome: 'shutting-down' },
        { 'x-event-outcome': 'shutting-down', connection: 'close' },
      );
      return;
    }
    let text;
    try {
      text = await readBody(req);
    } catch (err) {
      sendJson(res, err.status ?? 400, { error: err.message });
      if (err.status === 413) req.destroy();
      return;
    }
    const parsed = parseEvent(text);
    if (parsed.error) {
      sendJson(res, 400, { error: parsed.error });
      return;
    }
    const { event } = parsed;
    let settled = false;
    let clientGone = false;
    res.on('close', () => {
      if (!settled) clientGone = true;
    });
    counts.received++;
    counts.inflight++;
    events.submit({
      event,
      settle(status, outcome, { headers = {}, body = {} } = {}) {
        if (settled) return;
        settled = true;
        counts.inflight--;
        counts.byOutcome[outcome] = (counts.byOutcome[outcome] ?? 0) + 1;
        metrics.countResponse(status, outcome);
        if (clientGone || res.destroyed) {
          // The client went away before its answer: the fate is reported here instead.
          counts.unanswered++;
          log({ event: 'unanswered', id: event.id, status, outcome });
          return;
        }
        counts.answered++;
        sendJson(
          res,
          status,
          { id: event.id, outcome, ...body },
          {
            'x-event-outcome': outcome,
            'x-instance': config.instanceId,
            ...headers,
            ...(stopping ? { connection: 'close' } : {}),
          },
        );
      },
    });
  }

  const server = createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (req.method === 'POST' && path === '/events') {
      postEvent(req, res).catch((err) => {
        log({ event: 'handler-error', error: String(err) });
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      });
    } else if (req.method === 'GET' && path === '/export') {
      if (stopping) sendJson(res, 503, { error: 'shutting down' }, { connection: 'close' });
      else handleExport(req, res, { meter: meters.export, exports });
    } else if (req.method === 'GET' && path === '/metrics') {
      (metricsText ?? metrics.text)()
        .then((text) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(text);
        })
        .catch((err) => sendJson(res, 500, { error: String(err) }));
    } else if (req.method === 'GET' && path === '/debug/stats') {
      sendJson(res, 200, {
        instance: config.instanceId,
        ...memory(),
        ...counts,
        exports: exports.size,
        breaker: breaker?.state ?? null,
      });
    } else if (path === '/events' || path === '/export' || path === '/metrics') {
      sendJson(res, 405, { error: 'method not allowed' });
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 10_000;

  const memory = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed };
  };

  // The service reports its own memory and counts to a parent that started it with an IPC channel
  // (the load test and the tests), so that measuring costs no HTTP request under load.
  const reporter =
    process.send &&
    setInterval(() => {
      if (process.connected)
        process.send({
          type: 'sample',
          instance: config.instanceId,
          ...memory(),
          ...counts,
          exports: exports.size,
        });
    }, 200);
  reporter?.unref();

  let shuttingDown;
  /**
   * SIGTERM: stop accepting, let what waits be delivered (or expire) within the deadline, then answer
   * 503 to whatever still waits and cancel the calls still running (answered 503 'cancelled'), end
   * running exports, and close. Every event received is answered or logged `unanswered` with its fate.
   */
  function shutdown() {
    shuttingDown ??= (async () => {
      stopping = true;
      log({ event: 'shutting-down', inflight: counts.inflight, exports: exports.size });
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      events.complete();
      let timer;
      const deadline = new Promise(
        (resolve) => (timer = setTimeout(resolve, config.shutdownTimeout, 'deadline')),
      );
      const how = await Promise.race([events.done.then(() => 'drained'), deadline]);
      clearTimeout(timer);
      if (how === 'deadline') events.abort();
      for (const running of exports) {
        running.subscription?.unsubscribe();
        running.res.destroy();
      }
      // Answers written, keep-alive connections closing: give them a moment, then cut the rest.
      const grace = setTimeout(() => server.closeAllConnections(), 1_000);
      await closed;
      clearTimeout(grace);
      clearInterval(reporter);
      downstream.close();
      await metrics.shutdown();
      await onShutdown?.();
      log({ event: 'shutdown', how, ...counts });
    })();
    return shuttingDown;
  }

  return {
    server,
    metrics,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve(server.address().port));
      }),
    shutdown,
  };
}
