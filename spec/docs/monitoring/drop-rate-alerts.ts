// drop-rate-alerts.ts
import { defer, distinctUntilChanged, map, scan, skipWhile, startWith, type Observable } from 'rxjs';
import type { FlowMeter, FlowSnapshot } from 'rxjs-backpressure';

export interface DropRateAlert {
  flow: string;
  /** `true` when the rate went above the threshold, `false` when it came back to it or below. */
  firing: boolean;
  /** The share of the values received in the last minute that were dropped. */
  rate: number;
  time: number;
}

/** Every 5 s, the drop rate over the last minute; emits when it crosses `threshold` either way. */
export function dropRateAlerts(meter: FlowMeter, threshold: number): Observable<DropRateAlert> {
  const minute = 60_000;
  return defer(() => meter.snapshots$(5_000).pipe(startWith(meter.snapshot()))).pipe(
    scan(
      ({ recent }, latest) => {
        // The snapshots of the last minute, oldest first: 13 of them once the minute is full.
        const window = [...recent.filter((s) => latest.time - s.time <= minute), latest];
        const oldest = window[0] ?? latest;
        const received = latest.received - oldest.received;
        const dropped = latest.droppedTotal - oldest.droppedTotal;
        return { recent: window, rate: received > 0 ? dropped / received : 0, time: latest.time };
      },
      { recent: [] as FlowSnapshot[], rate: 0, time: 0 },
    ),
    map(({ rate, time }) => ({ flow: meter.name, firing: rate > threshold, rate, time })),
    distinctUntilChanged((a, b) => a.firing === b.firing),
    skipWhile((alert) => !alert.firing),
  );
}
