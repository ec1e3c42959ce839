import { map, tap, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { RowResult, Scenario } from './scenarios.js';

export interface Workload {
  /** Hot marble diagram of the producer. */
  producer: string;
  /** The value behind each letter of the diagram. */
  values: Record<string, number>;
  consumeMs: number;
}

/** Per value: the event counter reading when it arrived, started and was dropped. */
interface Life {
  arrived: number;
  started?: number;
  dropped?: number;
}

/**
 * Runs the workload through one scenario's operator in virtual time (an rxjs `TestScheduler` in
 * run mode: timers advance instantly and in a fixed order, so every run gives the same table).
 *
 * Peak queue length is defined the same way for every operator: after the operator has handled an
 * arrival, the values that have arrived but have neither started nor been dropped are waiting.
 * Operators that do not report drops (exhaustMap) get a value that they never start counted as
 * dropped on arrival, which is when such an operator ignores it.
 */
export function runScenario(scenario: Scenario, workload: Workload): RowResult {
  const scheduler = new TestScheduler(() => {
    // No expectations are made: the comparator is never used.
  });
  const lives: Life[] = [];
  const samples: number[] = [];
  let clock = 0; // counts events, to order them within one virtual millisecond
  let processed = 0;
  let lastProcessed: number | undefined;
  let outcome: RowResult['outcome'] | undefined;
  let endedAt = 0;
  let error: string | undefined;

  const life = (value: number): Life => {
    const found = lives[value];
    if (!found) throw new Error(`demo: value ${value} was not seen arriving`);
    return found;
  };

  scheduler.run(({ hot }) => {
    const source = hot(workload.producer, workload.values);
    const consume = (value: number) => {
      life(value).started = clock++;
      return timer(workload.consumeMs).pipe(map(() => value));
    };
    const onDrop = (value: number) => {
      life(value).dropped = clock++;
    };
    source
      .pipe(
        tap((value) => {
          lives[value] = { arrived: clock++ };
        }),
        scenario.operator(consume, onDrop),
      )
      .subscribe({
        next: (value) => {
          processed++;
          lastProcessed = value;
        },
        error: (err: unknown) => {
          outcome = 'errored';
          endedAt = scheduler.now();
          error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        },
        complete: () => {
          outcome = 'completed';
          endedAt = scheduler.now();
        },
      });
    // Subscribed second, so it sees each value after the operator has dealt with it.
    source.subscribe(() => samples.push(clock++));
  });

  if (!outcome) throw new Error(`demo: ${scenario.label} neither completed nor errored`);
  const seen = lives.filter((l): l is Life => l !== undefined);
  for (const l of seen) {
    if (l.started === undefined && l.dropped === undefined) l.dropped = l.arrived;
  }
  const by = (event: number | undefined, t: number) => event !== undefined && event <= t;
  const waitingAt = (t: number) =>
    seen.filter((l) => by(l.arrived, t) && !by(l.started, t) && !by(l.dropped, t)).length;
  return {
    arrived: seen.length,
    processed,
    dropped: seen.filter((l) => l.started === undefined).length,
    peakQueue: Math.max(0, ...samples.map(waitingAt)),
    lastProcessed,
    outcome,
    endedAt,
    ...(error === undefined ? {} : { error }),
  };
}
