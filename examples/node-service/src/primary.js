// With --instances N: the primary forks N workers (node:cluster: they share one listening port and
// the kernel's connections are handed out round-robin), reports once all listen, merges their
// metrics for GET /metrics, forwards their memory samples to a parent with an IPC channel, restarts
// a worker that dies unexpectedly, and on SIGTERM shuts every worker down gracefully before exiting
// (`runPrimary` returns that shutdown, for service.js to call when its own parent goes away).
import cluster from 'node:cluster';
import { mergePrometheusTexts } from './metrics.js';

export function runPrimary({ instances, log, exitAfterLog }) {
  let stopping = false;
  const listening = new Set();
  const collections = new Map();
  let nextCollection = 0;

  const onMessage = (worker, message) => {
    if (message?.type === 'listening') {
      const first = listening.size < instances;
      listening.add(worker.id);
      if (first && listening.size === instances) {
        log({ event: 'listening', port: message.port, instances, pid: process.pid });
      }
    } else if (message?.type === 'sample') {
      if (process.send && process.connected) process.send(message);
    } else if (message?.type === 'metrics-request') {
      // Ask every live worker for its text; answer the asking worker with the merge (2 s at most).
      const id = nextCollection++;
      const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
      const collection = { texts: [], expected: workers.length, reply: worker, requestId: message.requestId };
      collections.set(id, collection);
      collection.timer = setTimeout(() => finish(id), 2_000);
      for (const w of workers) w.send({ type: 'collect-metrics', requestId: id });
    } else if (message?.type === 'metrics-text') {
      const collection = collections.get(message.requestId);
      if (!collection) return;
      collection.texts.push(message.text);
      if (collection.texts.length === collection.expected) finish(message.requestId);
    }
  };
  const finish = (id) => {
    const collection = collections.get(id);
    if (!collection) return;
    collections.delete(id);
    clearTimeout(collection.timer);
    if (collection.reply.isConnected()) {
      collection.reply.send({
        type: 'metrics-merged',
        requestId: collection.requestId,
        text: mergePrometheusTexts(collection.texts),
      });
    }
  };

  const fork = () => {
    const w = cluster.fork();
    w.on('message', (message) => onMessage(w, message));
  };
  for (let i = 0; i < instances; i++) fork();

  cluster.on('exit', (w, code, signal) => {
    listening.delete(w.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log({ event: 'shutdown', instances });
        exitAfterLog(0);
      }
      return;
    }
    log({ event: 'worker-died', worker: w.id, code, signal });
    fork();
  });

  const stop = () => {
    if (stopping) return;
    stopping = true;
    log({ event: 'shutting-down', instances });
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'shutdown' });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return stop;
}
