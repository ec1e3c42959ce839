/**
 * Sent downstream when a bounded queue with overflow strategy `'error'` is full and another value
 * arrives. Recognise it across copies of the library with {@link isBufferOverflowError} or the
 * `isBufferOverflowError` marker.
 *
 * Build one to state the error a marble test expects: the operators pass their own name, so an
 * expected error equal to what `bufferFixed` sends is `new BufferOverflowError(capacity, value,
 * 'bufferFixed')`. Without `operator` the message has no prefix.
 *
 * ```ts
 * new BufferOverflowError(2, 'd', 'bufferFixed').message;
 * // "bufferFixed: buffer overflow: a value arrived while the queue was full (`capacity` 2)"
 * new BufferOverflowError(2, 'd').message;
 * // "buffer overflow: a value arrived while the queue was full (`capacity` 2)"
 * ```
 */
export class BufferOverflowError<T = unknown> extends Error {
  /** Always `'BufferOverflowError'`. */
  override readonly name = 'BufferOverflowError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isBufferOverflowError = true;

  constructor(
    /** How many values were allowed to wait. */
    readonly capacity: number,
    /** The value that arrived when the queue was full. */
    readonly value: T,
    /** The operator that sent it, as the message's prefix; none when left out. */
    operator?: string,
  ) {
    super(
      prefix(operator) +
        (capacity === 0
          ? 'buffer overflow: a value arrived that could not start, and `capacity` 0 lets none wait'
          : `buffer overflow: a value arrived while the queue was full (\`capacity\` ${String(capacity)})`),
    );
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * Sent downstream by `tokenBucket` in police mode with `overflow: 'error'` when a value finds too few
 * tokens. Recognise it across copies of the library with {@link isRateLimitExceededError}.
 *
 * ```ts
 * new RateLimitExceededError('c', 1, 0).message;
 * // "tokenBucket: rate limit exceeded: value needed 1 token(s), 0 available"
 * ```
 */
export class RateLimitExceededError<T = unknown> extends Error {
  /** Always `'RateLimitExceededError'`. */
  override readonly name = 'RateLimitExceededError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isRateLimitExceededError = true;

  constructor(
    /** The value that was refused. */
    readonly value: T,
    /** Tokens the value needed. */
    readonly cost: number,
    /** Tokens available when it arrived. */
    readonly available: number,
    /** The operator that sent it, as the message's prefix. */
    operator = 'tokenBucket',
    /**
     * Milliseconds until the bucket would have held `cost` tokens (see `DropDetail.retryAfter`);
     * NaN when not known.
     */
    readonly retryAfter = NaN,
  ) {
    super(
      `${prefix(operator)}rate limit exceeded: value needed ${String(cost)} token(s), ${formatTokens(available)} available`,
    );
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

function prefix(operator: string | undefined): string {
  return operator === undefined || operator === '' ? '' : `${operator}: `;
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

/**
 * Refused by a `CircuitBreaker` that does not let calls through: open, half-open with every probe
 * slot taken, or isolated. Recognise it across copies of the library with {@link isCircuitOpenError}.
 *
 * ```ts
 * new CircuitOpenError('open', 5_000).message;
 * // "circuit breaker is open: calls are let through again in 5000 ms"
 * ```
 */
export class CircuitOpenError extends Error {
  /** Always `'CircuitOpenError'`. */
  override readonly name = 'CircuitOpenError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isCircuitOpenError = true;

  constructor(
    /** The breaker's state when the call was refused. */
    readonly state: 'open' | 'half-open' | 'isolated',
    /** Milliseconds until calls are let through again: the open time left; 0 in half-open; Infinity while isolated. */
    readonly retryAfter: number,
  ) {
    super(
      state === 'isolated'
        ? 'circuit breaker is isolated: no call is let through until every isolation handle is released'
        : state === 'half-open'
          ? 'circuit breaker is half-open and every probe slot is taken'
          : `circuit breaker is open: calls are let through again in ${String(retryAfter)} ms`,
    );
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * Sent to a call that ran longer than the breaker's `callTimeout`; the call is cancelled and counts as
 * a failure. Recognise it across copies of the library with {@link isCallTimeoutError}.
 */
export class CallTimeoutError extends Error {
  /** Always `'CallTimeoutError'`. */
  override readonly name = 'CallTimeoutError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isCallTimeoutError = true;

  constructor(
    /** The timeout in ms. */
    readonly timeout: number,
  ) {
    super(`call timed out after ${String(timeout)} ms`);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** True for a {@link CircuitOpenError} from any copy of this library. */
export function isCircuitOpenError(err: unknown): err is CircuitOpenError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isCircuitOpenError?: unknown }).isCircuitOpenError === true
  );
}

/** True for a {@link CallTimeoutError} from any copy of this library. */
export function isCallTimeoutError(err: unknown): err is CallTimeoutError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isCallTimeoutError?: unknown }).isCallTimeoutError === true
  );
}
