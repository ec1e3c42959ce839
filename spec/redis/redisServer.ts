import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A redis-server of its own for a test file: no config file, a unix socket in a temporary folder
 * (TCP off: `--port 0`), no persistence, so that a restart loses every key. Started in `beforeAll`,
 * stopped in `afterAll` (and by `stop` in a `finally`), also when a test fails.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly dir: string;
  readonly socket: string;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'rxbp-redis-'));
    this.socket = join(this.dir, 'redis.sock');
  }

  /** Starts a server; resolves once it accepts connections. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer();
    try {
      await server.launch();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the server process (again, after `kill`: with no keys). */
  async launch(): Promise<void> {
    if (this.process) throw new Error('redis-server already running');
    const child = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--unixsocket',
        this.socket,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.process = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        if (this.process === child) this.process = undefined;
        resolve();
      });
    });
    const started = Date.now();
    while (!(await this.pings())) {
      if (!this.process) throw new Error(`redis-server exited at start: ${stderr}`);
      if (Date.now() - started > 10_000) throw new Error(`redis-server did not start in 10 s: ${stderr}`);
      await sleep(20);
    }
  }

  /** Whether the server answers PING on its socket. */
  private pings(): Promise<boolean> {
    if (!existsSync(this.socket)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const socket = createConnection(this.socket);
      socket.setTimeout(1000);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
  }

  /** Kills the server at once (SIGKILL): connections drop, and every key is lost. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Stops the server and removes its folder; safe to call more than once. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether this machine has redis-server. Without it the Redis tests are skipped with a message,
 * except under `CI=true`, where they fail: CI installs it (.ci/run), so its absence is a bug.
 */
export const redisAvailable: boolean = (() => {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return result.status === 0 && /Redis server v=/.test(result.stdout);
})();

/** `describe`, or, without redis-server outside CI, `describe.skip` with a note saying why. */
export function describeWithRedis(name: string, body: () => void): void {
  if (redisAvailable || process.env.CI === 'true') {
    describe(name, () => {
      if (!redisAvailable) {
        it('needs redis-server (CI=true: a missing redis-server fails, never skips)', () => {
          throw new Error(
            'redis-server is not installed; .ci/run installs it with apt-get (redis-server package)',
          );
        });
        return;
      }
      body();
    });
  } else {
    console.warn(`skipped "${name}": no redis-server on this machine (apt-get install redis-server)`);
    describe.skip(name, body);
  }
}
