import fc from 'fast-check';
import { PriorityWaitQueue } from '../../src/internal/PriorityWaitQueue';

/** One waiting value as the reference model keeps it. */
interface Waiting {
  value: string;
  index: number;
  cost: number;
  arrival: number;
  rank: number;
  /** Order of entry; values put back (unshift) lead their rank, the latest put back first. */
  order: number;
}

/** The queue's orders written the slow, obvious way: a list searched on every call. */
class Reference {
  items: Waiting[] = [];
  private next = 0;
  private front = -1;

  push(w: Omit<Waiting, 'order'>): void {
    this.items.push({ ...w, order: this.next++ });
  }
  unshift(w: Omit<Waiting, 'order'>): void {
    this.items.push({ ...w, order: this.front-- });
  }
  private best(better: (a: Waiting, b: Waiting) => boolean): Waiting {
    return this.items.reduce((best, w) => (better(w, best) ? w : best));
  }
  head(): Waiting {
    return this.best((a, b) => a.rank > b.rank || (a.rank === b.rank && a.order < b.order));
  }
  lowest(): Waiting {
    return this.best((a, b) => a.rank < b.rank || (a.rank === b.rank && a.order < b.order));
  }
  oldest(): Waiting {
    return this.best((a, b) => a.arrival < b.arrival || (a.arrival === b.arrival && a.order < b.order));
  }
  take(w: Waiting): Waiting {
    this.items.splice(this.items.indexOf(w), 1);
    if (this.items.length === 0) {
      this.next = 0;
      this.front = -1;
    }
    return w;
  }
}

type Op =
  | { kind: 'push' | 'unshift'; rank: number; arrival: number }
  | { kind: 'shift' | 'removeOldest' | 'drain' }
  | { kind: 'removeRankedBelow'; rank: number };

const rankArb = fc.integer({ min: -3, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 60,
    arbitrary: fc.record({ kind: fc.constant('push' as const), rank: rankArb, arrival: fc.nat(20) }),
  },
  {
    weight: 10,
    arbitrary: fc.record({ kind: fc.constant('unshift' as const), rank: rankArb, arrival: fc.nat(20) }),
  },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('shift' as const) }) },
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('removeOldest' as const) }) },
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('removeRankedBelow' as const), rank: rankArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const) }) },
);

function expectTaken(queue: PriorityWaitQueue<string>, value: string, w: Waiting): void {
  expect(value).toBe(w.value);
  expect([queue.takenIndex, queue.takenCost, queue.takenArrival, queue.takenRank]).toEqual([
    w.index,
    w.cost,
    w.arrival,
    w.rank,
  ]);
}

/** Runs the operations on the queue and on the reference, comparing every answer. */
function run(ops: readonly Op[], seqLimit?: number): void {
  const queue = new PriorityWaitQueue<string>(true, seqLimit);
  const model = new Reference();
  let n = 0;
  for (const op of ops) {
    switch (op.kind) {
      case 'push':
      case 'unshift': {
        const w = { value: `v${n}`, index: n, cost: 1 + (n % 3), arrival: op.arrival, rank: op.rank };
        n++;
        queue[op.kind](w.value, w.index, w.cost, w.arrival, w.rank);
        model[op.kind](w);
        break;
      }
      case 'shift':
        if (model.items.length === 0) break;
        expect(queue.headCost()).toBe(model.head().cost);
        expect(queue.headArrival()).toBe(model.head().arrival);
        expectTaken(queue, queue.shift(), model.take(model.head()));
        break;
      case 'removeOldest':
        if (model.items.length === 0) break;
        expect(queue.oldestArrival()).toBe(model.oldest().arrival);
        expectTaken(queue, queue.removeOldest(), model.take(model.oldest()));
        break;
      case 'removeRankedBelow': {
        const expected = model.items.length > 0 && model.lowest().rank < op.rank ? model.lowest() : undefined;
        expect(queue.removeRankedBelow(op.rank)).toBe(expected !== undefined);
        if (expected) expectTaken(queue, queue.takenValue as string, model.take(expected));
        break;
      }
      case 'drain': {
        const out: string[] = [];
        queue.drainTo((value) => out.push(value));
        const oldestFirst = [...model.items].sort((a, b) => a.order - b.order).map((w) => w.value);
        model.items.slice().forEach((w) => model.take(w));
        expect(out).toEqual(oldestFirst);
        break;
      }
    }
    expect(queue.length).toBe(model.items.length);
  }
}

describe('PriorityWaitQueue', () => {
  it('releases the highest rank first, the earliest arrival first within a rank', () => {
    const queue = new PriorityWaitQueue<string>(false);
    for (const [value, rank] of [
      ['a', 1],
      ['b', 1],
      ['c', 2],
      ['d', 3],
    ] as const)
      queue.push(value, 0, 1, 0, rank);
    const out: string[] = [];
    while (queue.length > 0) out.push(queue.shift());
    expect(out).toEqual(['d', 'c', 'a', 'b']);
  });

  it('sheds the oldest of the lowest rank, and only below the rank asked', () => {
    const queue = new PriorityWaitQueue<string>(false);
    queue.push('a', 0, 1, 0, 1);
    queue.push('b', 1, 1, 0, 1);
    queue.push('c', 2, 1, 0, 2);
    expect(queue.removeRankedBelow(1)).toBe(false);
    expect(queue.removeRankedBelow(2)).toBe(true);
    expect(queue.takenValue).toBe('a');
    expect(queue.removeRankedBelow(2)).toBe(true);
    expect(queue.takenValue).toBe('b');
    expect(queue.removeRankedBelow(2)).toBe(false);
    expect(queue.length).toBe(1);
  });

  it('puts a value back ahead of everything of its rank', () => {
    const queue = new PriorityWaitQueue<string>(false);
    queue.push('a', 0, 1, 0, 1);
    queue.push('b', 1, 1, 0, 1);
    const first = queue.shift();
    queue.unshift(first, 0, 1, 0, 1);
    expect(queue.shift()).toBe('a');
    expect(queue.shift()).toBe('b');
  });

  it('keeps arrival order only with a ttl', () => {
    expect(() => new PriorityWaitQueue<string>(false).removeOldest()).toThrow(/only with a ttl/);
  });

  it('agrees with a list searched on every call, for any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => run(ops)),
      { numRuns: 300 },
    );
  });

  it('agrees with the list when sequence numbers run out and the values waiting are numbered again', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (ops, limit) =>
        run(ops, limit),
      ),
      { numRuns: 200 },
    );
  });

  it('agrees with the list across growth past the first arrays and back (thousands waiting)', () => {
    const ops: Op[] = [];
    let x = 7;
    const random = (m: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % m);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1500; i++) ops.push({ kind: 'push', rank: random(50), arrival: i });
      for (let i = 0; i < 500; i++) ops.push({ kind: 'removeRankedBelow', rank: random(50) });
      for (let i = 0; i < 500; i++) ops.push({ kind: i % 2 ? 'shift' : 'removeOldest' });
      for (let i = 0; i < 600; i++) ops.push({ kind: 'shift' });
    }
    run(ops);
  });

  it('agrees with the list after compacting heaps whose dead nodes outnumber the live ones', () => {
    // Values that leave in release order are dead in the arrival order; once they outnumber the
    // living, the next push compacts that heap, which must then still answer in arrival order.
    const ops: Op[] = [];
    let x = 11;
    const random = (m: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % m);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 300; i++) ops.push({ kind: 'push', rank: random(1000), arrival: random(1000) });
      for (let i = 0; i < 250; i++) ops.push({ kind: 'shift' });
      for (let i = 0; i < 200; i++) ops.push({ kind: 'removeRankedBelow', rank: 1000 });
      for (let i = 0; i < 300; i++) ops.push({ kind: 'push', rank: random(1000), arrival: random(1000) });
      for (let i = 0; i < 250; i++) ops.push({ kind: 'removeOldest' });
    }
    run(ops);
  });

  it('refuses a value past its most slots before changing anything, then goes on', () => {
    const queue = new PriorityWaitQueue<string>(false, undefined, 32);
    for (let i = 0; i < 32; i++) queue.push(`v${String(i)}`, i, 1, 0, i);
    expect(() => {
      queue.push('too many', 32, 1, 0, 100);
    }).toThrow(new RangeError('bufferPriority: more than 32 values cannot wait at once'));
    expect(queue.length).toBe(32);
    expect(queue.shift()).toBe('v31');
    queue.push('fits', 33, 1, 0, 100);
    expect(queue.shift()).toBe('fits');
  });

  it('lets go of every value it gave back, and of large arrays once empty', () => {
    const queue = new PriorityWaitQueue<object>(true);
    for (let i = 0; i < 5000; i++) queue.push({ i }, i, 1, i, i % 7);
    queue.removeRankedBelow(3);
    while (queue.length > 0) queue.shift();
    const inside = queue as unknown as { values: unknown[]; size: number };
    expect(inside.values.every((v) => v === undefined)).toBe(true);
    expect(inside.size).toBeLessThanOrEqual(1024);
  });
});
