import { EMPTY, NEVER, Observable, of } from 'rxjs';
import { Writable } from 'node:stream';
import {
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferSliding,
  leakyBucket,
  pullFeedback,
  pullFrom,
  pullMap,
  tokenBucket,
  writeTo,
} from 'rxjs-backpressure';

/**
 * One rule for every options object of every operator: unknown keys are refused with a TypeError that
 * names the operator and the key (with a hint when a known key is near), an explicit `null` is a wrong
 * type (only `undefined` means "default"), and arrays are not options objects.
 */
type Make = (options: never) => unknown;

const project = (v: unknown): Observable<unknown> => of(v);
const sink = (): Writable => new Writable({ objectMode: true, write: (_c, _e, cb) => cb() });

interface Case {
  name: string;
  make: Make;
  /** Options that are valid on their own (the required ones). */
  base: Record<string, unknown>;
  /** Every option the operator knows, with a valid value (for the null table). */
  keys: string[];
  /** The options argument may be left out. */
  optional: boolean;
}

const bufferKeys = ['concurrency', 'onDrop', 'delayError', 'ttl', 'scheduler', 'onError', 'meter'];
const cases: Case[] = [
  ...(
    [
      ['bufferFixed', bufferFixed],
      ['bufferDropping', bufferDropping],
      ['bufferSliding', bufferSliding],
    ] as const
  ).map(([name, op]) => ({
    name,
    make: (o: never) => op(1, project, o),
    base: {},
    keys: bufferKeys,
    optional: true,
  })),
  {
    name: 'bufferBounded',
    make: (o: never) => bufferBounded(1, project, o),
    base: { overflow: 'drop-oldest' },
    keys: [...bufferKeys, 'overflow'],
    optional: false,
  },
  {
    name: 'tokenBucket',
    make: (o: never) => tokenBucket(o),
    base: { capacity: 2, tokensPerInterval: 1 },
    keys: [
      'capacity',
      'tokensPerInterval',
      'interval',
      'initialTokens',
      'cost',
      'mode',
      'queueCapacity',
      'overflow',
      'ttl',
      'scheduler',
      'onDrop',
      'meter',
      'store',
      'onStoreError',
      'instances',
      'retryInterval',
      'onStoreFailure',
    ],
    optional: false,
  },
  {
    name: 'leakyBucket',
    make: (o: never) => leakyBucket(o),
    base: { interval: 10 },
    keys: ['interval', 'capacity', 'overflow', 'ttl', 'scheduler', 'onDrop', 'meter'],
    optional: false,
  },
  {
    name: 'pullFeedback',
    make: (o: never) => pullFeedback(NEVER, o),
    base: {},
    keys: ['initialDemand', 'capacity', 'overflow', 'ttl', 'scheduler', 'onDrop', 'meter'],
    optional: true,
  },
  {
    name: 'pullFrom',
    make: (o: never) => pullFrom([1], NEVER, o),
    base: {},
    keys: ['initialDemand', 'meter'],
    optional: true,
  },
  {
    name: 'pullMap',
    make: (o: never) => pullMap([1], project, o),
    base: {},
    keys: ['concurrency', 'ordered', 'demand$', 'onError', 'meter'],
    optional: true,
  },
  {
    name: 'writeTo',
    make: (o: never) => writeTo(sink(), () => EMPTY, o),
    base: {},
    keys: ['end', 'requireDemand', 'meter'],
    optional: true,
  },
];

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe.each(cases)('$name options', ({ name, make, base, keys, optional }) => {
  it('refuses an unknown key, naming the operator and the key and listing the known ones', () => {
    const err = thrown(() => make({ ...base, zzz: 1 } as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe(
      `${name}: unknown option \`zzz\`; known: ${keys.map((k) => `\`${k}\``).join(', ')}`,
    );
  });

  it.each(keys)('suggests `%s` for a near miss', (key) => {
    // Drop one letter from the middle: the usual typo.
    const typo = key.length > 3 ? key.slice(0, 2) + key.slice(3) : `${key}x`;
    const err = thrown(() => make({ ...base, [typo]: 1 } as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toContain(`${name}: unknown option \`${typo}\` (did you mean \`${key}\`?)`);
  });

  it.each(keys)('refuses `%s: null` with a TypeError naming the option', (key) => {
    const err = thrown(() => make({ ...base, [key]: null } as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(new RegExp(`^${name}: \`${key.replace('$', '\\$')}\` must be .*, got null$`));
  });

  it('refuses options that are not a plain object', () => {
    for (const bad of [null, 5, 'x', true, () => undefined, [base]]) {
      const err = thrown(() => make(bad as never));
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(new RegExp(`^${name}: \`options\` must be an object, got `));
    }
  });

  it(optional ? 'accepts options left out' : 'requires options', () => {
    if (optional) {
      expect(() => make(undefined as never)).not.toThrow();
    } else {
      expect(thrown(() => make(undefined as never))).toEqual(
        new TypeError(`${name}: \`options\` must be an object, got undefined`),
      );
    }
  });

  it('accepts every known key left undefined (undefined means default)', () => {
    const all = Object.fromEntries(keys.map((k) => [k, undefined]));
    expect(() => make({ ...all, ...base } as never)).not.toThrow();
  });
});

it('reads the example from the issue: `concurency` is refused with a hint', () => {
  expect(() => bufferFixed(10, project, { concurency: 4 } as never)).toThrow(
    new TypeError(
      'bufferFixed: unknown option `concurency` (did you mean `concurrency`?); known: `concurrency`, `onDrop`, `delayError`, `ttl`, `scheduler`, `onError`, `meter`',
    ),
  );
});
