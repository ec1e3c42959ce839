import { of } from 'rxjs';
import { CircuitBreaker, type CircuitBreakerOptions, type ProtectOptions } from 'rxjs-backpressure';
import { manual } from './harness';

/*
 * Issue 10, bad input: clear errors at creation, naming `CircuitBreaker` or `protect` and the option
 * (and, for a bad value, the value and its type), as every operator of the library does.
 */

type Ctor = typeof TypeError | typeof RangeError;

function breakerWith(options: unknown): () => unknown {
  return () => new CircuitBreaker(options as CircuitBreakerOptions);
}

function expectThrow(fn: () => unknown, ctor: Ctor, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ctor);
  expect((thrown as Error).constructor).toBe(ctor);
  expect((thrown as Error).message).toMatch(message);
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('CircuitBreaker: bad options (issue 10)', () => {
  it.each([
    ['no options at all', undefined],
    ['null', null],
    ['an array', []],
  ])('refuses %s with a TypeError naming CircuitBreaker', (_, options) => {
    expectThrow(breakerWith(options), TypeError, /^CircuitBreaker: `options` must be an object/);
  });

  it.each([
    ['{}', {}],
    ['only slowCallDuration', { slowCallDuration: 100 }],
    ['only a window and openDuration', { window: { calls: 5 }, openDuration: 10 }],
  ])('refuses no trip rule (%s), naming the three rules', (_, options) => {
    expectThrow(
      breakerWith(options),
      TypeError,
      /^CircuitBreaker: .*trip rule.*`consecutiveFailures`.*`failureRateThreshold`.*`slowCallRateThreshold`/,
    );
  });

  describe.each(['failureRateThreshold', 'slowCallRateThreshold'])('%s outside (0, 1]', (option) => {
    const base = option === 'slowCallRateThreshold' ? { slowCallDuration: 10 } : {};
    it.each([
      [0, '0 (number)'],
      [-0.5, '-0.5 (number)'],
      [1.01, '1.01 (number)'],
      [2, '2 (number)'],
      [NaN, 'NaN (number)'],
      [Infinity, 'Infinity (number)'],
    ])('%p is a RangeError naming the option and the value', (value, described) => {
      expectThrow(
        breakerWith({ ...base, [option]: value }),
        RangeError,
        new RegExp(`^CircuitBreaker: \`${option}\` must be a number in \\(0, 1\\], got ${esc(described)}$`),
      );
    });

    it.each([
      ['"0.5"', '0.5'],
      ['null', null],
      ['true', true],
    ])('%s is a TypeError', (_, value) => {
      expectThrow(
        breakerWith({ ...base, [option]: value }),
        TypeError,
        new RegExp(`^CircuitBreaker: \`${option}\``),
      );
    });

    it.each([0.0001, 0.5, 1])('%p is accepted', (value) => {
      expect(breakerWith({ ...base, [option]: value })).not.toThrow();
    });
  });

  describe.each([
    ['consecutiveFailures', {}],
    ['minimumCalls', { consecutiveFailures: 1 }],
    ['halfOpenProbes', { consecutiveFailures: 1 }],
  ] as const)('%s: a positive integer', (option, base) => {
    it.each([0, -1, 1.5, NaN, Infinity])('%p is a RangeError naming the option', (value) => {
      expectThrow(
        breakerWith({ ...base, [option]: value }),
        RangeError,
        new RegExp(`^CircuitBreaker: \`${option}\` must be a positive integer, got `),
      );
    });

    it('a string is a TypeError', () => {
      expectThrow(
        breakerWith({ ...base, [option]: '3' }),
        TypeError,
        new RegExp(`^CircuitBreaker: \`${option}\``),
      );
    });
  });

  it.each([0, -1, 2.5, NaN])('window.calls %p is a RangeError naming window.calls', (calls) => {
    expectThrow(
      breakerWith({ consecutiveFailures: 1, window: { calls } }),
      RangeError,
      /^CircuitBreaker: `window.calls` must be a positive integer/,
    );
  });

  it.each([0, -1, 2.5])('window.buckets %p is a RangeError naming window.buckets', (buckets) => {
    expectThrow(
      breakerWith({ consecutiveFailures: 1, window: { duration: 100, buckets } }),
      RangeError,
      /^CircuitBreaker: `window.buckets` must be a positive integer/,
    );
  });

  it.each([0, -1, Infinity, NaN])('window.duration %p is a RangeError naming window.duration', (duration) => {
    expectThrow(
      breakerWith({ consecutiveFailures: 1, window: { duration } }),
      RangeError,
      /^CircuitBreaker: `window.duration` must be a finite number > 0/,
    );
  });

  it('a window with both kinds of keys is refused, naming window', () => {
    expectThrow(
      breakerWith({ consecutiveFailures: 1, window: { calls: 10, duration: 100 } }),
      TypeError,
      /^CircuitBreaker: unknown key of `window` `duration`/,
    );
  });

  it('slowCallRateThreshold without slowCallDuration is refused, naming both', () => {
    expectThrow(
      breakerWith({ slowCallRateThreshold: 0.5 }),
      TypeError,
      /^CircuitBreaker: `slowCallDuration` is required with `slowCallRateThreshold`/,
    );
  });

  it.each([
    ['slowCallDuration', -1, RangeError],
    ['slowCallDuration', Infinity, RangeError],
    ['openDuration', -1, RangeError],
    ['openDuration', NaN, RangeError],
    ['openDuration', Infinity, RangeError],
    ['openDuration', '10', TypeError],
    ['halfOpenMaxWait', 0, RangeError],
    ['halfOpenMaxWait', -5, RangeError],
    ['callTimeout', 0, RangeError],
    ['callTimeout', -5, RangeError],
    ['isFailure', 'yes', TypeError],
    ['scheduler', {}, TypeError],
  ] as const)('%s %p is refused, naming the option', (option, value, ctor) => {
    expectThrow(
      breakerWith({ consecutiveFailures: 1, [option]: value }),
      ctor,
      new RegExp(`^CircuitBreaker: \`${option}\``),
    );
  });

  it('an unknown option is refused, naming it and the nearest known one', () => {
    expectThrow(
      breakerWith({ consecutiveFailure: 3 }),
      TypeError,
      /^CircuitBreaker: unknown option `consecutiveFailure` \(did you mean `consecutiveFailures`\?\)/,
    );
    expectThrow(
      breakerWith({ consecutiveFailures: 3, halfOpenMaxWiat: 10 }),
      TypeError,
      /^CircuitBreaker: unknown option `halfOpenMaxWiat` \(did you mean `halfOpenMaxWait`\?\)/,
    );
  });

  it.each([
    ['null', null],
    ['a string', 'open'],
    [
      'another version',
      {
        version: 2,
        state: 'closed',
        opens: 0,
        openedFor: 0,
        consecutiveFailures: 0,
        window: { kind: 'calls', outcomes: [] },
      },
    ],
    [
      'an unknown state',
      {
        version: 1,
        state: 'ajar',
        opens: 0,
        openedFor: 0,
        consecutiveFailures: 0,
        window: { kind: 'calls', outcomes: [] },
      },
    ],
    [
      'a negative openedFor',
      {
        version: 1,
        state: 'open',
        opens: 1,
        openedFor: -1,
        consecutiveFailures: 0,
        window: { kind: 'calls', outcomes: [] },
      },
    ],
    ['no window', { version: 1, state: 'closed', opens: 0, openedFor: 0, consecutiveFailures: 0 }],
  ])('a bad initialState (%s) is refused, naming initialState', (_, initialState) => {
    expectThrow(
      breakerWith({ consecutiveFailures: 1, initialState }),
      TypeError,
      /^CircuitBreaker: `initialState`/,
    );
  });

  it('the valid extremes are accepted', () => {
    const scheduler = manual();
    expect(
      breakerWith({
        consecutiveFailures: 1,
        failureRateThreshold: 1,
        slowCallRateThreshold: 1,
        slowCallDuration: 0,
        window: { duration: 1, buckets: 1 },
        minimumCalls: 1,
        openDuration: 0,
        halfOpenProbes: 1,
        halfOpenMaxWait: Infinity,
        callTimeout: Infinity,
        isFailure: () => true,
        scheduler,
      }),
    ).not.toThrow();
    expect(
      breakerWith({ consecutiveFailures: 1, openDuration: () => 5, window: { calls: 1 } }),
    ).not.toThrow();
  });
});

describe('protect: bad options (issue 10)', () => {
  const breaker = new CircuitBreaker({ consecutiveFailures: 1, scheduler: manual() });
  const project = (v: unknown) => of(v);
  const protectWith =
    (options: unknown): (() => unknown) =>
    () =>
      breaker.protect(project, options as ProtectOptions<unknown, unknown>);

  it("'wait' without capacity is refused at creation, naming capacity and whenOpen", () => {
    expectThrow(
      protectWith({ whenOpen: 'wait' }),
      TypeError,
      /^protect: `capacity` is required with whenOpen 'wait'/,
    );
    expectThrow(
      protectWith({ whenOpen: 'wait', capacity: undefined }),
      TypeError,
      /^protect: `capacity` is required with whenOpen 'wait'/,
    );
  });

  it("'wait' with capacity (even Infinity) is accepted", () => {
    expect(protectWith({ whenOpen: 'wait', capacity: 10 })).not.toThrow();
    expect(protectWith({ whenOpen: 'wait', capacity: Infinity })).not.toThrow();
  });

  it.each([
    ['an unknown string', 'retry', RangeError, '"retry" (string)'],
    ['a number', 42, TypeError, '42 (number)'],
    ['null', null, TypeError, 'null'],
  ] as const)(
    'an unknown whenOpen (%s) is refused, naming whenOpen and the value',
    (_, whenOpen, ctor, described) => {
      expectThrow(
        protectWith({ whenOpen }),
        ctor,
        new RegExp(
          `^protect: \`whenOpen\` must be 'error', 'drop', 'wait' or a function.*, got ${esc(described)}$`,
        ),
      );
    },
  );

  it('an unknown option is refused, naming it', () => {
    expectThrow(
      protectWith({ whenOpn: 'drop' }),
      TypeError,
      /^protect: unknown option `whenOpn` \(did you mean `whenOpen`\?\)/,
    );
    // Buffer options protect does not take: its scheduler is the breaker's.
    expectThrow(protectWith({ scheduler: manual() }), TypeError, /^protect: unknown option `scheduler`/);
    expectThrow(protectWith({ delayError: true }), TypeError, /^protect: unknown option `delayError`/);
  });

  it.each([
    ['capacity', -1, RangeError],
    ['capacity', 1.5, RangeError],
    ['concurrency', 0, RangeError],
    ['concurrency', '2', TypeError],
    ['ttl', -1, RangeError],
    ['overflow', 'drop-everything', RangeError],
    ['onError', 'ignore', RangeError],
    ['onDrop', 'log', TypeError],
  ] as const)('%s %p is refused, naming the option', (option, value, ctor) => {
    expectThrow(protectWith({ [option]: value }), ctor, new RegExp(`^protect: \`${option}\``));
  });

  it('a project that is not a function is refused', () => {
    expectThrow(() => breaker.protect('x' as never), TypeError, /^protect: `project` must be a function/);
  });

  it('options that are not an object are refused', () => {
    expectThrow(protectWith(null), TypeError, /^protect: `options` must be an object/);
    expectThrow(protectWith('drop'), TypeError, /^protect: `options` must be an object/);
  });
});
