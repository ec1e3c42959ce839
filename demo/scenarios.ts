import {
  concatMap,
  exhaustMap,
  type MonoTypeOperatorFunction,
  type Observable,
  type OperatorFunction,
} from 'rxjs';
import {
  bufferDropping,
  bufferFixed,
  bufferPriority,
  bufferSliding,
  leakyBucket,
  pullMap,
  tokenBucket,
  type DropReason,
  type OnDrop,
} from '../src/index.js';

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
  /** Virtual times (ms) at which the values reached the operator, or were pulled, in order. */
  arrivedAt: number[];
  /** Values the consumer finished (emitted downstream). */
  processed: number;
  /** Values discarded: reported to `onDrop`, or, for operators that report nothing, never started. */
  dropped: number;
  /** Most values waiting at once (arrived, not yet started, not dropped). */
  peakQueue: number;
  /** Most values held at once (arrived, not yet finished, not dropped): waiting or being worked on. */
  peakHeld: number;
  /** The last value the consumer finished, if any. */
  lastProcessed: number | undefined;
  /** `'completed'` or `'errored'`. */
  outcome: 'completed' | 'errored';
  /** Virtual time of the completion or error, in ms. */
  endedAt: number;
  /** The error's name and message when the run errored. */
  error?: string;
}

interface ScenarioBase {
  /** The code as a user would write it; the first column of the table. */
  label: string;
  /** One or two sentences for the explanation under the table, from this row's figures. */
  explain: (row: RowResult) => string;
}

/** A row in which the bursty producer pushes its values into an operator. */
export interface PushScenario extends ScenarioBase {
  kind: 'push';
  /**
   * Builds the operator around the consumer. `onDrop` counts discarded values; operators without
   * drop reporting ignore it (their drops are inferred, see {@link RowResult.dropped}).
   */
  operator: (consume: Consume, onDrop: OnDrop<number>) => OperatorFunction<number, number>;
}

/**
 * A row in which the same values come from a generator that is pulled on demand: it has no
 * schedule of its own, it hands over a value whenever it is asked for one.
 */
export interface PullScenario extends ScenarioBase {
  kind: 'pull';
  /** Builds the pipeline from the producer (a generator of the workload's values) and the consumer. */
  pipeline: (producer: Iterable<number>, consume: Consume) => Observable<number>;
}

export type Scenario = PushScenario | PullScenario;

/**
 * The rows of the demo's first table, in order. A new operator is one more entry here.
 */
export const scenarios: Scenario[] = [
  {
    kind: 'push',
    label: 'concatMap(consume)',
    operator: (consume) => concatMap(consume),
    explain: (r) =>
      `concatMap processes every value, but its hidden queue grows with each burst the consumer ` +
      `cannot absorb (peak ${r.peakQueue}) and the last value is only done at ${r.endedAt} ms.`,
  },
  {
    kind: 'push',
    label: 'exhaustMap(consume)',
    operator: (consume) => exhaustMap(consume),
    explain: (r) =>
      `exhaustMap never queues: it processes the first value of each burst and silently ignores ` +
      `the other ${r.dropped}, including the latest one.`,
  },
  {
    kind: 'push',
    label: 'bufferFixed(4, consume)',
    operator: (consume, onDrop) => bufferFixed(4, consume, { onDrop }),
    explain: (r) =>
      `bufferFixed(4) refuses to lose data quietly: the first burst overflows its 4 places, so the ` +
      `stream errors with BufferOverflowError at ${r.endedAt} ms after reporting the overflowing ` +
      `value and the ${r.dropped - 1} queued ones to onDrop; the ` +
      `${r.arrived - r.processed - r.dropped} value in progress is abandoned and the source unsubscribed.`,
  },
  {
    kind: 'push',
    label: 'bufferFixed(16, consume)',
    operator: (consume, onDrop) => bufferFixed(16, consume, { onDrop }),
    explain: (r) =>
      `bufferFixed(16) is concatMap with a stated limit: the peak of ${r.peakQueue} fits, so it ` +
      `processes everything, and a bigger burst would fail loudly instead of growing memory.`,
  },
  {
    kind: 'push',
    label: 'bufferDropping(2, consume)',
    operator: (consume, onDrop) => bufferDropping(2, consume, { onDrop }),
    explain: (r) =>
      `bufferDropping(2) keeps the first two waiting values of each burst and reports the ` +
      `${r.dropped} later arrivals to onDrop; it finishes early but its last value is ${r.lastProcessed ?? 'none'}.`,
  },
  {
    kind: 'push',
    label: 'bufferSliding(2, consume)',
    operator: (consume, onDrop) => bufferSliding(2, consume, { onDrop }),
    explain: (r) =>
      `bufferSliding(2) evicts the oldest waiting value instead, so it does the same amount of ` +
      `work but always ends on the freshest data (last value ${r.lastProcessed ?? 'none'}), ` +
      `which is what "exhaustMap with trailing" asks for.`,
  },
  {
    kind: 'pull',
    label: 'pullMap(producer(), consume)',
    pipeline: (producer, consume) => pullMap(producer, consume, { concurrency: 1 }),
    explain: (r) =>
      `pullMap changes the producer instead of the buffer: the same ${r.arrived} values come from a ` +
      `generator that is asked for the next one only when the consumer is free, so ${r.processed} ` +
      `are processed, ${r.dropped} dropped, ${r.peakQueue} ever wait and at most ${r.peakHeld} is ` +
      `held at a time (pulled and not finished: its concurrency of 1), finishing at ${r.endedAt} ms ` +
      `like concatMap.`,
  },
];

/**
 * The API limit of the second table: a token bucket of 4 calls refilled with one call every 4 ms,
 * i.e. 250 calls/s sustained (10 per 40 ms, more than the producer's 8) with bursts of up to 4.
 */
export const apiLimit = {
  limit: { capacity: 4, tokensPerInterval: 1, interval: 4 },
  describe: 'one call per 4 ms sustained (250 calls/s, 10 per 40 ms), bursts of up to 4 calls',
  code: 'const api = { capacity: 4, tokensPerInterval: 1, interval: 4 };',
};

/** What one run of the producer through a rate limiter produced, as shown in the second table. */
export interface RateLimitResult {
  /** Values that reached the limiter. */
  arrived: number;
  /** Values the limiter let through (the calls made). */
  passed: number;
  /** Values reported to `onDrop`, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** Values that passed later than they arrived. */
  delayed: number;
  /** Longest time (ms) a value that passed spent in the limiter. */
  worstDelay: number;
  /** Most values waiting in the limiter at once. */
  peakWaiting: number;
  /** Calls that an API enforcing {@link apiLimit} would refuse (checked by the demo, not the library). */
  overLimit: number;
  /** The last value let through, if any. */
  lastPassed: number | undefined;
  /** Virtual time (ms) of the last value let through. */
  lastPassedAt: number | undefined;
  outcome: 'completed' | 'errored';
  /** Virtual time of the completion or error, in ms. */
  endedAt: number;
  /** The error's name and message when the run errored. */
  error?: string;
}

export interface RateLimitScenario {
  /** Short name; the first column of the table. */
  label: string;
  /** The code, shown under the table (with `api` from {@link apiLimit}). */
  code: string;
  limiter: (onDrop: OnDrop<number>) => MonoTypeOperatorFunction<number>;
  /** One sentence for the explanation under the table, from this row's figures. */
  explain: (row: RateLimitResult) => string;
}

/** The rows of the demo's second table, in order. */
export const rateLimitScenarios: RateLimitScenario[] = [
  {
    label: 'no limiter',
    code: 'source (every value is a call at once)',
    limiter: () => (source) => source,
    explain: (r) =>
      `Without a limiter every value is a call at once: ${r.passed} calls, of which ${r.overLimit} ` +
      `exceed the limit and would be refused by the API (HTTP 429), after the work of sending them.`,
  },
  {
    label: 'tokenBucket shape',
    code: "tokenBucket({ ...api, queueCapacity: 8, overflow: 'error' })",
    limiter: (onDrop) => tokenBucket({ ...apiLimit.limit, queueCapacity: 8, overflow: 'error', onDrop }),
    explain: (r) =>
      `tokenBucket in shape mode makes all ${r.passed} calls and none over the limit: ` +
      `${r.passed - r.delayed} go at once (the stored burst plus the tokens earned meanwhile), ` +
      `${r.delayed} wait for their token, up to ${r.worstDelay} ms and at most ${r.peakWaiting} at a ` +
      `time (${r.peakWaiting < 8 ? 'its queue of 8 never fills; a' : 'a'} backlog of more than 8 ` +
      `would error instead of growing), so the last call leaves at ${r.lastPassedAt ?? '-'} ms.`,
  },
  {
    label: 'tokenBucket police',
    code: "tokenBucket({ ...api, mode: 'police' })",
    limiter: (onDrop) => tokenBucket({ ...apiLimit.limit, mode: 'police', onDrop }),
    explain: (r) =>
      `In police mode nothing waits: the ${r.passed} values that find a token are called at once ` +
      `and the ${r.dropped.rejected ?? 0} others are reported 'rejected' to onDrop before any call ` +
      `is made, instead of being refused by the API.`,
  },
  {
    label: 'leakyBucket',
    code: 'leakyBucket({ interval: 4, capacity: 4 })',
    limiter: (onDrop) => leakyBucket({ interval: 4, capacity: 4, onDrop }),
    explain: (r) =>
      `leakyBucket allows no burst at all, one call every 4 ms: with 4 places to wait it passes ` +
      `${r.passed}, reports the ${r.dropped.overflow ?? 0} arrivals that find the queue full as ` +
      `'overflow' and delays ${r.delayed} by up to ${r.worstDelay} ms, ending at ${r.endedAt} ms; ` +
      `it never uses the burst the API would allow.`,
  },
];

/** The two classes of requests in the third table. */
export type RequestClass = 'checkout' | 'analytics';

/**
 * The third table's workload: a steady overload of two classes of requests, each request a number
 * (1, 2, 3, …, in arrival order) whose class is {@link DegradationWorkload.classOf}.
 */
export interface DegradationWorkload {
  /** Requests sent, one every `everyMs`, the first at 0 ms. */
  count: number;
  everyMs: number;
  classOf: (request: number) => RequestClass;
  /** Virtual milliseconds the consumer spends on each request, one request at a time. */
  consumeMs: number;
  describeProducer: string;
  describeClasses: string;
  describeConsumer: string;
}

export const degradationWorkload: DegradationWorkload = {
  count: 60,
  everyMs: 5,
  classOf: (request) => (request % 3 === 1 ? 'checkout' : 'analytics'),
  consumeMs: 10,
  describeProducer: '60 requests, one every 5 ms (200/s); one in three is a checkout (1, 4, 7, …)',
  describeClasses: 'the others are analytics pings; priority: checkout 2, analytics 1',
  describeConsumer: '10 ms per request, one at a time (100/s): half of what arrives',
};

/** What happened to the requests of one class in one row of the third table. */
export interface ClassResult {
  arrived: number;
  /** Requests the consumer finished. */
  processed: number;
  /** Requests reported to `onDrop`, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** Longest time (ms) a processed request waited between its arrival and the start of its work. */
  worstWait: number;
}

/** One row of the third table: the figures per class, and how the run ended. */
export interface DegradationResult {
  byClass: Record<RequestClass, ClassResult>;
  outcome: 'completed' | 'errored';
  /** Virtual time of the completion or error, in ms. */
  endedAt: number;
  /** The error's name and message when the run errored. */
  error?: string;
}

export interface DegradationScenario {
  /** Short name; the first column of the table. */
  label: string;
  /** The code, shown under the table (with `priority` from {@link priorityOf}). */
  code: string;
  /** Builds the operator around the consumer; `priority` ranks checkouts above analytics pings. */
  operator: (
    consume: Consume,
    onDrop: OnDrop<number>,
    priority: (request: number) => number,
  ) => OperatorFunction<number, number>;
  /** One or two sentences for the explanation under the table, from this row's figures. */
  explain: (result: DegradationResult) => string;
}

/** `priority` of the third table: checkouts 2, analytics pings 1 (higher is more important). */
export const priorityOf =
  (workload: DegradationWorkload) =>
  (request: number): number =>
    workload.classOf(request) === 'checkout' ? 2 : 1;

const lost = (c: ClassResult): number => c.arrived - c.processed;

/** The rows of the demo's third table, in order. */
export const degradationScenarios: DegradationScenario[] = [
  {
    label: 'bufferFixed',
    code: 'bufferFixed(64, consume)',
    operator: (consume, onDrop) => bufferFixed(64, consume, { onDrop }),
    explain: ({ byClass: { checkout, analytics }, endedAt }) =>
      `bufferFixed(64) keeps every request (its queue never fills), so the backlog only grows: ` +
      `checkouts wait up to ${checkout.worstWait} ms and analytics pings up to ` +
      `${analytics.worstWait} ms, and the last request is done at ${endedAt} ms, long after the ` +
      `clients that sent them would have given up.`,
  },
  {
    label: 'bufferFixed + ttl',
    code: 'bufferFixed(64, consume, { ttl: 50 })',
    operator: (consume, onDrop) => bufferFixed(64, consume, { ttl: 50, onDrop }),
    explain: ({ byClass: { checkout, analytics }, endedAt }) =>
      `With ttl: 50 no request starts more than 50 ms after it arrived: what could not start in ` +
      `time is reported 'expired' instead of being served late, and the run ends at ${endedAt} ms. ` +
      `But the queue does not know which requests matter: ${lost(checkout)} of the ` +
      `${checkout.arrived} checkouts expire, with ${lost(analytics)} analytics pings.`,
  },
  {
    label: 'bufferPriority + ttl',
    code: 'bufferPriority(4, consume, { priority, ttl: 50 })',
    operator: (consume, onDrop, priority) => bufferPriority(4, consume, { priority, ttl: 50, onDrop }),
    explain: ({ byClass: { checkout, analytics } }) =>
      `bufferPriority always starts a waiting checkout first. When its 4 places are full, an ` +
      `arriving checkout sheds the oldest waiting analytics ping, and an arriving ping is shed ` +
      `itself (nothing waiting ranks below it). All ${checkout.processed} checkouts are processed, ` +
      `none waiting more than ${checkout.worstWait} ms; the spare time goes to ` +
      `${analytics.processed} analytics pings, and the other ${lost(analytics)} are reported ` +
      `'shed' (${analytics.dropped.shed ?? 0}) or 'expired' (${analytics.dropped.expired ?? 0}).`,
  },
];
