import type { WaitQueue } from './WaitQueue.js';

interface Entry<T> {
  value: T;
  index: number;
  cost: number;
  rank: number;
  /** Arrival order: ties in rank go to the earlier arrival. */
  seq: number;
  arrival: number;
  /** Position in the release heap, or -1 once the value has left. */
  r: number;
  /** Position in the shed heap, or -1 once the value has left. */
  s: number;
  /** Position in the arrival heap (with a ttl), or -1. */
  a: number;
}

/**
 * A binary heap of entries that knows where each entry sits (in a field of the entry), so that an
 * entry can leave from the middle in O(log n). One subclass per order, each with its own field and
 * comparison written out, so that every call site sees one shape (this halved the heap's cost against
 * one class reading its field by name).
 */
abstract class IndexedHeap<T> {
  protected readonly items: Entry<T>[] = [];

  /** True when `a` must come out before `b`. */
  protected abstract before(a: Entry<T>, b: Entry<T>): boolean;
  protected abstract positionOf(entry: Entry<T>): number;
  protected abstract place(entry: Entry<T>, at: number): void;

  get length(): number {
    return this.items.length;
  }

  peek(): Entry<T> {
    return this.items[0] as Entry<T>;
  }

  push(entry: Entry<T>): void {
    this.items.push(entry);
    this.up(this.items.length - 1, entry);
  }

  remove(entry: Entry<T>): void {
    const at = this.positionOf(entry);
    this.place(entry, -1);
    const last = this.items.pop() as Entry<T>;
    if (last === entry) return;
    const parent = (at - 1) >> 1;
    if (at > 0 && this.before(last, this.items[parent] as Entry<T>)) this.up(at, last);
    else this.down(at, last);
  }

  private up(at: number, entry: Entry<T>): void {
    const { items } = this;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items[parentAt] as Entry<T>;
      if (!this.before(entry, parent)) break;
      items[at] = parent;
      this.place(parent, at);
      at = parentAt;
    }
    items[at] = entry;
    this.place(entry, at);
  }

  private down(at: number, entry: Entry<T>): void {
    const { items } = this;
    const n = items.length;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.before(items[right] as Entry<T>, items[child] as Entry<T>)) child = right;
      const next = items[child] as Entry<T>;
      if (!this.before(next, entry)) break;
      items[at] = next;
      this.place(next, at);
      at = child;
    }
    items[at] = entry;
    this.place(entry, at);
  }
}

/** Release order: highest rank first, then earliest arrival. */
class ReleaseHeap<T> extends IndexedHeap<T> {
  protected before(a: Entry<T>, b: Entry<T>): boolean {
    return a.rank > b.rank || (a.rank === b.rank && a.seq < b.seq);
  }
  protected positionOf(entry: Entry<T>): number {
    return entry.r;
  }
  protected place(entry: Entry<T>, at: number): void {
    entry.r = at;
  }
}

/** Shed order: lowest rank first, then earliest arrival. */
class ShedHeap<T> extends IndexedHeap<T> {
  protected before(a: Entry<T>, b: Entry<T>): boolean {
    return a.rank < b.rank || (a.rank === b.rank && a.seq < b.seq);
  }
  protected positionOf(entry: Entry<T>): number {
    return entry.s;
  }
  protected place(entry: Entry<T>, at: number): void {
    entry.s = at;
  }
}

/** Expiry order: earliest arrival first. */
class ArrivalHeap<T> extends IndexedHeap<T> {
  protected before(a: Entry<T>, b: Entry<T>): boolean {
    return a.arrival < b.arrival || (a.arrival === b.arrival && a.seq < b.seq);
  }
  protected positionOf(entry: Entry<T>): number {
    return entry.a;
  }
  protected place(entry: Entry<T>, at: number): void {
    entry.a = at;
  }
}

/**
 * Highest rank first, earliest arrival first among equal ranks; sheds the oldest of the lowest rank.
 * Indexed heaps over the same entries, one per order (release, shedding, and with a `ttl` arrival
 * for expiry): O(log n) per value, and any entry can leave from the middle.
 */
export class PriorityWaitQueue<T> implements WaitQueue<T> {
  private readonly releaseOrder = new ReleaseHeap<T>();
  private readonly shedOrder = new ShedHeap<T>();
  /** Earliest arrival first (kept only with a ttl, for expiry). */
  private readonly byArrival: IndexedHeap<T> | undefined;
  private seq = 0;
  takenIndex = 0;
  takenCost = 1;
  takenArrival = 0;
  takenRank = 0;
  /** Sequence numbers for values put back: below every other, so they lead their rank. */
  private frontSeq = -1;
  takenValue: T | undefined = undefined;

  /** @param timed Keep arrival order for expiry. */
  constructor(timed: boolean) {
    this.byArrival = timed ? new ArrivalHeap<T>() : undefined;
  }

  get length(): number {
    return this.releaseOrder.length;
  }

  push(value: T, index: number, cost: number, arrival: number, rank: number): void {
    const entry: Entry<T> = { value, index, cost, rank, seq: this.seq++, arrival, r: -1, s: -1, a: -1 };
    this.releaseOrder.push(entry);
    this.shedOrder.push(entry);
    this.byArrival?.push(entry);
  }

  unshift(value: T, index: number, cost: number, arrival: number, rank: number): void {
    const entry: Entry<T> = { value, index, cost, rank, seq: this.frontSeq--, arrival, r: -1, s: -1, a: -1 };
    this.releaseOrder.push(entry);
    this.shedOrder.push(entry);
    this.byArrival?.push(entry);
  }

  headCost(): number {
    return this.releaseOrder.peek().cost;
  }

  headArrival(): number {
    return this.releaseOrder.peek().arrival;
  }

  shift(): T {
    return this.take(this.releaseOrder.peek());
  }

  oldestArrival(): number {
    return this.oldest().arrival;
  }

  removeOldest(): T {
    return this.take(this.oldest());
  }

  removeNewest(): T {
    throw new Error('PriorityWaitQueue: removeNewest is not supported');
  }

  removeRankedBelow(rank: number): boolean {
    if (this.length === 0) return false;
    const lowest = this.shedOrder.peek();
    if (lowest.rank >= rank) return false;
    this.takenValue = this.take(lowest);
    return true;
  }

  removeFirstCostAbove(): boolean {
    return false;
  }

  drainTo(each: (value: T) => void): void {
    // Oldest first, as the FIFO queue reports them.
    const entries: Entry<T>[] = [];
    while (this.length > 0) {
      const entry = this.shedOrder.peek();
      this.remove(entry);
      entries.push(entry);
    }
    this.seq = 0;
    entries.sort((a, b) => a.seq - b.seq);
    for (const entry of entries) each(entry.value);
  }

  private oldest(): Entry<T> {
    if (!this.byArrival) throw new Error('PriorityWaitQueue: arrival order is kept only with a ttl');
    return this.byArrival.peek();
  }

  private take(entry: Entry<T>): T {
    this.remove(entry);
    this.takenIndex = entry.index;
    this.takenCost = entry.cost;
    this.takenArrival = entry.arrival;
    this.takenRank = entry.rank;
    return entry.value;
  }

  private remove(entry: Entry<T>): void {
    this.releaseOrder.remove(entry);
    this.shedOrder.remove(entry);
    this.byArrival?.remove(entry);
  }
}
