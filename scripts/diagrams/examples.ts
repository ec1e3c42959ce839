/**
 * The documented example of each operator, as runs: `npm run docs` draws each as
 * docs/diagrams/<name>.svg, and spec/docs/diagrams.spec.ts checks the ASCII diagram of the same
 * example, in the operator's page and JSDoc, against the same run.
 */
import { map, of, skip, startWith, tap, throwError, type Observable } from 'rxjs';
import {
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferPriority,
  bufferSliding,
  CircuitBreaker,
  leakyBucket,
  pullFeedback,
  pullFrom,
  pullMap,
  tokenBucket,
  writeTo,
  type WritableLike,
} from '../../src/index.js';
import {
  recordMarbles,
  type MarbleContext,
  type MarbleDiagram,
  type RecordMarblesOptions,
} from '../../src/testing/index.js';

/** The operators with a page in docs/operators/ and a diagram docs/diagrams/<operator>.svg. */
export const OPERATORS = [
  'bufferFixed',
  'bufferDropping',
  'bufferSliding',
  'bufferBounded',
  'bufferPriority',
  'tokenBucket',
  'leakyBucket',
  'pullFeedback',
  'pullFrom',
  'pullMap',
  'writeTo',
  'circuitBreaker',
] as const;
export type OperatorName = (typeof OPERATORS)[number];

/** One documented example: how to run it, and where its ASCII diagram is. */
export interface DocExample {
  /** The SVG's name: the operator's name for its main example, `<operator>-<what>` for others. */
  readonly name: string;
  readonly operator: OperatorName;
  /**
   * Text found in the ASCII block of this example (in the operator's page, and in its JSDoc when
   * `jsdoc`), usually the call line.
   */
  readonly match: string;
  /** Whether the operator's page shows this diagram (default true). */
  readonly page: boolean;
  /** Whether the operator's JSDoc shows this diagram too (default false). */
  readonly jsdoc: boolean;
  /**
   * Lines of the ASCII block → recorded lane. A label shown twice in one block (two variants)
   * is `output#2` for its second line; `protect?` is a line some blocks of the example leave out.
   */
  readonly ascii: Readonly<Record<string, string>>;
  /**
   * The label of the line that carries this example's `onDrop:` claims (with the continuation lines
   * under it); by default every `onDrop:` of the block.
   */
  readonly onDropLine?: string;
  /** The values of the marble characters, to read the ASCII lanes as the run does. */
  readonly values?: Readonly<Record<string, unknown>>;
  /** Runs the example. */
  record(): MarbleDiagram;
}

function example<V = string>(
  def: Omit<DocExample, 'record' | 'values' | 'page' | 'jsdoc'> & {
    page?: boolean;
    jsdoc?: boolean;
    options: RecordMarblesOptions<V>;
  },
): DocExample {
  const { options, ...rest } = def;
  return {
    ...rest,
    page: def.page ?? true,
    jsdoc: def.jsdoc ?? false,
    ...(options.values === undefined ? {} : { values: options.values }),
    record: () => recordMarbles(options),
  };
}

type Cold = MarbleContext['cold'];
/** Work that takes `frames` frames and then emits the value in upper case. */
const upper =
  (cold: Cold, frames: number) =>
  (v: string): Observable<string> =>
    cold(`${'-'.repeat(frames)}(x|)`, { x: v.toUpperCase() });
/** Work that fails as `marbles` says (`'--#'`). */
const fails = (cold: Cold, marbles: string): Observable<string> => cold(marbles);
const takes = (frames: number): string =>
  `project: each value takes ${frames} frames, emitting it in upper case at the end ("${'-'.repeat(frames)}(x|)")`;
const SOURCE_OUTPUT = { source: 'source', output: 'output' } as const;
const BUFFER_TRACKS = ['waiting'] as const;

const buffers: DocExample[] = [
  example({
    name: 'bufferFixed',
    operator: 'bufferFixed',
    match: 'bufferFixed(1, project)',
    jsdoc: true,
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferFixed(1, project)',
      notes: [takes(4)],
      inputs: { source: '-a-b-c-d-|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferFixed(1, upper(cold, 4), { onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferFixed-ttl',
    operator: 'bufferFixed',
    match: 'bufferFixed(10, project, { ttl: 4 })',
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferFixed(10, project, { ttl: 4 })',
      notes: [takes(5)],
      inputs: { source: 'a-b-c---------|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferFixed(10, upper(cold, 5), { ttl: 4, onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferDropping',
    operator: 'bufferDropping',
    match: 'bufferDropping(1, project)',
    jsdoc: true,
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferDropping(1, project)',
      notes: [takes(4)],
      inputs: { source: '-a-b-c-d-|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferDropping(1, upper(cold, 4), { onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferDropping-ttl',
    operator: 'bufferDropping',
    match: 'bufferDropping(2, project, { ttl: 3 })',
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferDropping(2, project, { ttl: 3 })',
      notes: [takes(4)],
      inputs: { source: 'abcd-----------|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferDropping(2, upper(cold, 4), { ttl: 3, onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferSliding',
    operator: 'bufferSliding',
    match: 'bufferSliding(1, project)',
    jsdoc: true,
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferSliding(1, project)',
      notes: [takes(4)],
      inputs: { source: '-a-b-c-d-|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferSliding(1, upper(cold, 4), { onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferSliding-ttl',
    operator: 'bufferSliding',
    match: 'bufferSliding(1, project, { ttl: 2 })',
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferSliding(1, project, { ttl: 2 })',
      notes: [takes(5)],
      inputs: { source: 'abc-----d------|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferSliding(1, upper(cold, 5), { ttl: 2, onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferBounded',
    operator: 'bufferBounded',
    match: "bufferBounded(2, project, { overflow: 'drop-newest-queued' })",
    jsdoc: true,
    ascii: SOURCE_OUTPUT,
    options: {
      title: "bufferBounded(2, project, { overflow: 'drop-newest-queued' })",
      notes: [takes(4)],
      inputs: { source: '-a-b-c-d-e-|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferBounded(2, upper(cold, 4), { overflow: 'drop-newest-queued', onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferBounded-ttl',
    operator: 'bufferBounded',
    match: "bufferBounded(2, project, { overflow: 'drop-oldest', ttl: 0 })",
    ascii: SOURCE_OUTPUT,
    options: {
      title: "bufferBounded(2, project, { overflow: 'drop-oldest', ttl: 0 })",
      notes: [takes(4)],
      inputs: { source: '-a-b---c-|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(bufferBounded(2, upper(cold, 4), { overflow: 'drop-oldest', ttl: 0, onDrop, meter })),
      tracks: BUFFER_TRACKS,
    },
  }),
  ...(['continue', 'fallback'] as const).map((kind, i) =>
    example({
      name: `bufferBounded-onerror-${kind}`,
      operator: 'bufferBounded',
      match: "bufferBounded(2, project, { overflow: 'drop-incoming', onError: 'continue' })",
      ascii: { source: 'source', [i === 0 ? 'output' : 'output#2']: 'output' },
      options: {
        title: `bufferBounded(2, project, { overflow: 'drop-incoming', onError: ${kind === 'continue' ? "'continue'" : "() => of('x')"} })`,
        notes: ['project: b\'s work errors after 2 frames ("--#"); the others emit after 3 ("---(x|)")'],
        inputs: { source: 'a-b-c------|' },
        run: ({ source, cold, onDrop, meter }) =>
          source.pipe(
            bufferBounded(2, (v) => (v === 'b' ? fails(cold, '--#') : upper(cold, 3)(v)), {
              overflow: 'drop-incoming',
              onError: kind === 'continue' ? 'continue' : () => of('x'),
              onDrop,
              meter,
            }),
          ),
        tracks: BUFFER_TRACKS,
      },
    }),
  ),
  example({
    name: 'bufferPriority',
    operator: 'bufferPriority',
    match: 'bufferPriority(2, project, { priority })',
    jsdoc: true,
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferPriority(2, project, { priority })',
      notes: ['priorities: a 1, b 1, c 2, d 3 (higher first)', takes(4)],
      inputs: { source: 'abcd-----------|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(
          bufferPriority(2, upper(cold, 4), {
            priority: (v) => ({ a: 1, b: 1, c: 2, d: 3 })[v] ?? 0,
            onDrop,
            meter,
          }),
        ),
      tracks: BUFFER_TRACKS,
    },
  }),
  example({
    name: 'bufferPriority-ttl',
    operator: 'bufferPriority',
    match: 'bufferPriority(2, project, { priority, ttl: 10 })',
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'bufferPriority(2, project, { priority, ttl: 10 })',
      notes: ['priorities: b 1, the others 2', takes(4)],
      inputs: { source: 'ab-c---d---e------|' },
      run: ({ source, cold, onDrop, meter }) =>
        source.pipe(
          bufferPriority(2, upper(cold, 4), { priority: (v) => (v === 'b' ? 1 : 2), ttl: 10, onDrop, meter }),
        ),
      tracks: BUFFER_TRACKS,
    },
  }),
];

const BUCKET_TRACKS = ['tokens', 'waiting'] as const;

/**
 * A limit lane whose first value is at frame 0, emitted synchronously at subscription (as a limit
 * Observable must; a cold marble Observable emits even its frame-0 values from a scheduled action).
 */
const synchronousFirst = (lane$: Observable<unknown> | undefined, first: number): Observable<number> =>
  (lane$ as Observable<number>).pipe(skip(1), startWith(first));
const buckets: DocExample[] = [
  ...(['shape', 'police'] as const).map((mode) =>
    example({
      name: mode === 'shape' ? 'tokenBucket' : 'tokenBucket-police',
      operator: 'tokenBucket',
      match: 'tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10 })',
      jsdoc: true,
      ascii: { source: 'source', [mode]: 'output' },
      onDropLine: mode,
      options: {
        title: `tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10${mode === 'police' ? ", mode: 'police'" : ''} })`,
        notes: ['1 frame = 1 ms: a token every 10 frames, at most 2 held'],
        inputs: { source: '(abcd)----------------------------|' },
        run: ({ source, onDrop, meter }) =>
          source.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10, mode, onDrop, meter })),
        tracks: mode === 'shape' ? BUCKET_TRACKS : ['tokens'],
      },
    }),
  ),
  example({
    name: 'tokenBucket-ttl',
    operator: 'tokenBucket',
    match: 'tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 10, ttl: 15 })',
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 10, ttl: 15 })',
      inputs: { source: '(abc)-|' },
      run: ({ source, onDrop, meter }) =>
        source.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 10, ttl: 15, onDrop, meter })),
      tracks: BUCKET_TRACKS,
    },
  }),
  example<string | number>({
    name: 'tokenBucket-rate',
    operator: 'tokenBucket',
    match: 'tokenBucket({ capacity: 1, tokensPerInterval: rate$, interval: 10 })',
    ascii: { rate$: 'rate$', ...SOURCE_OUTPUT },
    options: {
      title: 'tokenBucket({ capacity: 1, tokensPerInterval: rate$, interval: 10 })',
      inputs: { rate$: '1----5', source: '(abcd)----------|' },
      values: { 1: 1, 5: 5 },
      run: ({ inputs, source, onDrop, meter }) =>
        source.pipe(
          tokenBucket({
            capacity: 1,
            tokensPerInterval: synchronousFirst(inputs['rate$'], 1),
            interval: 10,
            onDrop,
            meter,
          }),
        ),
      tracks: BUCKET_TRACKS,
    },
  }),
  example({
    name: 'leakyBucket',
    operator: 'leakyBucket',
    match: 'leakyBucket({ interval: 10 })',
    jsdoc: true,
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'leakyBucket({ interval: 10 })',
      notes: ['1 frame = 1 ms'],
      inputs: { source: '(abc)------------------------------d-----|' },
      run: ({ source, onDrop, meter }) => source.pipe(leakyBucket({ interval: 10, onDrop, meter })),
      tracks: BUCKET_TRACKS,
    },
  }),
  example({
    name: 'leakyBucket-ttl',
    operator: 'leakyBucket',
    match: 'leakyBucket({ interval: 10, ttl: 10 })',
    ascii: SOURCE_OUTPUT,
    options: {
      title: 'leakyBucket({ interval: 10, ttl: 10 })',
      inputs: { source: '(abc)--|' },
      run: ({ source, onDrop, meter }) => source.pipe(leakyBucket({ interval: 10, ttl: 10, onDrop, meter })),
      tracks: BUCKET_TRACKS,
    },
  }),
  example<string | number>({
    name: 'leakyBucket-interval',
    operator: 'leakyBucket',
    match: 'leakyBucket({ interval: interval$ })',
    ascii: { interval$: 'interval$', ...SOURCE_OUTPUT },
    options: {
      title: 'leakyBucket({ interval: interval$ })',
      inputs: { interval$: 'i-----------j', source: '(abcd)---------------------|' },
      values: { i: 10, j: 5 },
      run: ({ inputs, source, onDrop, meter }) =>
        source.pipe(leakyBucket({ interval: synchronousFirst(inputs['interval$'], 10), onDrop, meter })),
      tracks: BUCKET_TRACKS,
    },
  }),
];

const DEMAND = { 1: 1, 2: 2, 3: 3 };
/** An input that marks each value in a `pulled` lane when it is taken from it. */
function* pulledFrom(values: readonly string[], mark: MarbleContext['mark']): Generator<string> {
  for (const value of values) {
    mark('pulled', value);
    yield value;
  }
}

const pulls: DocExample[] = [
  example<string | number>({
    name: 'pullFeedback',
    operator: 'pullFeedback',
    match: 'demand$:  ------1---3--------',
    jsdoc: true,
    ascii: { source: 'source', demand$: 'demand$', output: 'output' },
    options: {
      title: 'pullFeedback(demand$)',
      inputs: { source: '-a-b-c--------d---|', demand$: '------1---3--------' },
      values: DEMAND,
      run: ({ inputs, source, onDrop, meter }) =>
        source.pipe(pullFeedback(inputs['demand$'] as Observable<number>, { onDrop, meter })),
      tracks: ['waiting'],
    },
  }),
  example<string | number>({
    name: 'pullFeedback-ttl',
    operator: 'pullFeedback',
    match: 'pullFeedback(demand$, { ttl: 5 })',
    ascii: { source: 'source', demand$: 'demand$', output: 'output' },
    options: {
      title: 'pullFeedback(demand$, { ttl: 5 })',
      inputs: { source: 'a-b-c-------|', demand$: '---1----2----' },
      values: DEMAND,
      run: ({ inputs, source, onDrop, meter }) =>
        source.pipe(pullFeedback(inputs['demand$'] as Observable<number>, { ttl: 5, onDrop, meter })),
      tracks: ['waiting'],
    },
  }),
  example<number>({
    name: 'pullFrom',
    operator: 'pullFrom',
    match: 'demand$:  --1---2-----2--',
    jsdoc: true,
    ascii: { demand$: 'demand$', output: 'output' },
    options: {
      title: 'pullFrom([a, b, c, d], demand$)',
      inputs: { demand$: '--1---2-----2--' },
      values: DEMAND,
      run: ({ inputs, mark }) =>
        pullFrom(pulledFrom(['a', 'b', 'c', 'd'], mark), inputs['demand$'] as Observable<number>),
    },
  }),
  example({
    name: 'pullMap',
    operator: 'pullMap',
    match: 'pullMap(input, project, { concurrency: 1 })',
    jsdoc: true,
    ascii: { output: 'output' },
    options: {
      title: 'pullMap([a, b, c], project, { concurrency: 1 })',
      notes: [takes(3)],
      run: ({ cold, mark, meter }) =>
        pullMap(pulledFrom(['a', 'b', 'c'], mark), upper(cold, 3), { concurrency: 1, meter }),
      tracks: ['running'],
    },
  }),
  ...(['continue', 'fallback'] as const).map((kind, i) =>
    example({
      name: `pullMap-onerror-${kind}`,
      operator: 'pullMap',
      match: "pullMap(input, project, { onError: 'continue' })",
      ascii: { [i === 0 ? 'output' : 'output#2']: 'output' },
      options: {
        title: `pullMap([a, b, c], project, { onError: ${kind === 'continue' ? "'continue'" : "() => of('x')"} })`,
        notes: ['project: b\'s work errors after 1 frame ("-#"); the others emit after 3 ("---(x|)")'],
        run: ({ cold, mark, meter }) =>
          pullMap(
            pulledFrom(['a', 'b', 'c'], mark),
            (v) => (v === 'b' ? fails(cold, '-#') : upper(cold, 3)(v)),
            {
              onError: kind === 'continue' ? 'continue' : () => of('x'),
              meter,
            },
          ),
        tracks: ['running'],
      },
    }),
  ),
];

/**
 * A writable in virtual time: `write()` answers false once 2 values are buffered, which it then
 * flushes (`'drain'`) 5 frames later; `'finish'` comes 1 frame after `end()`.
 */
function virtualWritable({ scheduler, mark }: MarbleContext): WritableLike<string> {
  const listeners = new Map<string, ((...args: unknown[]) => void)[]>();
  const emit = (event: string): void => {
    const now = listeners.get(event) ?? [];
    listeners.delete(event);
    for (const listener of now) listener();
  };
  let buffered = 0;
  return {
    write(chunk) {
      mark('written', chunk);
      buffered++;
      if (buffered < 2) return true;
      scheduler.schedule(() => {
        buffered = 0;
        mark('drain', 'drain'); // D in the ASCII diagram
        emit('drain');
      }, 5);
      return false;
    },
    end() {
      scheduler.schedule(() => emit('finish'), 1);
    },
    once(event, listener) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    },
    removeListener(event, listener) {
      listeners.set(
        event,
        (listeners.get(event) ?? []).filter((l) => l !== listener),
      );
    },
  };
}

const sinks: DocExample[] = [
  example({
    name: 'writeTo',
    operator: 'writeTo',
    match: 'writeTo(writable, (demand$) => pullFrom([a, b, c, d, e], demand$))',
    jsdoc: true,
    ascii: { demand$: 'demand$', written: 'written', drain: 'drain', output: 'output' },
    options: {
      values: { D: 'drain' },
      title: 'writeTo(writable, (demand$) => pullFrom([a, b, c, d, e], demand$))',
      notes: [
        "writable: write() answers false with 2 values buffered; 'drain' 5 frames later; 'finish' 1 frame after end()",
      ],
      run: (context) =>
        writeTo(virtualWritable(context), (demand$) =>
          pullFrom(['a', 'b', 'c', 'd', 'e'], demand$.pipe(tap((n) => context.mark('demand$', n)))),
        ),
    },
  }),
];

const STATE_LETTER = { closed: 'c', open: 'o', 'half-open': 'h', isolated: 'i' } as const;
const breakers: DocExample[] = [
  example({
    name: 'circuitBreaker',
    operator: 'circuitBreaker',
    match: 'consecutiveFailures: 2, openDuration: 10',
    jsdoc: true,
    ascii: { calls: 'calls', 'protect?': 'protect', state$: 'state$' },
    options: {
      title: "breaker.protect(call, { onError: 'continue' })",
      notes: [
        'new CircuitBreaker({ consecutiveFailures: 2, openDuration: 10 }); x fails, o succeeds (O), each at once',
        'state$: c closed, o open, h half-open',
      ],
      inputs: { calls: '-x-x----------o--|' },
      run: ({ inputs }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 2, openDuration: 10 });
        const call = (v: string): Observable<string> =>
          v === 'x' ? throwError(() => new Error('down')) : of(v.toUpperCase());
        return {
          state$: breaker.state$.pipe(map(({ state }) => STATE_LETTER[state])),
          protect: (inputs.calls as Observable<string>).pipe(breaker.protect(call, { onError: 'continue' })),
        };
      },
    },
  }),
  example({
    name: 'circuitBreaker-drop',
    operator: 'circuitBreaker',
    match: "protect(call, { whenOpen: 'drop', onError: 'continue' })",
    page: false,
    jsdoc: true,
    ascii: SOURCE_OUTPUT,
    options: {
      title: "breaker.protect(call, { whenOpen: 'drop', onError: 'continue' })",
      notes: [
        "new CircuitBreaker({ consecutiveFailures: 1, openDuration: 5 }); a's call fails, the others succeed, each at once",
      ],
      inputs: { source: 'a-b-c-d-|' },
      run: ({ source, onDrop }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 5 });
        const call = (v: string): Observable<string> =>
          v === 'a' ? throwError(() => new Error('down')) : of(v.toUpperCase());
        return source.pipe(breaker.protect(call, { whenOpen: 'drop', onError: 'continue', onDrop }));
      },
    },
  }),
];

/** Every documented example, main ones first. */
export const EXAMPLES: readonly DocExample[] = [...buffers, ...buckets, ...pulls, ...sinks, ...breakers];
