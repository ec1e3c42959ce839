import { Subject, type Observable, type ObservableInput, type OperatorFunction } from 'rxjs';
import {
  type AdaptiveCapacity,
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferPriority,
  bufferSliding,
  ManualTimeScheduler,
  type BufferOptions,
  type DropReason,
} from 'rxjs-backpressure';
import { recordDrops, type DropRecorder } from './marbles';

/** Options any of the five buffers takes here; `priority` is used by `bufferPriority` only. */
export type AnyBufferOptions<T, R> = BufferOptions<T, R> & { priority?: (value: T) => number };

/** One of the queueing buffers, made the same way for table-driven tests. */
export interface BufferCase {
  /** Shown in test names. */
  label: string;
  /** The operator's name, as its error messages give it. */
  operator: string;
  /** What a full queue does with an arrival; `'priority'` with equal priorities sheds the arrival. */
  overflow: 'error' | 'drop-incoming' | 'drop-oldest' | 'drop-newest-queued' | 'drop-queue' | 'priority';
  /** The reason a full queue gives to what it discards. */
  dropReason: DropReason;
  make<T, R>(
    capacity: number | Observable<number> | AdaptiveCapacity,
    project: (value: T, index: number) => ObservableInput<R>,
    options?: AnyBufferOptions<T, R>,
  ): OperatorFunction<T, R>;
}

/** The options without `priority`, for the buffers that have no such option. */
function plain<T, R>(options: AnyBufferOptions<T, R> | undefined): BufferOptions<T, R> | undefined {
  if (!options || !('priority' in options)) return options;
  const rest = { ...options };
  delete rest.priority;
  return rest;
}

/**
 * Every buffer that queues, in one table. `bufferPriority` gets priority 0 for all unless told; the
 * others ignore `priority`.
 */
export const BUFFERS: readonly BufferCase[] = [
  {
    label: 'bufferFixed',
    operator: 'bufferFixed',
    overflow: 'error',
    dropReason: 'overflow',
    make: (capacity, project, options) => bufferFixed(capacity, project, plain(options)),
  },
  {
    label: 'bufferDropping',
    operator: 'bufferDropping',
    overflow: 'drop-incoming',
    dropReason: 'overflow',
    make: (capacity, project, options) => bufferDropping(capacity, project, plain(options)),
  },
  {
    label: 'bufferSliding',
    operator: 'bufferSliding',
    overflow: 'drop-oldest',
    dropReason: 'overflow',
    make: (capacity, project, options) => bufferSliding(capacity, project, plain(options)),
  },
  {
    label: "bufferBounded 'drop-newest-queued'",
    operator: 'bufferBounded',
    overflow: 'drop-newest-queued',
    dropReason: 'overflow',
    make: (capacity, project, options) =>
      bufferBounded(capacity, project, { ...plain(options), overflow: 'drop-newest-queued' }),
  },
  {
    label: "bufferBounded 'drop-queue'",
    operator: 'bufferBounded',
    overflow: 'drop-queue',
    dropReason: 'overflow',
    make: (capacity, project, options) =>
      bufferBounded(capacity, project, { ...plain(options), overflow: 'drop-queue' }),
  },
  {
    label: 'bufferPriority',
    operator: 'bufferPriority',
    overflow: 'priority',
    dropReason: 'shed',
    make: (capacity, project, options) =>
      bufferPriority(capacity, project, { priority: () => 0, ...options }),
  },
];

/** The four buffers the issue names plus `bufferPriority` (no duplicate of `bufferBounded`). */
export const NAMED_BUFFERS: readonly BufferCase[] = BUFFERS.filter((b) => b.overflow !== 'drop-queue');

/**
 * A buffer driven by hand on a {@link ManualTimeScheduler}: the source is a Subject, each inner is a
 * Subject the test finishes (`finish`) or fails (`fail`); nothing else uses the scheduler, so
 * `scheduler.pendingCount` counts the operator's own actions.
 */
export interface Driven {
  scheduler: ManualTimeScheduler;
  source: Subject<string>;
  /** `[value, index, now()]` for every call of project. */
  started: [string, number, number][];
  /** Values whose inner runs now. */
  readonly running: string[];
  drops: DropRecorder<string>;
  out: string[];
  /** How the output ended, if it did. */
  ended: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;
  /** The inner of `value` emits `value` and completes. */
  finish(value: string): void;
  /** The inner of `value` errors. */
  fail(value: string, error?: unknown): void;
  unsubscribe(): void;
}

export function drive(
  buffer: BufferCase,
  capacity: number | Observable<number> | AdaptiveCapacity,
  options: AnyBufferOptions<string, string> = {},
  scheduler = new ManualTimeScheduler(),
): Driven {
  const source = new Subject<string>();
  const inners = new Map<string, Subject<string>>();
  const started: [string, number, number][] = [];
  const drops = recordDrops<string>(scheduler);
  const out: string[] = [];
  const driven: Driven = {
    scheduler,
    source,
    started,
    get running() {
      return [...inners.entries()].filter(([, s]) => s.observed).map(([v]) => v);
    },
    drops,
    out,
    ended: undefined,
    finish(value) {
      const inner = inners.get(value);
      if (!inner) throw new Error(`${value} never started`);
      inner.next(value);
      inner.complete();
    },
    fail(value, error = new Error(`${value} failed`)) {
      const inner = inners.get(value);
      if (!inner) throw new Error(`${value} never started`);
      inner.error(error);
    },
    unsubscribe() {
      subscription.unsubscribe();
    },
  };
  const project = (value: string, index: number): Observable<string> => {
    started.push([value, index, scheduler.now()]);
    const inner = new Subject<string>();
    inners.set(value, inner);
    return inner;
  };
  const subscription = source
    .pipe(buffer.make(capacity, project, { scheduler, onDrop: drops.onDrop, ...options }))
    .subscribe({
      next: (v) => out.push(v),
      error: (error: unknown) => (driven.ended = { kind: 'error', error }),
      complete: () => (driven.ended = { kind: 'complete' }),
    });
  return driven;
}
