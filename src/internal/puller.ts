import { isAsyncIterable, isIterable, isThenable } from './is.js';
import { reportUnhandledError } from './reportUnhandledError.js';
import { describe } from './validate.js';

/** What `pullFrom` and `pullMap` accept as input. Node Readable streams are async iterables. */
export type PullInput<T> = Iterable<T> | AsyncIterable<T>;

export interface PullHandlers<T> {
  next: (value: T) => void;
  complete: () => void;
  error: (err: unknown) => void;
}

/** Checks at creation that `input` can be pulled from. */
export function checkPullInput(operator: string, input: unknown): void {
  if (!isAsyncIterable(input) && !isIterable(input)) {
    throw new TypeError(
      `${operator}: \`input\` must be an Iterable or an AsyncIterable, got ${describe(input)}`,
    );
  }
}

/**
 * Pulls values from an iterator only on request: `request(n)` asks for `n` more (`Infinity` for all).
 *
 * - A sync iterator is pulled in one iterative loop (a request made from inside `next` lets the
 *   running loop continue instead of nesting), and stops as soon as it is cancelled.
 * - An async iterator never has more than one `next()` pending: nothing is read ahead.
 * - `cancel()` calls the iterator's `return()` exactly once, unless the iterator already finished
 *   (done, threw or rejected), so generators' `finally` blocks, file handles and cursors are released;
 *   an async input with `destroy()` (a Node.js stream) is destroyed too, since its iterator may not
 *   act on `return()` until a pending `next()` settles, or at all before the first one.
 *
 * Async iterables are preferred when an input is both (as RxJS's `from` does).
 */
export class Puller<T> {
  private readonly iterator: Iterator<T> | AsyncIterator<T>;
  private readonly async: boolean;
  private requested = 0;
  private pulling = false;
  private pending = false;
  private finished = false;

  constructor(
    private readonly input: PullInput<T>,
    private readonly handlers: PullHandlers<T>,
  ) {
    if (isAsyncIterable(input)) {
      this.async = true;
      this.iterator = input[Symbol.asyncIterator]();
    } else {
      this.async = false;
      this.iterator = input[Symbol.iterator]();
    }
  }

  request(n: number): void {
    if (this.finished) return;
    this.requested += n;
    if (this.async) this.pullAsync();
    else this.pullSync();
  }

  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    const { iterator } = this;
    if (typeof iterator.return === 'function') {
      try {
        const result = iterator.return() as unknown;
        if (this.async && isThenable(result)) result.then(undefined, reportUnhandledError);
      } catch (err) {
        reportUnhandledError(err);
      }
    }
    // An async iterator runs return() only after its pending next() settles, and one that was never
    // started may ignore it (Node.js stream iterators are lazy). A stream waiting for data that may
    // never come (an idle socket), or never read at all, would stay open with its file handle, so an
    // async input that can be destroyed is destroyed.
    if (this.async) {
      const destroy = (this.input as { destroy?: unknown }).destroy;
      if (typeof destroy === 'function') {
        try {
          (destroy as () => void).call(this.input);
        } catch (err) {
          reportUnhandledError(err);
        }
      }
    }
  }

  /**
   * Hands a value on. A handler that throws is the consumer failing, not the iterator: the iterator
   * is released (`cancel`) and the error goes to `handlers.error`. Returns false in that case.
   */
  private deliver(value: T): boolean {
    try {
      this.handlers.next(value);
      return true;
    } catch (err) {
      this.cancel();
      this.handlers.error(err);
      return false;
    }
  }

  private pullSync(): void {
    if (this.pulling) return;
    this.pulling = true;
    try {
      const iterator = this.iterator as Iterator<T>;
      while (this.requested > 0 && !this.finished) {
        let result: IteratorResult<T>;
        try {
          result = iterator.next();
        } catch (err) {
          this.finished = true;
          this.handlers.error(err);
          return;
        }
        if (result.done) {
          this.finished = true;
          this.handlers.complete();
          return;
        }
        if (this.requested !== Infinity) this.requested--;
        if (!this.deliver(result.value)) return;
      }
    } finally {
      this.pulling = false;
    }
  }

  private pullAsync(): void {
    if (this.pending || this.finished || this.requested <= 0) return;
    this.pending = true;
    let step: Promise<IteratorResult<T>>;
    try {
      step = Promise.resolve((this.iterator as AsyncIterator<T>).next());
    } catch (err) {
      this.pending = false;
      this.finished = true;
      this.handlers.error(err);
      return;
    }
    step.then(
      (result) => {
        this.pending = false;
        if (this.finished) return;
        if (result.done) {
          this.finished = true;
          this.handlers.complete();
          return;
        }
        if (this.requested !== Infinity) this.requested--;
        if (this.deliver(result.value)) this.pullAsync();
      },
      (err: unknown) => {
        this.pending = false;
        if (this.finished) return;
        this.finished = true;
        this.handlers.error(err);
      },
    );
  }
}
