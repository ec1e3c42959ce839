/**
 * What a bounded queue does with a value that arrives when it is full.
 *
 * - `'drop-incoming'`: the arriving value is discarded (core.async's dropping buffer).
 * - `'drop-oldest'`: the oldest queued value is evicted and the arriving one is queued
 *   (core.async's sliding buffer).
 * - `'drop-newest-queued'`: the most recently queued value is evicted and the arriving one is queued.
 * - `'drop-queue'`: every queued value is evicted, oldest first, and the arriving one is queued.
 * - `'error'`: the stream errors with a {@link BufferOverflowError}.
 *
 * The names say which value goes, on purpose: "drop latest" means opposite things in other libraries.
 */
export type OverflowStrategy =
  'drop-incoming' | 'drop-oldest' | 'drop-newest-queued' | 'drop-queue' | 'error';

/**
 * Why a value was discarded instead of passed on.
 *
 * - `'overflow'`: a bounded queue was full and its {@link OverflowStrategy} discarded it.
 * - `'rejected'`: a rate limit in police mode refused it.
 * - `'expired'`: it waited longer than the operator's `ttl`.
 * - `'shed'`: `bufferPriority` dropped it for a more important value.
 * - `'cleared'`: it was still waiting when the stream errored or was unsubscribed.
 */
export type DropReason = 'overflow' | 'rejected' | 'expired' | 'shed' | 'cleared';

/**
 * What a rate limit knows about a value it refused (`'rejected'` by `tokenBucket` in police mode):
 * passed to `onDrop` as its third argument, so that a server can answer `429` with a `Retry-After`
 * computed from the bucket instead of guessed.
 */
export interface DropDetail {
  /** Tokens the value needed. */
  cost: number;
  /** Tokens in the bucket when it was refused. */
  available: number;
  /**
   * Milliseconds until the bucket will hold `cost` tokens, if nothing else takes them meanwhile (with
   * a shared store: as the store answered). Round it up to whole seconds for an HTTP `Retry-After`.
   */
  retryAfter: number;
}

/**
 * Called once for every value an operator discards, with the reason. A throwing `onDrop` errors the
 * output (or, while the output is already being torn down, is reported as an unhandled error).
 * `detail` is given for a value a rate limit refused (see {@link DropDetail}); otherwise undefined.
 */
export type OnDrop<T> = (value: T, reason: DropReason, detail?: DropDetail) => void;

/** Every {@link OverflowStrategy}, in a stable order (useful for table-driven tests). */
export const OVERFLOW_STRATEGIES: readonly OverflowStrategy[] = Object.freeze([
  'drop-incoming',
  'drop-oldest',
  'drop-newest-queued',
  'drop-queue',
  'error',
] as const);
