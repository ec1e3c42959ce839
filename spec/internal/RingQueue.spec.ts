import fc from 'fast-check';
import { RingQueue } from '../../src/internal/RingQueue';

/** The backing array, to check that the queue lets go of what it released. */
function slots<T>(queue: RingQueue<T>): readonly (T | undefined)[] {
  return (queue as unknown as { items: (T | undefined)[] }).items;
}

function contents<T>(queue: RingQueue<T>): T[] {
  const out: T[] = [];
  queue.drainTo((value) => out.push(value));
  return out;
}

describe('RingQueue', () => {
  it('starts empty', () => {
    const queue = new RingQueue<number>();
    expect(queue.length).toBe(0);
    expect(contents(queue)).toEqual([]);
  });

  it('is first in, first out; peek shows the oldest value', () => {
    const queue = new RingQueue<string>();
    queue.push('a');
    queue.push('b');
    queue.push('c');
    expect(queue.length).toBe(3);
    expect(queue.peek()).toBe('a');
    expect(queue.shift()).toBe('a');
    expect(queue.peek()).toBe('b');
    expect(queue.shift()).toBe('b');
    expect(queue.shift()).toBe('c');
    expect(queue.length).toBe(0);
  });

  it('pop removes the newest value', () => {
    const queue = new RingQueue<string>();
    queue.push('a');
    queue.push('b');
    queue.push('c');
    expect(queue.pop()).toBe('c');
    expect(queue.length).toBe(2);
    queue.push('d');
    expect(contents(queue)).toEqual(['a', 'b', 'd']);
  });

  it('keeps the order when it grows while wrapped around the end of its array', () => {
    const queue = new RingQueue<number>();
    for (let i = 0; i < 12; i++) queue.push(i);
    for (let i = 0; i < 10; i++) expect(queue.shift()).toBe(i);
    // head is now near the end of the 16-slot array; the next pushes wrap, then force growth
    for (let i = 12; i < 60; i++) queue.push(i);
    expect(queue.pop()).toBe(59);
    expect(contents(queue)).toEqual(Array.from({ length: 49 }, (_, i) => i + 10));
  });

  it('drainTo hands every value over, oldest first, and leaves the queue empty', () => {
    const queue = new RingQueue<number>();
    for (let i = 0; i < 40; i++) queue.push(i);
    const seen: number[] = [];
    queue.drainTo((value) => seen.push(value));
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(queue.length).toBe(0);
  });

  it('keeps no reference to a value once it has left, by shift, pop or drainTo', () => {
    const queue = new RingQueue<object>();
    const values = Array.from({ length: 20 }, (_, i) => ({ i }));
    for (const value of values) queue.push(value);
    const first = queue.shift();
    const last = queue.pop();
    expect(slots(queue)).not.toContain(first);
    expect(slots(queue)).not.toContain(last);
    queue.drainTo(() => undefined);
    expect(slots(queue).filter((slot) => slot !== undefined)).toEqual([]);
  });

  it('gives back a large backing array once it empties', () => {
    const queue = new RingQueue<number>();
    for (let i = 0; i < 5000; i++) queue.push(i);
    expect(slots(queue).length).toBeGreaterThanOrEqual(5000);
    while (queue.length > 0) queue.shift();
    expect(slots(queue).length).toBeLessThanOrEqual(16);
    queue.push(1);
    expect(contents(queue)).toEqual([1]);
  });

  it('behaves as an array under any sequence of push, shift and pop', () => {
    type Op = { kind: 'push'; value: number } | { kind: 'shift' } | { kind: 'pop' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.integer().map((value) => ({ kind: 'push' as const, value })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'shift' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'pop' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const queue = new RingQueue<number>();
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            queue.push(o.value);
            model.push(o.value);
          } else if (model.length > 0) {
            const expected = o.kind === 'shift' ? model.splice(0, 1)[0] : model.pop();
            expect(o.kind === 'shift' ? queue.shift() : queue.pop()).toBe(expected);
          }
          expect(queue.length).toBe(model.length);
          if (model.length > 0) expect(queue.peek()).toBe(model[0]);
          expect(slots(queue).filter((slot) => slot !== undefined)).toHaveLength(model.length);
        }
        expect(contents(queue)).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });
});
