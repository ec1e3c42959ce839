const MIN_SIZE = 16;
/** Backing arrays above this size are given back when the queue empties. */
const SHRINK_ABOVE = 1024;

/**
 * A FIFO queue on a growable ring buffer: O(1) `push`, `shift` (oldest), `pop` (newest) and amortised
 * O(1) growth. Slots are cleared as values leave, so the queue never keeps a reference to a value it
 * has released, and a large backing array is dropped once the queue empties.
 */
export class RingQueue<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(MIN_SIZE);
  private mask = MIN_SIZE - 1;
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** The oldest value, without removing it. Only meaningful when `length > 0`. */
  peek(): T {
    return this.items[this.head] as T;
  }

  push(value: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) & this.mask] = value;
    this.size++;
  }

  /** Puts a value before the oldest one (it becomes the next `shift`). */
  unshift(value: T): void {
    if (this.size === this.items.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = value;
    this.size++;
  }

  /** Removes and returns the oldest value. Only call when `length > 0`. */
  shift(): T {
    const { items, head } = this;
    const value = items[head] as T;
    items[head] = undefined;
    this.head = (head + 1) & this.mask;
    if (--this.size === 0) this.reset();
    return value;
  }

  /** Removes and returns the newest value. Only call when `length > 0`. */
  pop(): T {
    const index = (this.head + this.size - 1) & this.mask;
    const value = this.items[index] as T;
    this.items[index] = undefined;
    if (--this.size === 0) this.reset();
    return value;
  }

  /** Removes every value, oldest first, handing each to `each`. */
  drainTo(each: (value: T) => void): void {
    while (this.size > 0) each(this.shift());
  }

  private reset(): void {
    this.head = 0;
    if (this.items.length > SHRINK_ABOVE) {
      this.items = new Array<T | undefined>(MIN_SIZE);
      this.mask = MIN_SIZE - 1;
    }
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.mask = next.length - 1;
    this.head = 0;
  }
}
