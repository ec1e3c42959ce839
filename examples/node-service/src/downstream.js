// The downstream: a deliberately slow HTTP service that fails on demand. It serves at most
// `--concurrency` deliveries at once, each taking `--latency` ms, so its capacity is
// concurrency * 1000 / latency deliveries per second (10 * 1000 / 100 = 100/s by default); the rest
// wait in its own queue, as a real server's would. It records the id of every event it delivered.
//
//   POST /deliver        body: an event ({ id, client, priority, payload }) -> 200, or 500 while failing
//   POST /control        body: { failRate?: 0..1, failFor?: ms, latency?: ms } -> 200 (the new settings)
//   GET  /delivered      -> { count, ids }: every event id delivered so far
//
// Run: node src/downstream.js --port 0 [--concurrency 10] [--latency 100]
// It prints one JSON line, {"event":"listening","port":N}, once it listens on 127.0.0.1. SIGTERM
// stops it, and so does the end of the IPC channel to its parent when it was started with one.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    concurrency: { type: 'string', default: '10' },
    latency: { type: 'string', default: '100' },
  },
});

const concurrency = Number(args.concurrency);
let latency = Number(args.latency);
let failRate = 0;
let failUntil = 0;
let running = 0;
/** Deliveries waiting for a slot: a plain array is fine, it is the downstream's own queue. */
const waiting = [];
const delivered = [];

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function startNext() {
  while (running < concurrency && waiting.length > 0) {
    const job = waiting.shift();
    if (job.res.destroyed) continue; // the caller gave up while it waited
    running++;
    setTimeout(() => {
      running--;
      const failing = Date.now() < failUntil || Math.random() < failRate;
      if (failing) send(job.res, 500, { error: 'downstream failure (on demand)' });
      else if (!job.res.destroyed) {
        delivered.push(job.event.id);
        send(job.res, 200, { delivered: job.event.id });
      }
      startNext();
    }, latency);
  }
}

const server = createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/deliver') {
      const event = JSON.parse(await readBody(req));
      waiting.push({ event, res });
      startNext();
    } else if (req.method === 'POST' && req.url === '/control') {
      const control = JSON.parse((await readBody(req)) || '{}');
      if (control.failRate !== undefined) failRate = Number(control.failRate);
      if (control.failFor !== undefined) failUntil = Date.now() + Number(control.failFor);
      if (control.latency !== undefined) latency = Number(control.latency);
      send(res, 200, { failRate, failFor: Math.max(0, failUntil - Date.now()), latency, concurrency });
    } else if (req.method === 'GET' && req.url === '/delivered') {
      send(res, 200, { count: delivered.length, ids: delivered });
    } else {
      send(res, 404, { error: 'not found' });
    }
  } catch (err) {
    send(res, 400, { error: String(err) });
  }
});
server.keepAliveTimeout = 30_000;

server.listen(Number(args.port), args.host, () => {
  console.log(JSON.stringify({ event: 'listening', port: server.address().port }));
});
const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
// Started with an IPC channel (by scripts/harness.js), it exits when that channel closes: its parent
// has gone, perhaps killed without a chance to stop it.
if (typeof process.send === 'function') {
  process.once('disconnect', shutdown);
  if (!process.connected) shutdown();
}
