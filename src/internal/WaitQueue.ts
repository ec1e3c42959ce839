import { RingQueue } from './RingQueue.js';

/**
 * Where the engine keeps the values that wait, and in which order they leave: the pluggable part of
 * {@link GatedQueue}. Two orders exist: {@link FifoWaitQueue} (arrival order, every buffer and
 * bucket) and {@link PriorityWaitQueue} (highest rank first, `bufferPriority`).
 *
 * Each value comes with its source index, its cost (tokens, for the buckets; 1 elsewhere), its
 * arrival time (read only when a `ttl` is set; 0 otherwise) and its rank (priority; 0 unless ranked).
 * Methods that remove a value leave its index and cost in `takenIndex` and `takenCost`, so that no
 * object is made per value.
 */
export interface WaitQueue<T> {
  readonly length: number;
  /** Index of the value removed last. */
  readonly takenIndex: number;
  /** Cost of the value removed last. */
  readonly takenCost: number;
  /** Arrival time of the value removed last (0 unless arrivals are kept). */
  readonly takenArrival: number;
  /** Rank of the value removed last (0 unless ranked). */
  readonly takenRank: number;
  push(value: T, index: number, cost: number, arrival: number, rank: number): void;
  /** Cost of the value that leaves next. Only when `length > 0`. */
  headCost(): number;
  /** Arrival time of the value that leaves next. Only when `length > 0`. */
  headArrival(): number;
  /** Removes the value that leaves next. */
  shift(): T;
  /**
   * Puts back a value that was about to leave but may not yet (the gate changed its mind): it leaves
   * next again, ahead of everything of its rank.
   */
  unshift(value: T, index: number, cost: number, arrival: number, rank: number): void;
  /** The earliest arrival time among the waiting values. Only when `length > 0`. */
  oldestArrival(): number;
  /** Removes the value that arrived first. */
  removeOldest(): T;
  /** Removes the value that arrived last. */
  removeNewest(): T;
  /**
   * Removes the oldest of the lowest-ranked values if its rank is below `rank`; returns whether it
   * did (the value is then in `takenValue`).
   */
  removeRankedBelow(rank: number): boolean;
  /** The value `removeRankedBelow` or `removeFirstCostAbove` took. */
  readonly takenValue: T | undefined;
  /** Removes the first value, in leaving order, whose cost is above `limit`; returns whether one was. */
  removeFirstCostAbove(limit: number): boolean;
  /** Removes every value, oldest first, handing each to `each`. */
  drainTo(each: (value: T) => void): void;
}

/**
 * Arrival order, in parallel rings (values, indices, and only when needed costs and arrival times):
 * O(1) everywhere, no object per value.
 */
export class FifoWaitQueue<T> implements WaitQueue<T> {
  private readonly values = new RingQueue<T>();
  private readonly indices = new RingQueue<number>();
  private readonly costs: RingQueue<number> | undefined;
  private readonly arrivals: RingQueue<number> | undefined;
  takenIndex = 0;
  takenCost = 1;
  takenArrival = 0;
  readonly takenRank = 0;
  takenValue: T | undefined = undefined;

  /**
   * @param costed Keep each value's cost (otherwise every cost is 1).
   * @param timed Keep each value's arrival time (otherwise every arrival is 0).
   */
  constructor(costed: boolean, timed: boolean) {
    this.costs = costed ? new RingQueue<number>() : undefined;
    this.arrivals = timed ? new RingQueue<number>() : undefined;
  }

  get length(): number {
    return this.values.length;
  }

  push(value: T, index: number, cost: number, arrival: number): void {
    this.values.push(value);
    this.indices.push(index);
    this.costs?.push(cost);
    this.arrivals?.push(arrival);
  }

  headCost(): number {
    return this.costs ? this.costs.peek() : 1;
  }

  headArrival(): number {
    return this.arrivals ? this.arrivals.peek() : 0;
  }

  shift(): T {
    return this.removeOldest();
  }

  unshift(value: T, index: number, cost: number, arrival: number): void {
    this.values.unshift(value);
    this.indices.unshift(index);
    this.costs?.unshift(cost);
    this.arrivals?.unshift(arrival);
  }

  oldestArrival(): number {
    return this.headArrival();
  }

  removeOldest(): T {
    this.takenIndex = this.indices.shift();
    this.takenCost = this.costs ? this.costs.shift() : 1;
    this.takenArrival = this.arrivals ? this.arrivals.shift() : 0;
    return this.values.shift();
  }

  removeNewest(): T {
    this.takenIndex = this.indices.pop();
    this.takenCost = this.costs ? this.costs.pop() : 1;
    this.arrivals?.pop();
    return this.values.pop();
  }

  removeRankedBelow(): boolean {
    return false;
  }

  removeFirstCostAbove(limit: number): boolean {
    const { costs } = this;
    if (!costs) return 1 > limit && this.length > 0 && this.takeFirst();
    // Rare (a capacity lowered below a waiting value's cost): rebuild the rings without it.
    const n = this.length;
    let found = -1;
    for (let i = 0; i < n; i++) {
      const cost = costs.shift();
      costs.push(cost);
      if (found < 0 && cost > limit) found = i;
    }
    if (found < 0) return false;
    for (let i = 0; i < n; i++) {
      const value = this.values.shift();
      const index = this.indices.shift();
      const cost = costs.shift();
      const arrival = this.arrivals?.shift() ?? 0;
      if (i === found) {
        this.takenValue = value;
        this.takenIndex = index;
        this.takenCost = cost;
      } else {
        this.push(value, index, cost, arrival);
      }
    }
    return true;
  }

  drainTo(each: (value: T) => void): void {
    this.indices.drainTo(noop);
    this.costs?.drainTo(noop);
    this.arrivals?.drainTo(noop);
    this.values.drainTo(each);
  }

  private takeFirst(): true {
    this.takenValue = this.removeOldest();
    return true;
  }
}

function noop(): void {
  // the parallel rings have nothing to report
}
