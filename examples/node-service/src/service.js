// The service's entry point.
//
//   node src/service.js --downstream http://127.0.0.1:4000 [--port 3000] [--instances N --redis URL]
//
// --instances 1 (the default) runs one process. --instances N forks N workers (node:cluster, one
// shared port) whose per-client limits live in Redis (--redis redis://127.0.0.1:6379, or the path of
// a unix socket), so that the limit holds for the service as a whole. Prints one JSON line,
// {"event":"listening","port":N,...}, once every instance listens; SIGTERM shuts down gracefully.
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { exitAfterLog, log } from './app.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    downstream: { type: 'string', default: 'http://127.0.0.1:4000' },
    instances: { type: 'string', default: '1' },
    redis: { type: 'string' },
    rate: { type: 'string', default: '10' }, // events per second, per client
    burst: { type: 'string', default: '20' }, // bucket capacity, per client
    queue: { type: 'string', default: '20' }, // events waiting for the downstream (per instance)
    ttl: { type: 'string', default: '150' }, // ms an event may wait for the downstream
    concurrency: { type: 'string', default: '10' }, // calls to the downstream at once (whole service)
    'shutdown-timeout': { type: 'string', default: '5000' },
    naive: { type: 'boolean', default: false },
  },
});

const instances = Number(args.instances);
const config = {
  port: Number(args.port),
  host: args.host,
  downstream: args.downstream,
  instances,
  rate: Number(args.rate),
  burst: Number(args.burst),
  queue: Number(args.queue),
  ttl: Number(args.ttl),
  // The downstream's capacity is shared: each instance takes its part of it.
  concurrency: Math.max(1, Math.ceil(Number(args.concurrency) / instances)),
  shutdownTimeout: Number(args['shutdown-timeout']),
  naive: args.naive,
  instanceId: cluster.isPrimary ? 'main' : `w${cluster.worker.id}`,
};
for (const [key, value] of Object.entries(config)) {
  if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0)) {
    console.error(`--${key} must be a non-negative number`);
    process.exit(2);
  }
}
if (!Number.isInteger(instances) || instances < 1) {
  console.error('--instances must be a positive integer');
  process.exit(2);
}
if (instances > 1 && !args.redis) {
  console.error('--instances N > 1 needs --redis URL: the per-client limits are shared there');
  process.exit(2);
}

// A parent that started this process with an IPC channel (the tests, the load test) may die without
// stopping it (killed by SIGKILL, or a CI timeout): the channel then closes, and the service shuts
// down as on SIGTERM (bounded by --shutdown-timeout; exit 1 if even that hangs). Its stdout and
// stderr may have gone with the parent: writes to them must not fail the shutdown. Workers of a
// cluster need nothing of the kind: node:cluster ends a worker whose primary went away.
let stop; // set once the service runs
const watchParent = cluster.isPrimary && typeof process.send === 'function';
const parentGone = () => {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  if (!stop) process.exit(1); // still starting: nothing to drain
  log({ event: 'parent-gone' });
  setTimeout(() => process.exit(1), config.shutdownTimeout + 5_000).unref();
  stop();
};
if (watchParent) process.once('disconnect', parentGone);

if (instances > 1 && cluster.isPrimary) {
  const { runPrimary } = await import('./primary.js');
  stop = runPrimary({ instances, log, exitAfterLog });
} else {
  stop = await runInstance();
}
if (watchParent && !process.connected) parentGone();

async function runInstance() {
  const { createService } = await import('./app.js');
  let redis;
  let redisStoreFor;
  if (args.redis) {
    const { Redis } = await import('ioredis');
    const { redisTokenStore } = await import('rxjs-backpressure/redis');
    const options = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    redis = args.redis.startsWith('/')
      ? new Redis({ ...options, path: args.redis })
      : new Redis(args.redis, options);
    redis.on('error', (err) => log({ event: 'redis-error', error: err.message }));
    await redis.connect();
    // One key per client; nothing is kept in Redis for a client whose bucket is full.
    redisStoreFor = (client) =>
      redisTokenStore({ client: redis, key: `node-service:client:${client}`, timeout: 200 });
  }
  const metricsText = cluster.isWorker ? () => requestMergedMetrics() : undefined;
  const service = createService(config, {
    redisStoreFor,
    metricsText,
    onShutdown: async () => {
      await redis?.quit().catch(() => redis.disconnect());
    },
  });
  if (cluster.isWorker) {
    process.on('message', (message) => {
      if (message?.type === 'metrics-merged') {
        const resolve = pendingMetrics.get(message.requestId);
        pendingMetrics.delete(message.requestId);
        resolve?.(message.text);
      } else if (message?.type === 'collect-metrics') {
        service.metrics
          .text()
          .then((text) => process.send({ type: 'metrics-text', requestId: message.requestId, text }))
          .catch((err) =>
            process.send({ type: 'metrics-text', requestId: message.requestId, text: `# ${err}\n` }),
          );
      }
    });
  }
  const port = await service.listen();
  if (cluster.isWorker) process.send({ type: 'listening', port });
  else log({ event: 'listening', port, instances: 1, naive: config.naive, pid: process.pid });

  const stop = () => {
    service.shutdown().then(
      () => exitAfterLog(0),
      (err) => {
        log({ event: 'shutdown-error', error: String(err) });
        exitAfterLog(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // In a worker, the primary asks by message too (cluster workers share its process group).
  process.on('message', (message) => {
    if (message?.type === 'shutdown') stop();
  });
  return stop;
}

let nextRequestId = 0;
const pendingMetrics = new Map();
/** A worker asks the primary for the merged metrics of every worker. */
function requestMergedMetrics() {
  const requestId = nextRequestId++;
  return new Promise((resolve) => {
    pendingMetrics.set(requestId, resolve);
    process.send({ type: 'metrics-request', requestId });
  });
}
