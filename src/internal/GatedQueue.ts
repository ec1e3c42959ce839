import type { Observable, Subscriber } from 'rxjs';
import { BufferOverflowError } from '../errors.js';
import type { DropReason, OnDrop, OverflowStrategy } from '../types.js';
import { OperatorSubscriber } from './OperatorSubscriber.js';
import { RingQueue } from './RingQueue.js';
import { reportUnhandledError } from './reportUnhandledError.js';

/**
 * What opens and closes the queue. Each operator supplies one:
 * - the bounded buffers: a free concurrency slot;
 * - the token and leaky buckets: enough accrued tokens;
 * - pull feedback: outstanding demand.
 */
export interface Gate<T> {
  /**
   * Tokens (or other units) the value needs; called once per value on arrival, before anything else.
   * A throw reports the value as `'rejected'` and errors the stream. Optional: defaults to 1.
   */
  cost?(value: T): number;
  /** Whether a value of this cost may be released now. A throw errors the stream. */
  canRelease(cost: number): boolean;
  /**
   * Takes what a value of this cost needs from the gate (a slot, tokens, demand), without any effect
   * user code can see. Called right after a successful `canRelease`, before `release`; for a value
   * fed back synchronously from inside a release, at its arrival, with the release itself deferred
   * until the running release returns. So the gate's accounting is exact and nothing is released
   * re-entrantly.
   */
  admit(cost: number): void;
  /** Hands the value on (starts its work, or emits it); `admit` was called for it. A throw errors the stream. */
  release(value: T, index: number, cost: number): void;
  /** True while released work is still running; completion waits for it. Optional: never busy. */
  busy?(): boolean;
  /** The drain stopped with `cost` at the head of the queue: arrange for `drain()` to run later. */
  blocked?(cost: number): void;
  /** Nothing waits any more: cancel whatever `blocked` arranged. */
  idle?(): void;
}

interface Admitted<T> {
  value: T;
  index: number;
  cost: number;
}

export interface GatedQueueSettings<T> {
  /** Operator name, for error messages. */
  operator: string;
  /** Values allowed to wait (not counting released ones). */
  capacity: number;
  overflow: OverflowStrategy;
  onDrop: OnDrop<T> | undefined;
  /** Hold a source error until the queue is worked off and the gate is not busy. */
  delayError?: boolean;
  /** The reason given to `onDrop` for values the overflow strategy discards. Default `'overflow'`. */
  dropReason?: DropReason;
  /** The error sent under `overflow: 'error'`. Default: a {@link BufferOverflowError}. */
  overflowError?: (value: T, cost: number) => Error;
}

/**
 * The engine behind every operator in the library: a bounded FIFO queue that applies the overflow
 * strategies, drained in one trampolined loop whenever the gate opens.
 *
 * One instance lives per subscription. The operator feeds it the source's notifications (`push`,
 * `complete`, `error`) and calls `drain()` when its gate may have opened. The engine guarantees:
 * - values are released in arrival order, never more than one loop on the stack (re-entrant calls to
 *   `drain()` from inside a release just let the running loop continue);
 * - every value is released exactly once or reported to `onDrop` exactly once: `'overflow'` (or the
 *   configured reason) when discarded, `'cleared'` when still waiting at error or unsubscribe;
 * - on failure, queued values are reported before the error is sent downstream;
 * - the output completes once the source has completed, nothing waits and the gate is not busy.
 */
export class GatedQueue<T> {
  /**
   * Waiting values, with their source indices and costs in parallel rings (no object per value).
   * Costs are kept only when the gate has a `cost` function; otherwise every cost is 1.
   */
  private readonly queue = new RingQueue<T>();
  private readonly indices = new RingQueue<number>();
  private readonly costs: RingQueue<number> | undefined;
  /**
   * Values fed back synchronously from inside a release while the gate was open: already admitted
   * (they hold their slot, tokens or demand, and take no place in the queue), released in order as
   * soon as the running release returns.
   */
  private readonly admitted = new RingQueue<Admitted<T>>();
  /** The subscription to the source, once `subscribeTo` has been called. */
  private source: OperatorSubscriber<T> | undefined;
  private readonly dropReason: DropReason;
  private nextIndex = 0;
  private draining = false;
  private sourceDone = false;
  private hasPendingError = false;
  private pendingError: unknown = undefined;
  /** Set once the output has terminated or been unsubscribed; after that nothing is released. */
  private closed = false;

  constructor(
    private readonly destination: Subscriber<unknown>,
    private readonly settings: GatedQueueSettings<T>,
    private readonly gate: Gate<T>,
  ) {
    this.dropReason = settings.dropReason ?? 'overflow';
    this.costs = gate.cost ? new RingQueue<number>() : undefined;
    destination.add(() => {
      this.closed = true;
      // Stop listening before reporting: a value the source sends from inside onDrop(..., 'cleared')
      // must not reach a queue that can neither release nor report it (as in `fail`).
      this.source?.unsubscribe();
      this.clear();
    });
  }

  /** Values waiting. */
  get length(): number {
    return this.queue.length;
  }

  /** True once the output has terminated or been unsubscribed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Read through a call so that flow analysis does not assume a release cannot close the queue. */
  private isStopped(): boolean {
    return this.closed;
  }

  /** Feeds the source's notifications to `push`, `error` and `complete`. */
  subscribeTo(source: Observable<T>): void {
    this.source = new OperatorSubscriber<T>(this.destination, {
      next: (value) => {
        this.push(value);
      },
      error: (err) => {
        this.error(err);
      },
      complete: () => {
        this.complete();
      },
    });
    source.subscribe(this.source);
  }

  /** A value from the source. */
  push(value: T): void {
    if (this.closed) return;
    const index = this.nextIndex++;
    const { gate, queue } = this;
    let cost = 1;
    if (gate.cost) {
      try {
        cost = gate.cost(value);
      } catch (err) {
        this.reportThenFail(value, 'rejected', err);
        return;
      }
    }
    let ownsDrain = false;
    try {
      if (queue.length === 0 && gate.canRelease(cost)) {
        if (!this.draining) {
          // Fast path: nothing waits and the gate is open.
          this.draining = ownsDrain = true;
          gate.admit(cost);
          gate.release(value, index, cost);
          this.draining = ownsDrain = false;
          this.drain();
          return;
        }
        // Fed back synchronously from inside a release (user code pushing into the source) while the
        // gate is open: it passes now, as if nothing were running, without taking a place in the
        // queue. Its release waits for the running one to return, so nothing nests.
        gate.admit(cost);
        this.admitted.push({ value, index, cost });
        return;
      }
      this.offer(value, index, cost);
    } catch (err) {
      if (ownsDrain) this.draining = false;
      this.fail(err);
      return;
    }
    this.drain();
  }

  /** The source completed. */
  complete(): void {
    if (this.closed) return;
    this.sourceDone = true;
    this.drain();
  }

  /** The source errored. */
  error(err: unknown): void {
    if (this.closed) return;
    if (this.settings.delayError) {
      this.sourceDone = true;
      if (!this.hasPendingError) {
        this.hasPendingError = true;
        this.pendingError = err;
      }
      this.drain();
      return;
    }
    this.fail(err);
  }

  /** Releases waiting values while the gate lets them through; then completes if all is done. */
  drain(): void {
    if (this.draining || this.closed) return;
    const { queue, gate } = this;
    this.draining = true;
    try {
      const { admitted } = this;
      while (!this.isStopped()) {
        if (admitted.length > 0) {
          const next = admitted.shift();
          gate.release(next.value, next.index, next.cost);
        } else if (queue.length > 0 && gate.canRelease(this.headCost())) {
          const cost = this.costs ? this.costs.shift() : 1;
          const index = this.indices.shift();
          gate.admit(cost);
          gate.release(queue.shift(), index, cost);
        } else {
          break;
        }
      }
    } catch (err) {
      this.draining = false;
      this.fail(err);
      return;
    }
    this.draining = false;
    if (this.isStopped()) return;
    if (queue.length > 0) {
      gate.blocked?.(this.headCost());
      return;
    }
    gate.idle?.();
    if (this.isStopped()) return;
    if (this.sourceDone && !gate.busy?.()) {
      this.closed = true;
      if (this.hasPendingError) {
        const err = this.pendingError;
        this.pendingError = undefined;
        this.destination.error(err);
      } else {
        this.destination.complete();
      }
    }
  }

  /**
   * Ends the output early and completes it, as `take` does: the source is unsubscribed, waiting
   * values are reported `'cleared'`, then the output completes. For a gate that can never open again.
   */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.source?.unsubscribe();
    this.clear();
    this.destination.complete();
  }

  /**
   * Tears down with an error: queued values are reported `'cleared'` first, then the error is sent.
   * Safe to call more than once; only the first call does anything.
   */
  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    // Stop listening first: a value the source sends while the error is delivered (a Subject fed
    // from an error handler) must not reach a queue that can neither release nor report it.
    this.source?.unsubscribe();
    this.clear();
    this.destination.error(err);
  }

  /** Reports a value that is not released (`onDrop`); a throwing `onDrop` errors the stream. */
  report(value: T, reason: DropReason): void {
    const { onDrop } = this.settings;
    if (onDrop) onDrop(value, reason);
  }

  private reportThenFail(value: T, reason: DropReason, err: unknown): void {
    this.reportQuietly(value, reason);
    this.fail(err);
  }

  /** Reports a value when the stream is already failing: a throwing `onDrop` has nowhere to go. */
  private reportQuietly(value: T, reason: DropReason): void {
    try {
      this.report(value, reason);
    } catch (err) {
      reportUnhandledError(err);
    }
  }

  private headCost(): number {
    return this.costs ? this.costs.peek() : 1;
  }

  private enqueue(value: T, index: number, cost: number): void {
    this.queue.push(value);
    this.indices.push(index);
    this.costs?.push(cost);
  }

  /** Removes the oldest waiting value (with its index and cost) and returns it. */
  private dequeueOldest(): T {
    this.indices.shift();
    this.costs?.shift();
    return this.queue.shift();
  }

  /** Removes the most recently queued value (with its index and cost) and returns it. */
  private dequeueNewest(): T {
    this.indices.pop();
    this.costs?.pop();
    return this.queue.pop();
  }

  private offer(value: T, index: number, cost: number): void {
    const { queue, settings } = this;
    if (queue.length < settings.capacity) {
      this.enqueue(value, index, cost);
      return;
    }
    const reason = this.dropReason;
    if (queue.length === 0 && settings.overflow !== 'error') {
      // Capacity 0: there is nothing to evict, so the arriving value is the one that goes.
      this.report(value, reason);
      return;
    }
    switch (settings.overflow) {
      case 'drop-incoming':
        this.report(value, reason);
        return;
      case 'drop-oldest': {
        const evicted = this.dequeueOldest();
        this.enqueue(value, index, cost);
        this.report(evicted, reason);
        return;
      }
      case 'drop-newest-queued': {
        const evicted = this.dequeueNewest();
        this.enqueue(value, index, cost);
        this.report(evicted, reason);
        return;
      }
      case 'drop-queue': {
        // Take every evicted value out and queue the arrival before telling onDrop anything: onDrop may
        // push into the source, and such a value must meet the queue as it now is.
        const evicted: T[] = [];
        while (queue.length > 0) evicted.push(this.dequeueOldest());
        this.enqueue(value, index, cost);
        for (let i = 0; i < evicted.length; i++) {
          try {
            this.report(evicted[i] as T, reason);
          } catch (err) {
            // The stream fails with this error: the values not yet reported are reported 'cleared' with
            // the rest of the queue (they are older than what it holds, so they come first).
            for (let j = i + 1; j < evicted.length; j++) this.reportQuietly(evicted[j] as T, 'cleared');
            throw err;
          }
        }
        return;
      }
      case 'error': {
        this.report(value, reason);
        const make = settings.overflowError;
        this.fail(
          make ? make(value, cost) : new BufferOverflowError(settings.capacity, value, settings.operator),
        );
        return;
      }
    }
  }

  /** Reports every waiting value as `'cleared'`, oldest first (admitted ones first: they came first). */
  private clear(): void {
    this.admitted.drainTo((entry) => {
      this.reportQuietly(entry.value, 'cleared');
    });
    if (this.queue.length === 0) return;
    this.indices.drainTo(noop);
    this.costs?.drainTo(noop);
    this.queue.drainTo((value) => {
      this.reportQuietly(value, 'cleared');
    });
  }
}

function noop(): void {
  // nothing to report to
}
