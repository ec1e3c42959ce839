import {
  BufferOverflowError,
  CallTimeoutError,
  CircuitOpenError,
  isCallTimeoutError,
  isCircuitOpenError,
} from 'rxjs-backpressure';

describe('CircuitOpenError (issue 10)', () => {
  it.each([
    ['open', 5_000, 'circuit breaker is open: calls are let through again in 5000 ms'],
    ['half-open', 0, 'circuit breaker is half-open and every probe slot is taken'],
    [
      'isolated',
      Infinity,
      'circuit breaker is isolated: no call is let through until every isolation handle is released',
    ],
  ] as const)('%s: keeps the state and retryAfter, and says why', (state, retryAfter, message) => {
    const err = new CircuitOpenError(state, retryAfter);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'CircuitOpenError', state, retryAfter, message });
    expect(isCircuitOpenError(err)).toBe(true);
  });

  it('is recognised across copies of the library by its marker, and only by it', () => {
    const foreign = Object.assign(new Error('circuit breaker is open'), { isCircuitOpenError: true });
    expect(isCircuitOpenError(foreign)).toBe(true);
    expect(isCircuitOpenError(new BufferOverflowError(1, 'x'))).toBe(false);
    expect(isCircuitOpenError(new CallTimeoutError(5))).toBe(false);
    expect(isCircuitOpenError(null)).toBe(false);
    expect(isCircuitOpenError({ isCircuitOpenError: 'yes' })).toBe(false);
  });
});

describe('CallTimeoutError (issue 10)', () => {
  it('keeps the timeout and says it', () => {
    const err = new CallTimeoutError(250);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'CallTimeoutError',
      timeout: 250,
      message: 'call timed out after 250 ms',
    });
    expect(isCallTimeoutError(err)).toBe(true);
    expect(isCallTimeoutError(new CircuitOpenError('open', 1))).toBe(false);
    expect(isCallTimeoutError(Object.assign(new Error('x'), { isCallTimeoutError: true }))).toBe(true);
    expect(isCallTimeoutError(undefined)).toBe(false);
  });
});
