import { concatMap, exhaustMap, type Observable, type OperatorFunction } from 'rxjs';
import { bufferDropping, bufferFixed, bufferSliding, type OnDrop } from '../src/index.js';

/**
 * The demo's workload: one bursty producer and one slow consumer, in virtual time.
 *
 * The producer is a hot marble diagram (one character per virtual millisecond); each letter is a
 * value, `a` = 1, `b` = 2, and so on, so values also give their arrival order.
 */
export const workload = {
  /** Three bursts of eight values, one value per millisecond, a burst every 40 ms. */
  producer: 'abcdefgh 32ms ijklmnop 32ms qrstuvwx|',
  /** `a` = 1, `b` = 2, … `x` = 24. */
  values: Object.fromEntries(Array.from({ length: 24 }, (_, i) => [String.fromCharCode(97 + i), i + 1])),
  describeProducer: '3 bursts of 8 values (1 ms apart), one burst every 40 ms: values 1 to 24',
  /** Virtual milliseconds the consumer spends on each value, one value at a time. */
  consumeMs: 10,
  describeConsumer: '10 ms per value, one value at a time (4 values per gap between bursts)',
};

/** The slow consumer: emits the value when its work is done. */
export type Consume = (value: number) => Observable<number>;

/** What one run through an operator produced, as shown in the table. */
export interface RowResult {
  /** Values that reached the operator (fewer than the producer's when the operator errored). */
  arrived: number;
  /** Values the consumer finished (emitted downstream). */
  processed: number;
  /** Values discarded: reported to `onDrop`, or, for operators that report nothing, never started. */
  dropped: number;
  /** Most values waiting at once (arrived, not yet started, not dropped). */
  peakQueue: number;
  /** The last value the consumer finished, if any. */
  lastProcessed: number | undefined;
  /** `'completed'` or `'errored'`. */
  outcome: 'completed' | 'errored';
  /** Virtual time of the completion or error, in ms. */
  endedAt: number;
  /** The error's name and message when the run errored. */
  error?: string;
}

export interface Scenario {
  /** The operator as a user would write it; the first column of the table. */
  label: string;
  /**
   * Builds the operator around the consumer. `onDrop` counts discarded values; operators without
   * drop reporting ignore it (their drops are inferred, see {@link RowResult.dropped}).
   */
  operator: (consume: Consume, onDrop: OnDrop<number>) => OperatorFunction<number, number>;
  /** One or two sentences for the explanation under the table, from this row's figures. */
  explain: (row: RowResult) => string;
}

/**
 * The rows of the demo's table, in order. A new operator is one more entry here.
 */
export const scenarios: Scenario[] = [
  {
    label: 'concatMap(consume)',
    operator: (consume) => concatMap(consume),
    explain: (r) =>
      `concatMap processes every value, but its hidden queue grows with each burst the consumer ` +
      `cannot absorb (peak ${r.peakQueue}) and the last value is only done at ${r.endedAt} ms.`,
  },
  {
    label: 'exhaustMap(consume)',
    operator: (consume) => exhaustMap(consume),
    explain: (r) =>
      `exhaustMap never queues: it processes the first value of each burst and silently ignores ` +
      `the other ${r.dropped}, including the latest one.`,
  },
  {
    label: 'bufferFixed(4, consume)',
    operator: (consume, onDrop) => bufferFixed(4, consume, { onDrop }),
    explain: (r) =>
      `bufferFixed(4) refuses to lose data quietly: the first burst overflows its 4 places, so the ` +
      `stream errors with BufferOverflowError at ${r.endedAt} ms after reporting the overflowing ` +
      `value and the ${r.dropped - 1} queued ones to onDrop; the ` +
      `${r.arrived - r.processed - r.dropped} value in progress is abandoned and the source unsubscribed.`,
  },
  {
    label: 'bufferFixed(16, consume)',
    operator: (consume, onDrop) => bufferFixed(16, consume, { onDrop }),
    explain: (r) =>
      `bufferFixed(16) is concatMap with a stated limit: the peak of ${r.peakQueue} fits, so it ` +
      `processes everything, and a bigger burst would fail loudly instead of growing memory.`,
  },
  {
    label: 'bufferDropping(2, consume)',
    operator: (consume, onDrop) => bufferDropping(2, consume, { onDrop }),
    explain: (r) =>
      `bufferDropping(2) keeps the first two waiting values of each burst and reports the ` +
      `${r.dropped} later arrivals to onDrop; it finishes early but its last value is ${r.lastProcessed ?? 'none'}.`,
  },
  {
    label: 'bufferSliding(2, consume)',
    operator: (consume, onDrop) => bufferSliding(2, consume, { onDrop }),
    explain: (r) =>
      `bufferSliding(2) evicts the oldest waiting value instead, so it does the same amount of ` +
      `work but always ends on the freshest data (last value ${r.lastProcessed ?? 'none'}), ` +
      `which is what "exhaustMap with trailing" asks for.`,
  },
];
