/**
 * Sent downstream when a bounded queue with overflow strategy `'error'` is full and another value
 * arrives. Recognise it across copies of the library with {@link isBufferOverflowError} or the
 * `isBufferOverflowError` marker.
 */
export class BufferOverflowError<T = unknown> extends Error {
  override readonly name = 'BufferOverflowError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isBufferOverflowError = true;

  constructor(
    /** How many values were allowed to wait. */
    readonly capacity: number,
    /** The value that arrived when the queue was full. */
    readonly value: T,
    operator = 'buffer',
  ) {
    super(
      capacity === 0
        ? `${operator}: buffer overflow: a value arrived that could not start, and \`capacity\` 0 lets none wait`
        : `${operator}: buffer overflow: a value arrived while the queue was full (\`capacity\` ${String(capacity)})`,
    );
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * Sent downstream by `tokenBucket` in police mode with `overflow: 'error'` when a value finds too few
 * tokens.
 */
export class RateLimitExceededError<T = unknown> extends Error {
  override readonly name = 'RateLimitExceededError';
  readonly isRateLimitExceededError = true;

  constructor(
    /** The value that was refused. */
    readonly value: T,
    /** Tokens the value needed. */
    readonly cost: number,
    /** Tokens available when it arrived. */
    readonly available: number,
    operator = 'tokenBucket',
  ) {
    super(
      `${operator}: rate limit exceeded: value needed ${String(cost)} token(s), ${formatTokens(available)} available`,
    );
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

function formatTokens(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}

/** True for a {@link BufferOverflowError} from any copy of this library. */
export function isBufferOverflowError(err: unknown): err is BufferOverflowError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isBufferOverflowError?: unknown }).isBufferOverflowError === true
  );
}

/** True for a {@link RateLimitExceededError} from any copy of this library. */
export function isRateLimitExceededError(err: unknown): err is RateLimitExceededError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isRateLimitExceededError?: unknown }).isRateLimitExceededError === true
  );
}
