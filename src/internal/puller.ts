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
  /** No more requests will come (the demand stream completed). */
  private requestsEnded = false;

  constructor(
    private readonly operator: string,
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

  /**
   * No more requests will come. What was requested is still pulled; once it is delivered (at once if
   * nothing is outstanding) the iterator is released (`cancel`) and `handlers.complete` is called, as
   * `take` does: nothing waits for demand that cannot come.
   */
  endRequests(): void {
    this.requestsEnded = true;
    this.completeIfSpent();
  }

  private completeIfSpent(): void {
    if (!this.requestsEnded || this.finished || this.pending || this.requested > 0) return;
    this.cancel();
    this.handlers.complete();
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
      callQuietly(this.input, 'destroy');
      // A readline Interface (`createInterface({ input: createReadStream(path) })`, the usual way to
      // read a file line by line) never destroys its input: closing it leaves the file open. So its
      // input stream is destroyed too.
      const readline = this.input as { close?: unknown; input?: unknown };
      if (typeof readline.close === 'function' && typeof readline.input === 'object') {
        callQuietly(readline, 'close');
        callQuietly(readline.input, 'destroy');
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
        let raw: unknown;
        try {
          raw = iterator.next();
        } catch (err) {
          this.finished = true;
          this.handlers.error(err);
          return;
        }
        let result: IteratorResult<T>;
        try {
          result = this.checkResult(raw);
        } catch (err) {
          // The iterator broke its protocol: it is released, as when the consumer fails.
          this.cancel();
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
    this.completeIfSpent();
  }

  /** An iterator result must be an object (the iterator protocol); anything else would hang the pull. */
  private checkResult(result: unknown): IteratorResult<T> {
    if (typeof result !== 'object' || result === null) {
      throw new TypeError(
        `${this.operator}: the input's iterator returned ${describe(result)} from next(); an iterator result must be an object ({ value, done })`,
      );
    }
    return result as IteratorResult<T>;
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
      (raw) => {
        this.pending = false;
        if (this.finished) return;
        let result: IteratorResult<T>;
        try {
          result = this.checkResult(raw);
        } catch (err) {
          // The iterator broke its protocol: it is released, as when the consumer fails.
          this.cancel();
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
        this.pullAsync();
        this.completeIfSpent();
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

/** Calls `target[method]()` if it is a function; a throw is reported, never raised. */
function callQuietly(target: unknown, method: string): void {
  if (typeof target !== 'object' || target === null) return;
  const fn = (target as Record<string, unknown>)[method];
  if (typeof fn !== 'function') return;
  try {
    (fn as () => void).call(target);
  } catch (err) {
    reportUnhandledError(err);
  }
}
