import type { WaitQueue } from './WaitQueue.js';

/** Slots made at first; the arrays double as needed. */
const MIN_SLOTS = 16;
/** Arrays above this many slots are given back when the queue empties. */
const SHRINK_ABOVE = 1024;
/** Numbers per slot, and where each sits (the tag at 0). */
const FIELDS = 5;
const RANK = 1;
const INDEX = 2;
const COST = 3;
const ARRIVAL = 4;
/** Tags reserve this many slot numbers (2^26): at most this many values wait at once. */
const SLOT_SPAN = 2 ** 26;
/** Sequence numbers stay within ±2^26, so that `sequence * SLOT_SPAN + slot` is an exact integer. */
const SEQ_LIMIT = 2 ** 26;

/**
 * A 4-ary min-heap of nodes, each two numbers side by side in one typed array: a key `a`, and a tag
 * that breaks ties and names the slot (`tag = sequence * SLOT_SPAN + slot`, so that ordering by tag
 * is ordering by sequence number). A comparison reads adjacent memory, the four children of a node
 * are 64 adjacent bytes, and there are half the levels of a binary heap: what counts once the
 * heap outgrows the processor's cache.
 *
 * A node never leaves from the middle: a node whose slot no longer holds its tag is dead. The queue
 * discards dead nodes when they reach the top (see `PriorityWaitQueue.top`) and compacts a heap whose
 * dead nodes outnumber the live ones, so each heap does O(log n) work per value and holds at most
 * about twice the values waiting.
 */
class LazyHeap {
  length = 0;
  /** Node i: its key at 2i, its tag at 2i + 1. */
  nodes: Float64Array;

  constructor(size: number) {
    this.nodes = new Float64Array(size * 2);
  }

  push(a: number, tag: number): void {
    if (2 * (this.length + 1) > this.nodes.length) {
      const grown = new Float64Array(this.nodes.length * 2);
      grown.set(this.nodes);
      this.nodes = grown;
    }
    this.up(this.length++, a, tag);
  }

  /** Removes the top node. Only when `length > 0`. */
  pop(): void {
    const last = --this.length;
    if (last > 0) this.down(0, this.nodes[2 * last] as number, this.nodes[2 * last + 1] as number);
  }

  /** Keeps only the nodes whose tag `live` accepts and restores heap order bottom-up, O(length). */
  compact(live: (tag: number) => boolean): void {
    const { nodes } = this;
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const tag = nodes[2 * i + 1] as number;
      if (!live(tag)) continue;
      nodes[2 * n] = nodes[2 * i] as number;
      nodes[2 * n + 1] = tag;
      n++;
    }
    this.length = n;
    for (let i = (n - 2) >> 2; i >= 0; i--) this.down(i, nodes[2 * i] as number, nodes[2 * i + 1] as number);
  }

  /** Gives back a backing array larger than `size` nodes. Only when `length` is 0. */
  shrink(size: number): void {
    if (this.nodes.length > size * 2) this.nodes = new Float64Array(size * 2);
  }

  private up(at: number, ka: number, kt: number): void {
    const { nodes } = this;
    while (at > 0) {
      const parent = (at - 1) >> 2;
      const pa = nodes[2 * parent] as number;
      const pt = nodes[2 * parent + 1] as number;
      if (ka > pa || (ka === pa && kt > pt)) break;
      nodes[2 * at] = pa;
      nodes[2 * at + 1] = pt;
      at = parent;
    }
    nodes[2 * at] = ka;
    nodes[2 * at + 1] = kt;
  }

  private down(at: number, ka: number, kt: number): void {
    const { nodes, length } = this;
    for (;;) {
      const first = 4 * at + 1;
      if (first >= length) break;
      // The smallest of up to four children.
      let child = first;
      let ca = nodes[2 * first] as number;
      let ct = nodes[2 * first + 1] as number;
      const end = first + 4 < length ? first + 4 : length;
      for (let i = first + 1; i < end; i++) {
        const ia = nodes[2 * i] as number;
        if (ia < ca || (ia === ca && (nodes[2 * i + 1] as number) < ct)) {
          child = i;
          ca = ia;
          ct = nodes[2 * i + 1] as number;
        }
      }
      if (ca > ka || (ca === ka && ct > kt)) break;
      nodes[2 * at] = ca;
      nodes[2 * at + 1] = ct;
      at = child;
    }
    nodes[2 * at] = ka;
    nodes[2 * at + 1] = kt;
  }
}

/**
 * Highest rank first, earliest arrival first among equal ranks; sheds the oldest of the lowest rank.
 *
 * Each waiting value has a slot: its value in one array, and its tag, rank, index, cost and arrival
 * time side by side in one typed array, so no object is made per value. Heaps of tags give
 * the orders, each O(log n) per value:
 * - release order (highest rank, then lowest sequence number), always;
 * - shed order (lowest rank, then lowest sequence number), built the first time a full queue sheds
 *   (O(n)) and kept until the queue empties: a queue that never fills keeps one heap, not two;
 * - arrival order, for expiry, only with a `ttl`.
 * A value that leaves by one order is dead in the others at once (its slot's tag is cleared):
 * nothing is searched for, nothing is moved.
 */
export class PriorityWaitQueue<T> implements WaitQueue<T> {
  private values: (T | undefined)[] = new Array<T | undefined>(MIN_SLOTS);
  /**
   * The numbers of each slot side by side (`FIELDS` per slot: tag, rank, index, cost, arrival), so
   * that a value's numbers share a cache line. The tag is NaN for a free slot: what tells live nodes
   * from dead ones.
   */
  private data = freshData(MIN_SLOTS);
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
  /** Kept while `shedding` (from the first shed until the queue empties). */
  private readonly shedOrder = new LazyHeap(MIN_SLOTS);
  private shedding = false;
  /** Earliest arrival first (kept only with a ttl, for expiry). */
  private readonly byArrival: LazyHeap | undefined;
  private seq = 0;
  /** Sequence numbers for values put back: below every other, so they lead their rank. */
  private frontSeq = -1;
  private readonly isLive = (tag: number): boolean => this.data[slotOf(tag) * FIELDS] === tag;
  takenIndex = 0;
  takenCost = 1;
  takenArrival = 0;
  takenRank = 0;
  takenValue: T | undefined = undefined;

  /**
   * @param timed Keep arrival order for expiry.
   * @param seqLimit Sequence numbers stay within ±this; when one would reach it, the values waiting
   *   are numbered again from 0 (tests lower it to reach that case).
   * @param maxSlots The most values that may wait at once, at most 2^26 (tests lower it).
   */
  constructor(
    timed: boolean,
    private readonly seqLimit = SEQ_LIMIT,
    private readonly maxSlots = SLOT_SPAN,
  ) {
    this.byArrival = timed ? new LazyHeap(MIN_SLOTS) : undefined;
  }

  get length(): number {
    return this.count;
  }

  push(value: T, index: number, cost: number, arrival: number, rank: number): void {
    if (this.seq >= this.seqLimit) this.renumber();
    this.add(value, index, cost, arrival, rank, this.seq++);
  }

  unshift(value: T, index: number, cost: number, arrival: number, rank: number): void {
    if (this.frontSeq <= -this.seqLimit) this.renumber();
    this.add(value, index, cost, arrival, rank, this.frontSeq--);
  }

  headCost(): number {
    return this.data[this.top(this.releaseOrder) * FIELDS + COST] as number;
  }

  headArrival(): number {
    return this.data[this.top(this.releaseOrder) * FIELDS + ARRIVAL] as number;
  }

  shift(): T {
    return this.take(this.top(this.releaseOrder));
  }

  oldestArrival(): number {
    return this.data[this.top(this.arrivalOrder()) * FIELDS + ARRIVAL] as number;
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
    if ((this.data[lowest * FIELDS + RANK] as number) >= rank) return false;
    this.takenValue = this.take(lowest);
    return true;
  }

  removeFirstCostAbove(): boolean {
    return false;
  }

  drainTo(each: (value: T) => void): void {
    // Oldest first, as the FIFO queue reports them.
    const slots = this.waitingSlots();
    const values = slots.map((slot) => this.values[slot] as T);
    for (const slot of slots) {
      this.values[slot] = undefined;
      this.data[slot * FIELDS] = NaN;
    }
    this.emptied();
    for (const value of values) each(value);
  }

  /** The slot of the live node at the top of `heap`, discarding dead nodes above it. */
  private top(heap: LazyHeap): number {
    const { nodes } = heap;
    for (;;) {
      const tag = nodes[1] as number;
      const slot = slotOf(tag);
      if (this.data[slot * FIELDS] === tag) return slot;
      heap.pop();
    }
  }

  private add(value: T, index: number, cost: number, arrival: number, rank: number, seq: number): void {
    const slot = this.freeCount > 0 ? (this.free[--this.freeCount] as number) : this.newSlot();
    const tag = seq * SLOT_SPAN + slot;
    this.count++;
    this.values[slot] = value;
    const { data } = this;
    const at = slot * FIELDS;
    data[at] = tag;
    data[at + RANK] = rank;
    data[at + INDEX] = index;
    data[at + COST] = cost;
    data[at + ARRIVAL] = arrival;
    this.pushTo(this.releaseOrder, -rank, tag);
    if (this.shedding) this.pushTo(this.shedOrder, rank, tag);
    if (this.byArrival) this.pushTo(this.byArrival, arrival, tag);
  }

  /** Pushes a node, first compacting the heap if its dead nodes outnumber the live ones. */
  private pushTo(heap: LazyHeap, a: number, tag: number): void {
    if (heap.length >= 2 * this.count + 16) heap.compact(this.isLive);
    heap.push(a, tag);
  }

  private newSlot(): number {
    if (this.used === this.size) this.grow();
    return this.used++;
  }

  /** The slots of the values waiting, oldest (lowest sequence number) first. */
  private waitingSlots(): number[] {
    const { data } = this;
    const slots: number[] = [];
    for (let slot = 0; slot < this.used; slot++) if (!Number.isNaN(data[slot * FIELDS])) slots.push(slot);
    return slots.sort((x, y) => (data[x * FIELDS] as number) - (data[y * FIELDS] as number));
  }

  /** Builds the shed order from every waiting value, the first time a full queue sheds. */
  private startShedding(): void {
    this.shedding = true;
    const { data } = this;
    for (let slot = 0; slot < this.used; slot++) {
      const tag = data[slot * FIELDS] as number;
      if (!Number.isNaN(tag)) this.shedOrder.push(data[slot * FIELDS + RANK] as number, tag);
    }
  }

  /**
   * Numbers the values waiting again from 0, in their order, and rebuilds the heaps: so that tags
   * stay exact integers however long the queue goes without emptying (once per `seqLimit` values).
   */
  private renumber(): void {
    const slots = this.waitingSlots();
    const { data } = this;
    this.releaseOrder.length = 0;
    this.shedOrder.length = 0;
    if (this.byArrival) this.byArrival.length = 0;
    this.frontSeq = -1;
    this.seq = 0;
    for (const slot of slots) {
      const tag = this.seq++ * SLOT_SPAN + slot;
      const at = slot * FIELDS;
      data[at] = tag;
      const rank = data[at + RANK] as number;
      this.releaseOrder.push(-rank, tag);
      if (this.shedding) this.shedOrder.push(rank, tag);
      this.byArrival?.push(data[at + ARRIVAL] as number, tag);
    }
  }

  private arrivalOrder(): LazyHeap {
    if (!this.byArrival) throw new Error('PriorityWaitQueue: arrival order is kept only with a ttl');
    return this.byArrival;
  }

  private take(slot: number): T {
    const value = this.values[slot] as T;
    this.values[slot] = undefined;
    const { data } = this;
    const at = slot * FIELDS;
    data[at] = NaN;
    this.takenRank = data[at + RANK] as number;
    this.takenIndex = data[at + INDEX] as number;
    this.takenCost = data[at + COST] as number;
    this.takenArrival = data[at + ARRIVAL] as number;
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
      this.data = freshData(MIN_SLOTS);
      this.free = new Int32Array(MIN_SLOTS);
      this.releaseOrder.shrink(MIN_SLOTS);
      this.shedOrder.shrink(MIN_SLOTS);
      this.byArrival?.shrink(MIN_SLOTS);
    }
  }

  private grow(): void {
    const size = this.size * 2;
    if (size > this.maxSlots) {
      // Thrown before anything changes: the engine reports the value that did not fit and fails.
      throw new RangeError(`bufferPriority: more than ${String(this.maxSlots)} values cannot wait at once`);
    }
    const values = new Array<T | undefined>(size);
    for (let i = 0; i < this.used; i++) values[i] = this.values[i];
    this.values = values;
    const data = freshData(size);
    data.set(this.data);
    this.data = data;
    const free = new Int32Array(size);
    free.set(this.free);
    this.free = free;
    this.size = size;
  }
}

/** The slot a tag names (`tag` may be negative: values put back have negative sequence numbers). */
function slotOf(tag: number): number {
  return tag - Math.floor(tag / SLOT_SPAN) * SLOT_SPAN;
}

/** Room for `size` slots, every one free. */
function freshData(size: number): Float64Array<ArrayBuffer> {
  const data = new Float64Array(size * FIELDS);
  for (let at = 0; at < data.length; at += FIELDS) data[at] = NaN;
  return data;
}
