// The playground's engine: runs a real operator of rxjs-backpressure on a marble string in virtual
// time (recordMarbles, from rxjs-backpressure/testing) and draws the run with renderMarbleSvg, the
// renderer of the library's docs/diagrams. Pure: no Angular, no real timer.
import type { Observable } from 'rxjs';
import {
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferSliding,
  leakyBucket,
  tokenBucket,
  type OverflowStrategy,
} from 'rxjs-backpressure';
import {
  recordMarbles,
  renderMarbleSvg,
  type MarbleContext,
  type MarbleDiagram,
  type MarbleTrackKind,
} from 'rxjs-backpressure/testing';

export const OPERATORS = [
  'bufferSliding',
  'bufferDropping',
  'bufferFixed',
  'bufferBounded',
  'tokenBucket',
  'leakyBucket',
] as const;
export type PlaygroundOperator = (typeof OPERATORS)[number];

export const STRATEGIES: readonly OverflowStrategy[] = [
  'drop-incoming',
  'drop-oldest',
  'drop-newest-queued',
  'drop-queue',
  'error',
];

export interface PlaygroundSettings {
  operator: PlaygroundOperator;
  /** The source, as a marble string (`TestScheduler.run` syntax, 1 frame = 1 ms). */
  source: string;
  /** Buffers: values allowed to wait. tokenBucket: the bucket's size. leakyBucket: values allowed to wait. */
  capacity: number;
  /** Buffers: `project` calls at once. */
  concurrency: number;
  /** Buffers: frames each `project` call takes (it emits the value in upper case, then completes). */
  work: number;
  /** bufferBounded and leakyBucket. */
  overflow: OverflowStrategy;
  /** The buckets: ms (frames) per interval. */
  interval: number;
  /** tokenBucket. */
  tokensPerInterval: number;
  /** tokenBucket, shape mode: values allowed to wait for tokens. */
  queueCapacity: number;
  /** tokenBucket. */
  mode: 'shape' | 'police';
}

export const DEFAULT_SETTINGS: PlaygroundSettings = {
  operator: 'bufferSliding',
  source: '-a-b-c-d-------|',
  capacity: 1,
  concurrency: 1,
  work: 4,
  overflow: 'drop-oldest',
  interval: 4,
  tokensPerInterval: 1,
  queueCapacity: 2,
  mode: 'shape',
};

/** Which settings an operator reads (the page shows only those). */
export const SETTINGS_OF: Readonly<Record<PlaygroundOperator, readonly (keyof PlaygroundSettings)[]>> = {
  bufferSliding: ['capacity', 'concurrency', 'work'],
  bufferDropping: ['capacity', 'concurrency', 'work'],
  bufferFixed: ['capacity', 'concurrency', 'work'],
  bufferBounded: ['capacity', 'overflow', 'concurrency', 'work'],
  tokenBucket: ['capacity', 'tokensPerInterval', 'interval', 'mode', 'queueCapacity'],
  leakyBucket: ['interval', 'capacity', 'overflow'],
};

export interface PlaygroundResult {
  /** The call, as code. */
  title: string;
  /** What was recorded; undefined when the settings are invalid. */
  diagram?: MarbleDiagram;
  /** The diagram drawn as SVG. */
  svg?: string;
  /** Why nothing could be run (a bad marble string, an option out of range). */
  error?: string;
}

/** Runs the operator the settings describe on their source, in virtual time. */
export function runPlayground(settings: PlaygroundSettings): PlaygroundResult {
  const { title, notes, tracks, build } = describe(settings);
  try {
    const diagram = recordMarbles({
      title,
      notes,
      inputs: { source: settings.source },
      run: build,
      tracks,
      showDrops: true,
      maxFrames: 500,
    });
    return { title, diagram, svg: renderMarbleSvg(diagram) };
  } catch (err) {
    return { title, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The labels of a lane's values, with their frames: `A@4`. */
export function laneValues(diagram: MarbleDiagram, name: string): string[] {
  const lane = diagram.lanes.find((l) => l.name === name);
  return (lane?.events ?? []).flatMap((e) => (e.kind === 'next' ? [`${e.label}@${e.frame}`] : []));
}

interface Description {
  title: string;
  notes: string[];
  tracks: MarbleTrackKind[];
  build: (context: MarbleContext) => Observable<unknown>;
}

function describe(s: PlaygroundSettings): Description {
  const work = Math.max(0, Math.floor(s.work));
  const project =
    ({ cold }: MarbleContext) =>
    (v: string) =>
      cold(`${'-'.repeat(work)}(x|)`, { x: v.toUpperCase() });
  const notes = [
    `project: each value takes ${work} frame${work === 1 ? '' : 's'} and emits it in upper case`,
  ];
  const concurrency = s.concurrency === 1 ? '' : `, { concurrency: ${s.concurrency} }`;
  switch (s.operator) {
    case 'bufferSliding':
    case 'bufferDropping':
    case 'bufferFixed': {
      const op = { bufferSliding, bufferDropping, bufferFixed }[s.operator];
      return {
        title: `${s.operator}(${s.capacity}, project${concurrency})`,
        notes,
        tracks: ['waiting'],
        build: (c) =>
          c.source.pipe(
            op(s.capacity, project(c), { concurrency: s.concurrency, onDrop: c.onDrop, meter: c.meter }),
          ),
      };
    }
    case 'bufferBounded':
      return {
        title: `bufferBounded(${s.capacity}, project, { overflow: '${s.overflow}'${concurrency ? `, concurrency: ${s.concurrency}` : ''} })`,
        notes,
        tracks: ['waiting'],
        build: (c) =>
          c.source.pipe(
            bufferBounded(s.capacity, project(c), {
              overflow: s.overflow,
              concurrency: s.concurrency,
              onDrop: c.onDrop,
              meter: c.meter,
            }),
          ),
      };
    case 'tokenBucket': {
      const queue = s.mode === 'shape' ? `, queueCapacity: ${s.queueCapacity}` : '';
      return {
        title: `tokenBucket({ capacity: ${s.capacity}, tokensPerInterval: ${s.tokensPerInterval}, interval: ${s.interval}, mode: '${s.mode}'${queue} })`,
        notes: [],
        tracks: ['tokens'],
        build: (c) =>
          c.source.pipe(
            tokenBucket({
              capacity: s.capacity,
              tokensPerInterval: s.tokensPerInterval,
              interval: s.interval,
              mode: s.mode,
              ...(s.mode === 'shape' ? { queueCapacity: s.queueCapacity } : {}),
              scheduler: c.scheduler,
              onDrop: c.onDrop,
              meter: c.meter,
            }),
          ),
      };
    }
    case 'leakyBucket':
      return {
        title: `leakyBucket({ interval: ${s.interval}, capacity: ${s.capacity}, overflow: '${s.overflow}' })`,
        notes: [],
        tracks: ['waiting'],
        build: (c) =>
          c.source.pipe(
            leakyBucket({
              interval: s.interval,
              capacity: s.capacity,
              overflow: s.overflow,
              scheduler: c.scheduler,
              onDrop: c.onDrop,
              meter: c.meter,
            }),
          ),
      };
  }
}
