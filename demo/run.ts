import { map, take, tap, timer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { DropReason } from '../src/index.js';
import {
  priorityOf,
  type ClassResult,
  type DegradationResult,
  type DegradationScenario,
  type DegradationWorkload,
  type RateLimitResult,
  type RateLimitScenario,
  type RequestClass,
  type RowResult,
  type Scenario,
} from './scenarios.js';

export interface Workload {
  /** Hot marble diagram of the producer. */
  producer: string;
  /** The value behind each letter of the diagram. */
  values: Record<string, number>;
  consumeMs: number;
}

/** A token bucket limit, as the API enforces it. */
export interface ApiLimit {
  capacity: number;
  tokensPerInterval: number;
  interval: number;
}

/** Per value: the event counter reading when it arrived, started (or passed), finished and was dropped. */
interface Life {
  arrived: number;
  started?: number;
  finished?: number;
  dropped?: number;
}

/**
 * Follows every value through one run and measures the queue the same way for every row: after the
 * operator has handled an arrival, the values that have arrived but have neither started (or passed)
 * nor been dropped are waiting. Events are ordered by a counter, since many share a virtual millisecond.
 */
class Lives {
  private readonly lives: Life[] = [];
  private readonly samples: number[] = [];
  private clock = 0;
  private readonly starts: number[] = [];

  arrive(value: number): void {
    this.lives[value] = { arrived: this.clock++ };
  }

  start(value: number): void {
    const at = this.clock++;
    this.life(value).started = at;
    this.starts.push(at);
  }

  finish(value: number): void {
    this.life(value).finished = this.clock++;
  }

  drop(value: number): void {
    this.life(value).dropped = this.clock++;
  }

  /** Call when the operator has dealt with the latest arrival. */
  sample(): void {
    this.samples.push(this.clock++);
  }

  /**
   * The values seen, once the run is over. A value that neither started nor was reported dropped
   * counts as dropped on arrival (operators that report nothing ignore a value when it arrives).
   */
  seen(): Life[] {
    const seen = this.lives.filter((l): l is Life => l !== undefined);
    for (const l of seen) {
      if (l.started === undefined && l.dropped === undefined) l.dropped = l.arrived;
    }
    return seen;
  }

  peakWaiting(): number {
    const seen = this.seen();
    const by = (event: number | undefined, t: number) => event !== undefined && event <= t;
    const waitingAt = (t: number) =>
      seen.filter((l) => by(l.arrived, t) && !by(l.started, t) && !by(l.dropped, t)).length;
    return Math.max(0, ...this.samples.map(waitingAt));
  }

  /** Most values held at once (arrived, not yet finished nor dropped), after arrivals and starts. */
  peakHeld(): number {
    const seen = this.seen();
    const by = (event: number | undefined, t: number) => event !== undefined && event <= t;
    const heldAt = (t: number) =>
      seen.filter((l) => by(l.arrived, t) && !by(l.finished, t) && !by(l.dropped, t)).length;
    return Math.max(0, ...[...this.samples, ...this.starts].map(heldAt));
  }

  private life(value: number): Life {
    const found = this.lives[value];
    if (!found) throw new Error(`demo: value ${value} was not seen arriving`);
    return found;
  }
}

/** How a run ended. */
export interface Ending {
  outcome: 'completed' | 'errored';
  endedAt: number;
  error?: string;
}

/**
 * Runs `body` in virtual time: an rxjs `TestScheduler` in run mode, in which timers advance instantly
 * and in a fixed order (the default `asyncScheduler` of the library's operators included), so every
 * run gives the same table. `body` subscribes and returns a function that reads how the run ended.
 */
export function inVirtualTime(
  label: string,
  body: (
    scheduler: TestScheduler,
    hot: (marbles: string, values: Record<string, number>) => Observable<number>,
  ) => () => Ending | undefined,
): Ending {
  const scheduler = new TestScheduler(() => {
    // No expectations are made: the comparator is never used.
  });
  let ended: () => Ending | undefined = () => undefined;
  scheduler.run(({ hot }) => {
    ended = body(scheduler, hot);
  });
  const ending = ended();
  if (!ending) throw new Error(`demo: ${label} neither completed nor errored`);
  return ending;
}

const describeError = (err: unknown): string =>
  err instanceof Error ? `${err.name}: ${err.message}` : String(err);

/**
 * Runs the workload through one row of the first table. A push row feeds the hot producer into the
 * row's operator around the consumer; a pull row hands the row a generator of the same values that
 * records when it is asked for each one. The figures are measured the same way for both.
 */
export function runScenario(scenario: Scenario, workload: Workload): RowResult {
  const lives = new Lives();
  const arrivedAt: number[] = [];
  let processed = 0;
  let lastProcessed: number | undefined;

  const ending = inVirtualTime(scenario.label, (scheduler, hot) => {
    let ending: Ending | undefined;
    const consume = (value: number) => {
      lives.start(value);
      return timer(workload.consumeMs).pipe(map(() => value));
    };
    const arrive = (value: number) => {
      lives.arrive(value);
      arrivedAt.push(scheduler.now());
    };

    let output: Observable<number>;
    let afterSubscribe = () => {};
    if (scenario.kind === 'push') {
      const source = hot(workload.producer, workload.values);
      output = source.pipe(
        tap(arrive),
        scenario.operator(consume, (value) => lives.drop(value)),
      );
      // Subscribed second, so it sees each value after the operator has dealt with it.
      afterSubscribe = () => source.subscribe(() => lives.sample());
    } else {
      const values = Object.values(workload.values).sort((a, b) => a - b);
      const producer = function* (): Generator<number> {
        for (const value of values) {
          arrive(value);
          yield value;
          // Resumed when asked for the next value: the pipeline has dealt with this one.
          lives.sample();
        }
      };
      output = scenario.pipeline(producer(), consume);
    }
    output.subscribe({
      next: (value) => {
        lives.finish(value);
        processed++;
        lastProcessed = value;
      },
      error: (err: unknown) => {
        ending = { outcome: 'errored', endedAt: scheduler.now(), error: describeError(err) };
      },
      complete: () => {
        ending = { outcome: 'completed', endedAt: scheduler.now() };
      },
    });
    afterSubscribe();
    return () => ending;
  });

  const seen = lives.seen();
  return {
    arrived: seen.length,
    arrivedAt,
    processed,
    dropped: seen.filter((l) => l.started === undefined).length,
    peakQueue: lives.peakWaiting(),
    peakHeld: lives.peakHeld(),
    lastProcessed,
    ...ending,
  };
}

/**
 * Runs the workload's producer through one rate limiter (no consumer: each value let through is a
 * call to the API), and checks the calls against the API's limit.
 */
export function runRateLimit(
  scenario: RateLimitScenario,
  workload: Workload,
  limit: ApiLimit,
): RateLimitResult {
  const lives = new Lives();
  const arrivedAt = new Map<number, number>();
  const calls: { value: number; at: number }[] = [];
  const dropped: Partial<Record<DropReason, number>> = {};

  const ending = inVirtualTime(scenario.label, (scheduler, hot) => {
    let ending: Ending | undefined;
    const source = hot(workload.producer, workload.values);
    source
      .pipe(
        tap((value) => {
          lives.arrive(value);
          arrivedAt.set(value, scheduler.now());
        }),
        scenario.limiter((value, reason) => {
          lives.drop(value);
          dropped[reason] = (dropped[reason] ?? 0) + 1;
        }),
      )
      .subscribe({
        next: (value) => {
          lives.start(value);
          calls.push({ value, at: scheduler.now() });
        },
        error: (err: unknown) => {
          ending = { outcome: 'errored', endedAt: scheduler.now(), error: describeError(err) };
        },
        complete: () => {
          ending = { outcome: 'completed', endedAt: scheduler.now() };
        },
      });
    // Subscribed second, so it sees each value after the limiter has dealt with it.
    source.subscribe(() => lives.sample());
    return () => ending;
  });

  const delays = calls.map(({ value, at }) => at - (arrivedAt.get(value) ?? at));
  const last = calls.at(-1);
  return {
    arrived: arrivedAt.size,
    passed: calls.length,
    dropped,
    delayed: delays.filter((d) => d > 0).length,
    worstDelay: Math.max(0, ...delays),
    peakWaiting: lives.peakWaiting(),
    overLimit: callsOverLimit(
      calls.map((c) => c.at),
      limit,
    ),
    lastPassed: last?.value,
    lastPassedAt: last?.at,
    ...ending,
  };
}

/**
 * How many of these calls (times in ms, in order) an API enforcing `limit` would refuse: the API's
 * own token bucket, kept independently of the library. Tokens are counted in milliseconds of refill
 * (one token = `interval / tokensPerInterval` ms) so that whole-millisecond limits stay exact; a
 * refused call takes no token.
 */
export function callsOverLimit(times: number[], limit: ApiLimit): number {
  const msPerToken = limit.interval / limit.tokensPerInterval;
  const full = limit.capacity * msPerToken;
  let credit = full;
  let previous = times[0] ?? 0;
  let refused = 0;
  for (const at of times) {
    credit = Math.min(full, credit + (at - previous));
    previous = at;
    if (credit >= msPerToken) credit -= msPerToken;
    else refused++;
  }
  return refused;
}

/**
 * Runs the third table's overload through one row's operator around the consumer, and tells what
 * happened to each class of request: processed, dropped by reason, and the longest a processed
 * request waited for its work to start.
 */
export function runDegradation(
  scenario: DegradationScenario,
  workload: DegradationWorkload,
): DegradationResult {
  const arrivedAt = new Map<number, number>();
  const waits = new Map<number, number>();
  const byClass: Record<RequestClass, ClassResult> = {
    checkout: { arrived: 0, processed: 0, dropped: {}, worstWait: 0 },
    analytics: { arrived: 0, processed: 0, dropped: {}, worstWait: 0 },
  };
  const of = (request: number) => byClass[workload.classOf(request)];

  const ending = inVirtualTime(scenario.label, (scheduler) => {
    let ending: Ending | undefined;
    const consume = (request: number) => {
      waits.set(request, scheduler.now() - (arrivedAt.get(request) ?? scheduler.now()));
      return timer(workload.consumeMs).pipe(map(() => request));
    };
    const onDrop = (request: number, reason: DropReason) => {
      const { dropped } = of(request);
      dropped[reason] = (dropped[reason] ?? 0) + 1;
    };
    timer(0, workload.everyMs)
      .pipe(
        take(workload.count),
        map((i) => i + 1),
        tap((request) => {
          arrivedAt.set(request, scheduler.now());
          of(request).arrived++;
        }),
        scenario.operator(consume, onDrop, priorityOf(workload)),
      )
      .subscribe({
        next: (request) => {
          const c = of(request);
          c.processed++;
          c.worstWait = Math.max(c.worstWait, waits.get(request) ?? 0);
        },
        error: (err: unknown) => {
          ending = { outcome: 'errored', endedAt: scheduler.now(), error: describeError(err) };
        },
        complete: () => {
          ending = { outcome: 'completed', endedAt: scheduler.now() };
        },
      });
    return () => ending;
  });

  return { byClass, ...ending };
}
