import { createReadStream, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { lastValueFrom, Observable, take } from 'rxjs';
import { pullFrom, pullMap, writeTo } from 'rxjs-backpressure';

/**
 * The documented way to read a file line by line, `createInterface({ input: createReadStream(path) })`,
 * must not leave the file open however the pipeline ends. Node's readline never destroys its input,
 * so the operators do it when they cancel. Counted in /proc/self/fd (Linux).
 */
const dir = mkdtempSync(join(tmpdir(), 'rxjs-backpressure-fd-'));
const path = join(dir, 'input.txt');
beforeAll(() => {
  writeFileSync(path, Array.from({ length: 20_000 }, (_, i) => `line ${String(i)}`).join('\n'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function openHandles(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/** Waits (on the real clock: closing a file is real I/O) until the file is closed, or 2 s. */
async function closed(): Promise<number> {
  for (let i = 0; i < 200 && openHandles() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  return openHandles();
}

/** Demand that never runs out. */
const unlimited = new Observable<number>((s) => s.next(Infinity));
const lines = () => createInterface({ input: createReadStream(path), crlfDelay: Infinity });
const work = (line: string): Promise<string> =>
  new Promise((resolve) => setImmediate(() => resolve(line + '\n')));

/** A writable that fails on its `failAt`-th write. */
function failingWritable(failAt: number): Writable {
  let n = 0;
  return new Writable({
    objectMode: true,
    write(_chunk: string, _encoding, callback) {
      if (++n === failAt) callback(new Error('disk full'));
      else setImmediate(callback);
    },
  });
}

type Mode = 'unsubscribe' | 'take' | 'writable error' | 'transform error';
const modes: Mode[] = ['unsubscribe', 'take', 'writable error', 'transform error'];

/** Cancels a pipeline over the file after about `at` lines, in the given way; resolves once it ended. */
async function cancel(mode: Mode, at: number): Promise<void> {
  switch (mode) {
    case 'unsubscribe':
      await new Promise<void>((resolve) => {
        let seen = 0;
        const subscription = pullMap(lines(), work, { concurrency: 4 }).subscribe(() => {
          if (++seen === at) {
            subscription.unsubscribe();
            resolve();
          }
        });
      });
      return;
    case 'take':
      await lastValueFrom(pullFrom(lines(), unlimited).pipe(take(at)));
      return;
    case 'writable error':
      await expect(
        lastValueFrom(
          writeTo(failingWritable(at), (demand$) =>
            pullMap(lines(), work, { concurrency: 2, ordered: true, demand$ }),
          ),
        ),
      ).rejects.toThrow('disk full');
      return;
    case 'transform error':
      await expect(
        lastValueFrom(
          pullMap(lines(), (line, i) => (i + 1 === at ? Promise.reject(new Error('bad line')) : work(line)), {
            concurrency: 3,
          }),
        ),
      ).rejects.toThrow('bad line');
      return;
  }
}

describe('the file under a readline Interface is closed however the pipeline ends', () => {
  it('20 cancellations at random points leave 0 open descriptors', async () => {
    expect(openHandles()).toBe(0);
    // A fixed seed, so a failure can be replayed; the points still spread over the first 2,000 lines.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % n);
    };
    const leaks: string[] = [];
    for (let run = 0; run < 20; run++) {
      const mode = modes[run % modes.length] as Mode;
      const at = random(2000);
      await cancel(mode, at);
      if ((await closed()) > 0) leaks.push(`${mode} at line ${String(at)}`);
    }
    expect(leaks).toEqual([]);
  }, 60_000);

  it('a Readable given straight to pullFrom is destroyed on cancel too', async () => {
    const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1024 });
    await lastValueFrom(pullFrom(input, unlimited).pipe(take(2)));
    expect(await closed()).toBe(0);
    expect(input.destroyed).toBe(true);
  });

  it('reading the whole file closes it (nothing is cancelled)', async () => {
    const written = await lastValueFrom(
      writeTo(new Writable({ objectMode: true, write: (_c, _e, cb) => setImmediate(cb) }), (demand$) =>
        pullMap(lines(), work, { concurrency: 4, ordered: true, demand$ }),
      ),
    );
    expect(written).toBe(20_000);
    expect(await closed()).toBe(0);
  });
});
