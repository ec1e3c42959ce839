// A runner that dies leaves no child behind: the fixture test/fixtures/runner.js starts the
// downstream, the service and (when redis-server is installed) Redis with the service as a cluster of
// 2 through the harness, and is then killed (SIGKILL: no handler of its own runs; SIGTERM, SIGINT)
// or fails (an uncaught exception, process.exit) without stopping them. Every child, and every
// process of its group (cluster workers, the redis-server under its guard), must be gone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { after, afterEach, describe, test } from 'node:test';
import { sleep, startProcess, stopAll, stopProcess, waitForRecord } from '../scripts/harness.js';

after(stopAll);
afterEach(stopAll);

let hasRedis = true;
try {
  execFileSync(process.env.REDIS_SERVER ?? 'redis-server', ['--version']);
} catch {
  hasRedis = false;
}

/** Linux: a process that has exited but was not reaped yet (a zombie) counts as gone. */
function zombie(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Whether `pid` (or, for `-pgid`, any process of that group) is alive, by `process.kill(_, 0)`. */
function alive(target) {
  try {
    process.kill(target, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  if (target > 0) return !zombie(target);
  // A group whose members are all zombies is gone too (on Linux, where /proc says so).
  if (!existsSync('/proc/self/stat')) return true;
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .some((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, , pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgid) === -target && state !== 'Z';
      } catch {
        return false;
      }
    });
}

/** Each child by pid, and its process group (it leads one: the harness starts it detached). */
const targets = (pids) => Object.values(pids).flatMap((pid) => [pid, -pid]);

const cases = [
  { how: 'SIGKILL', redis: true, exit: { code: null, signal: 'SIGKILL' } },
  { how: 'SIGTERM', redis: true, exit: { code: null, signal: 'SIGTERM' } },
  { how: 'SIGINT', redis: false, exit: { code: null, signal: 'SIGINT' } },
  { how: 'throw', redis: false, exit: { code: 1, signal: null } },
  { how: 'exit', redis: false, exit: { code: 0, signal: null } },
];

describe('a runner that dies without stopping its children', () => {
  for (const { how, redis, exit } of cases) {
    const withRedis = redis && hasRedis;
    const what = withRedis ? 'downstream, Redis, service with 2 workers' : 'downstream, service';
    const title = ['throw', 'exit'].includes(how)
      ? `${how === 'throw' ? 'an uncaught exception' : 'process.exit()'} in the runner: its children (${what}) are gone`
      : `${how} to the runner: its children (${what}) are gone`;
    test(title, async (t) => {
      if (redis && !hasRedis && process.env.CI === 'true') assert.fail('redis-server is missing');
      const mode = ['throw', 'exit'].includes(how) ? how : 'wait';
      // Through the harness too: if this test process dies, the runner and its children go with it.
      const runner = startProcess(
        process.execPath,
        ['test/fixtures/runner.js', mode, ...(withRedis ? ['redis'] : [])],
        { ipc: true, name: 'runner' },
      );
      let started;
      try {
        started = await waitForRecord(runner, (r) => r.event === 'started', 30_000);
        const { pids } = started;
        t.diagnostic(`children: ${JSON.stringify(pids)}`);
        for (const target of targets(pids)) assert.ok(alive(target), `${target} runs before the runner dies`);

        const killedAt = Date.now();
        if (mode === 'wait') process.kill(runner.child.pid, how);
        else runner.child.send({ type: 'die' });
        const exited = await runner.exited;
        assert.deepEqual(exited, exit, `the runner's own end: ${runner.stderr}`);

        const deadline = Date.now() + 10_000;
        let left = targets(pids).filter(alive);
        while (left.length > 0 && Date.now() < deadline) {
          await sleep(50);
          left = left.filter(alive);
        }
        assert.deepEqual(left, [], 'pids (and -groups) still alive after 10 s');
        t.diagnostic(`runner ended, children gone ${Date.now() - killedAt} ms after the ${how}`);
        if (started.redisDir && how !== 'SIGKILL') {
          assert.ok(!existsSync(started.redisDir), "Redis's temporary folder was removed");
        }
      } finally {
        // Whatever happened: nothing of this test may stay behind.
        await stopProcess(runner, { timeout: 1_000 });
        for (const target of started ? targets(started.pids) : []) {
          try {
            if (alive(target)) process.kill(target, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        if (started?.redisDir) rmSync(started.redisDir, { recursive: true, force: true });
      }
    });
  }
});
