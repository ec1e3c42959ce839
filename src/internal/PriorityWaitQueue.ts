import type { WaitQueue } from './WaitQueue.js';

/** Slots made at first; the arrays double as needed. */
const MIN_SLOTS = 16;
/** Arrays above this many slots are given back when the queue empties. */
const SHRINK_ABOVE = 1024;

/**
 * A 4-ary min-heap of nodes (key `a`, then key `b`, and a slot number), the three numbers of a node
 * side by side in one typed array: a comparison reads adjacent memory, the four children of a node
 * are adjacent, and there are half the levels of a binary heap, which is what counts once the heap
 * outgrows the processor's cache.
 *
 * A node never leaves from the middle. `b` is the value's sequence number, and a node whose slot no
 * longer holds that number is dead: the queue discards dead nodes when they reach the top (see
 * `PriorityWaitQueue.top`) and compacts a heap whose dead nodes outnumber the live ones, so each
 * heap does O(log n) work per value and holds at most about twice the values waiting.
 */
class LazyHeap {
  length = 0;
  nodes: Float64Array;

  constructor(size: number) {
    this.nodes = new Float64Array(size * 3);
  }

  push(slot: number, a: number, b: number): void {
    if (3 * (this.length + 1) > this.nodes.length) {
      const grown = new Float64Array(this.nodes.length * 2);
      grown.set(this.nodes);
      this.nodes = grown;
    }
    this.up(this.length++, slot, a, b);
  }

  /** Removes the top node. Only when `length > 0`. */
  pop(): void {
    const last = --this.length;
    if (last === 0) return;
    const { nodes } = this;
    this.down(0, nodes[3 * last + 2] as number, nodes[3 * last] as number, nodes[3 * last + 1] as number);
  }

  /** Keeps only the nodes `live` accepts and restores heap order bottom-up, O(length). */
  compact(live: (slot: number, b: number) => boolean): void {
    const { nodes } = this;
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const slot = nodes[3 * i + 2] as number;
      const b = nodes[3 * i + 1] as number;
      if (!live(slot, b)) continue;
      nodes[3 * n] = nodes[3 * i] as number;
      nodes[3 * n + 1] = b;
      nodes[3 * n + 2] = slot;
      n++;
    }
    this.length = n;
    for (let i = (n - 2) >> 2; i >= 0; i--) {
      this.down(i, nodes[3 * i + 2] as number, nodes[3 * i] as number, nodes[3 * i + 1] as number);
    }
  }

  /** Gives back a backing array larger than `size` nodes. Only when `length` is 0. */
  shrink(size: number): void {
    if (this.nodes.length > size * 3) this.nodes = new Float64Array(size * 3);
  }

  private up(at: number, slot: number, ka: number, kb: number): void {
    const { nodes } = this;
    while (at > 0) {
      const parent = (at - 1) >> 2;
      const p = 3 * parent;
      const pa = nodes[p] as number;
      if (ka > pa || (ka === pa && kb >= (nodes[p + 1] as number))) break;
      const q = 3 * at;
      nodes[q] = pa;
      nodes[q + 1] = nodes[p + 1] as number;
      nodes[q + 2] = nodes[p + 2] as number;
      at = parent;
    }
    const q = 3 * at;
    nodes[q] = ka;
    nodes[q + 1] = kb;
    nodes[q + 2] = slot;
  }

  private down(at: number, slot: number, ka: number, kb: number): void {
    const { nodes, length } = this;
    for (;;) {
      const first = 4 * at + 1;
      if (first >= length) break;
      let child = first;
      let ca = nodes[3 * first] as number;
      const end = first + 4 < length ? first + 4 : length;
      for (let i = first + 1; i < end; i++) {
        const ia = nodes[3 * i] as number;
        if (ia < ca || (ia === ca && (nodes[3 * i + 1] as number) < (nodes[3 * child + 1] as number))) {
          child = i;
          ca = ia;
        }
      }
      const c = 3 * child;
      const cb = nodes[c + 1] as number;
      if (ca > ka || (ca === ka && cb >= kb)) break;
      const q = 3 * at;
      nodes[q] = ca;
      nodes[q + 1] = cb;
      nodes[q + 2] = nodes[c + 2] as number;
      at = child;
    }
    const q = 3 * at;
    nodes[q] = ka;
    nodes[q + 1] = kb;
    nodes[q + 2] = slot;
  }
}

/**
 * Highest rank first, earliest arrival first among equal ranks; sheds the oldest of the lowest rank.
 *
 * Each waiting value has a slot: its value, index, cost, arrival time, rank and sequence number sit
 * at that slot in parallel arrays (typed, except the values), so no object is made per value. Heaps
 * of slots give the orders, each O(log n) per value:
 * - release order (highest rank, then lowest sequence number), always;
 * - shed order (lowest rank, then lowest sequence number), built the first time a full queue sheds
 *   (O(n)) and kept until the queue empties: a queue that never fills keeps one heap, not two;
 * - arrival order, for expiry, only with a `ttl`.
 * A value that leaves by one order is dead in the others at once (its slot's sequence number is
 * cleared): nothing is searched for, nothing is moved.
 */
export class PriorityWaitQueue<T> implements WaitQueue<T> {
  private values: (T | undefined)[] = new Array<T | undefined>(MIN_SLOTS);
  private indices = new Float64Array(MIN_SLOTS);
  private costs = new Float64Array(MIN_SLOTS);
  private arrivals = new Float64Array(MIN_SLOTS);
  private ranks = new Float64Array(MIN_SLOTS);
  /** The sequence number of the value in each slot, NaN for a free slot: what tells live nodes. */
  private seqs = new Float64Array(MIN_SLOTS).fill(NaN);
  /** Slots given back, as a stack: `free[0 .. freeCount)`. */
  private free = new Int32Array(MIN_SLOTS);
  private freeCount = 0;
  /** Slots ever handed out since the queue was last empty: `0 .. used)`. */
  private used = 0;
  /** Slots the arrays have room for. */
  private size = MIN_SLOTS;
  /** Values waiting. */
  private count = 0;
  private readonly releaseOrder = new LazyHeap(MIN_SLOTS);
  private readonly shedOrder = new LazyHeap(MIN_SLOTS);
  /** Whether `shedOrder` is kept (from the first shed until the queue empties). */
  private shedding = false;
  /** Earliest arrival first (kept only with a ttl, for expiry). */
  private readonly byArrival: LazyHeap | undefined;
  private seq = 0;
  /** Sequence numbers for values put back: below every other, so they lead their rank. */
  private frontSeq = -1;
  private readonly isLive = (slot: number, b: number): boolean => this.seqs[slot] === b;
  takenIndex = 0;
  takenCost = 1;
  takenArrival = 0;
  takenRank = 0;
  takenValue: T | undefined = undefined;

  /** @param timed Keep arrival order for expiry. */
  constructor(timed: boolean) {
    this.byArrival = timed ? new LazyHeap(MIN_SLOTS) : undefined;
  }

  get length(): number {
    return this.count;
  }

  push(value: T, index: number, cost: number, arrival: number, rank: number): void {
    this.add(value, index, cost, arrival, rank, this.seq++);
  }

  unshift(value: T, index: number, cost: number, arrival: number, rank: number): void {
    this.add(value, index, cost, arrival, rank, this.frontSeq--);
  }

  headCost(): number {
    return this.costs[this.top(this.releaseOrder)] as number;
  }

  headArrival(): number {
    return this.arrivals[this.top(this.releaseOrder)] as number;
  }

  shift(): T {
    return this.take(this.top(this.releaseOrder));
  }

  oldestArrival(): number {
    return this.arrivals[this.top(this.arrivalOrder())] as number;
  }

  removeOldest(): T {
    return this.take(this.top(this.arrivalOrder()));
  }

  removeNewest(): T {
    throw new Error('PriorityWaitQueue: removeNewest is not supported');
  }

  removeRankedBelow(rank: number): boolean {
    if (this.count === 0) return false;
    if (!this.shedding) this.startShedding();
    const lowest = this.top(this.shedOrder);
    if ((this.ranks[lowest] as number) >= rank) return false;
    this.takenValue = this.take(lowest);
    return true;
  }

  removeFirstCostAbove(): boolean {
    return false;
  }

  drainTo(each: (value: T) => void): void {
    // Oldest first, as the FIFO queue reports them.
    const slots: number[] = [];
    for (let slot = 0; slot < this.used; slot++) if (!Number.isNaN(this.seqs[slot])) slots.push(slot);
    const { seqs } = this;
    slots.sort((x, y) => (seqs[x] as number) - (seqs[y] as number));
    const values = slots.map((slot) => this.values[slot] as T);
    for (const slot of slots) {
      this.values[slot] = undefined;
      this.seqs[slot] = NaN;
    }
    this.emptied();
    for (const value of values) each(value);
  }

  /** The live slot at the top of `heap`, discarding dead nodes above it. */
  private top(heap: LazyHeap): number {
    const { nodes } = heap;
    for (;;) {
      const slot = nodes[2] as number;
      if (this.seqs[slot] === nodes[1]) return slot;
      heap.pop();
    }
  }

  private add(value: T, index: number, cost: number, arrival: number, rank: number, seq: number): void {
    const slot = this.freeCount > 0 ? (this.free[--this.freeCount] as number) : this.newSlot();
    this.count++;
    this.values[slot] = value;
    this.indices[slot] = index;
    this.costs[slot] = cost;
    this.arrivals[slot] = arrival;
    this.ranks[slot] = rank;
    this.seqs[slot] = seq;
    this.pushTo(this.releaseOrder, slot, -rank, seq);
    if (this.shedding) this.pushTo(this.shedOrder, slot, rank, seq);
    if (this.byArrival) this.pushTo(this.byArrival, slot, arrival, seq);
  }

  /** Pushes a node, first compacting the heap if its dead nodes outnumber the live ones. */
  private pushTo(heap: LazyHeap, slot: number, a: number, b: number): void {
    if (heap.length >= 2 * this.count + 16) heap.compact(this.isLive);
    heap.push(slot, a, b);
  }

  private newSlot(): number {
    if (this.used === this.size) this.grow();
    return this.used++;
  }

  /** Builds the shed order from every waiting value, the first time a full queue sheds. */
  private startShedding(): void {
    this.shedding = true;
    for (let slot = 0; slot < this.used; slot++) {
      const seq = this.seqs[slot] as number;
      if (!Number.isNaN(seq)) this.shedOrder.push(slot, this.ranks[slot] as number, seq);
    }
  }

  private arrivalOrder(): LazyHeap {
    if (!this.byArrival) throw new Error('PriorityWaitQueue: arrival order is kept only with a ttl');
    return this.byArrival;
  }

  private take(slot: number): T {
    const value = this.values[slot] as T;
    this.values[slot] = undefined;
    this.seqs[slot] = NaN;
    this.takenIndex = this.indices[slot] as number;
    this.takenCost = this.costs[slot] as number;
    this.takenArrival = this.arrivals[slot] as number;
    this.takenRank = this.ranks[slot] as number;
    if (--this.count === 0) this.emptied();
    else this.free[this.freeCount++] = slot;
    return value;
  }

  /** Nothing waits: every heap and slot is free again, large arrays are given back, shedding stops. */
  private emptied(): void {
    this.count = 0;
    this.freeCount = 0;
    this.used = 0;
    this.seq = 0;
    this.frontSeq = -1;
    this.shedding = false;
    this.releaseOrder.length = 0;
    this.shedOrder.length = 0;
    if (this.byArrival) this.byArrival.length = 0;
    if (this.size > SHRINK_ABOVE) {
      this.size = MIN_SLOTS;
      this.values = new Array<T | undefined>(MIN_SLOTS);
      this.indices = new Float64Array(MIN_SLOTS);
      this.costs = new Float64Array(MIN_SLOTS);
      this.arrivals = new Float64Array(MIN_SLOTS);
      this.ranks = new Float64Array(MIN_SLOTS);
      this.seqs = new Float64Array(MIN_SLOTS).fill(NaN);
      this.free = new Int32Array(MIN_SLOTS);
      this.releaseOrder.shrink(MIN_SLOTS);
      this.shedOrder.shrink(MIN_SLOTS);
      this.byArrival?.shrink(MIN_SLOTS);
    }
  }

  private grow(): void {
    const size = this.size * 2;
    const values = new Array<T | undefined>(size);
    for (let i = 0; i < this.used; i++) values[i] = this.values[i];
    this.values = values;
    this.indices = grown(this.indices, size);
    this.costs = grown(this.costs, size);
    this.arrivals = grown(this.arrivals, size);
    this.ranks = grown(this.ranks, size);
    const seqs = new Float64Array(size).fill(NaN);
    seqs.set(this.seqs);
    this.seqs = seqs;
    const free = new Int32Array(size);
    free.set(this.free);
    this.free = free;
    this.size = size;
  }
}

function grown(from: Float64Array, size: number): Float64Array<ArrayBuffer> {
  const to = new Float64Array(size);
  to.set(from);
  return to;
}
