import {
  BufferOverflowError,
  isBufferOverflowError,
  isRateLimitExceededError,
  RateLimitExceededError,
} from 'rxjs-backpressure';

describe('BufferOverflowError', () => {
  it('reads well without an operator name', () => {
    const err = new BufferOverflowError(1, 'c');
    expect(err.message).toBe('buffer overflow: a value arrived while the queue was full (`capacity` 1)');
    expect(new BufferOverflowError(0, 'c').message).toBe(
      'buffer overflow: a value arrived that could not start, and `capacity` 0 lets none wait',
    );
    expect(err).toMatchObject({ name: 'BufferOverflowError', capacity: 1, value: 'c' });
    expect(err).toBeInstanceOf(BufferOverflowError);
    expect(err).toBeInstanceOf(Error);
    expect(isBufferOverflowError(err)).toBe(true);
  });

  it('prefixes the operator name when given, as the operators do', () => {
    expect(new BufferOverflowError(2, 'd', 'bufferFixed').message).toBe(
      'bufferFixed: buffer overflow: a value arrived while the queue was full (`capacity` 2)',
    );
  });
});

describe('RateLimitExceededError', () => {
  it('names tokenBucket by default, or the operator given, and keeps what the value needed', () => {
    const err = new RateLimitExceededError('c', 1, 0.25);
    expect(err.message).toBe('tokenBucket: rate limit exceeded: value needed 1 token(s), 0.250 available');
    expect(new RateLimitExceededError('c', 2, 0, '').message).toBe(
      'rate limit exceeded: value needed 2 token(s), 0 available',
    );
    expect(err).toMatchObject({ name: 'RateLimitExceededError', value: 'c', cost: 1, available: 0.25 });
    expect(isRateLimitExceededError(err)).toBe(true);
    expect(isRateLimitExceededError(new BufferOverflowError(1, 'c'))).toBe(false);
  });
});
