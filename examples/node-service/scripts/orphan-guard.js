// node scripts/orphan-guard.js COMMAND [ARGS...], started with an IPC channel (scripts/harness.js
// starts redis-server through it).
//
// Runs COMMAND as its child, in the guard's own process group, and stops it when the guard's parent
// goes away. A program that cannot watch its parent (redis-server) would otherwise outlive a runner
// killed without a chance to stop it (SIGKILL: no handler runs). The IPC channel closes when the
// parent dies, whatever killed it; the guard then sends COMMAND SIGTERM (SIGKILL after 2 s). A
// signal sent to the group reaches COMMAND directly; one sent to the guard alone is passed on. The
// guard exits when COMMAND does, with its exit code (128 + the signal's number if it was killed).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [command, ...args] = process.argv.slice(2);
if (!command || !process.send) {
  console.error('usage: node scripts/orphan-guard.js COMMAND [ARGS...], started with an IPC channel');
  process.exit(2);
}

// stdin, stdout and stderr only: the IPC channel is not passed on (it must close when the parent dies).
const child = spawn(command, args, { stdio: 'inherit' });
child.on('error', (err) => {
  console.error(`orphan-guard: ${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}

const parentGone = () => {
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
};
process.once('disconnect', parentGone);
if (!process.connected) parentGone();
