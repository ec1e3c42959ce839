import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { IoRedisClientLike, NodeRedisClientLike } from '../../src/redis';

/** A client of either kind on a unix socket, and how to close it. */
export interface TestClient {
  kind: 'ioredis' | 'node-redis';
  client: IoRedisClientLike | NodeRedisClientLike;
  /** Sends a raw command (for the test's own checks). */
  command(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

export const CLIENT_KINDS = ['ioredis', 'node-redis'] as const;

/**
 * Connects to the server on `socket`. Reconnects every 50 ms while the server is down; connection
 * errors are counted, not thrown (node-redis throws an unhandled 'error' event otherwise).
 */
export async function connect(kind: TestClient['kind'], socket: string): Promise<TestClient> {
  if (kind === 'ioredis') {
    const client = new Redis({
      path: socket,
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
      lazyConnect: true,
    });
    client.on('error', () => undefined);
    await client.connect();
    return {
      kind,
      client,
      command: (name, ...args) => client.call(name, ...args),
      close: async () => {
        client.disconnect();
        await Promise.resolve();
      },
    };
  }
  const client = createClient({ socket: { path: socket, reconnectStrategy: () => 50 } });
  client.on('error', () => undefined);
  await client.connect();
  return {
    kind,
    client,
    command: (...args) => client.sendCommand(args),
    close: async () => {
      client.destroy();
      await Promise.resolve();
    },
  };
}
