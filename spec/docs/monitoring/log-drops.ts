// log-drops.ts
import { bufferTime, count, filter, from, groupBy, map, mergeMap, toArray, type Subscription } from 'rxjs';
import type { FlowMeter } from 'rxjs-backpressure';

/**
 * Every 10 s in which something was dropped, one line:
 * `uploads: 4 dropped in the last 10 s (2 overflow, 2 expired)`.
 */
export function logDrops(meter: FlowMeter, log: (line: string) => void = console.warn): Subscription {
  return meter.drops$
    .pipe(
      map((drop) => drop.reason), // keep the reason, not the value, for the 10 s
      bufferTime(10_000),
      filter((reasons) => reasons.length > 0),
      mergeMap((reasons) =>
        from(reasons).pipe(
          groupBy((reason) => reason),
          mergeMap((group) =>
            group.pipe(
              count(),
              map((n) => `${n} ${group.key}`),
            ),
          ),
          toArray(),
          map((counts) => `${meter.name}: ${reasons.length} dropped in the last 10 s (${counts.join(', ')})`),
        ),
      ),
    )
    .subscribe(log);
}
