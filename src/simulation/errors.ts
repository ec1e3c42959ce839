import type { Arrival } from './types.js';

/**
 * How a simulated call fails when the downstream has not answered within its `timeout` (counted from
 * the call, on the caller's side). The downstream does not know: it still serves the request, and
 * that work is wasted. Recognise it across copies of the library with
 * {@link isDownstreamTimeoutError}.
 */
export class DownstreamTimeoutError extends Error {
  /** Always `'DownstreamTimeoutError'`. */
  override readonly name = 'DownstreamTimeoutError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isDownstreamTimeoutError = true;

  constructor(
    /** The downstream's `timeout`, in ms. */
    readonly timeout: number,
    /** The request that was not answered. */
    readonly request: Arrival,
  ) {
    super(`downstream: request ${String(request.index)} not answered within ${String(timeout)} ms (timeout)`);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/**
 * How a simulated call fails when the downstream's own queue already holds `queueLimit` requests: it
 * answers at once with this error (HTTP 503, say). Recognise it across copies of the library with
 * {@link isDownstreamOverloadError}.
 */
export class DownstreamOverloadError extends Error {
  /** Always `'DownstreamOverloadError'`. */
  override readonly name = 'DownstreamOverloadError';
  /** Marker that survives duplicate copies of the library in one bundle. */
  readonly isDownstreamOverloadError = true;

  constructor(
    /** The downstream's `queueLimit`. */
    readonly queueLimit: number,
    /** The request that was refused. */
    readonly request: Arrival,
  ) {
    super(
      `downstream: overloaded, request ${String(request.index)} refused (\`queueLimit\` ${String(queueLimit)} requests already wait)`,
    );
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** True for a {@link DownstreamTimeoutError} from any copy of this library. */
export function isDownstreamTimeoutError(err: unknown): err is DownstreamTimeoutError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isDownstreamTimeoutError?: unknown }).isDownstreamTimeoutError === true
  );
}

/** True for a {@link DownstreamOverloadError} from any copy of this library. */
export function isDownstreamOverloadError(err: unknown): err is DownstreamOverloadError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isDownstreamOverloadError?: unknown }).isDownstreamOverloadError === true
  );
}
