// passing-a-scheduler.spec.ts
import { asyncScheduler, Subject, type SchedulerLike } from 'rxjs';
import { tokenBucket } from 'rxjs-backpressure';
import { ManualTimeScheduler } from 'rxjs-backpressure/testing';

function paced<T>(input$: Subject<T>, scheduler: SchedulerLike = asyncScheduler) {
  return input$.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10, scheduler }));
}

it('emits a, b at 0, c at 10, d at 20', () => {
  const scheduler = new ManualTimeScheduler();
  const input = new Subject<string>();
  const seen: string[] = [];
  const subscription = paced(input, scheduler).subscribe((v) => seen.push(`${v}@${scheduler.now()}`));

  ['a', 'b', 'c', 'd'].forEach((v) => input.next(v));
  expect(seen).toEqual(['a@0', 'b@0']);
  expect(scheduler.pendingCount).toBe(1); // one timer, however many values wait

  scheduler.advanceBy(20);
  expect(seen).toEqual(['a@0', 'b@0', 'c@10', 'd@20']);

  input.next('e');
  subscription.unsubscribe();
  expect(scheduler.pendingCount).toBe(0); // unsubscribing cancelled the timer
});

it('steps from one timer to the next', () => {
  const scheduler = new ManualTimeScheduler();
  const input = new Subject<string>();
  const seen: string[] = [];
  const subscription = paced(input, scheduler).subscribe((v) => seen.push(`${v}@${scheduler.now()}`));
  ['a', 'b', 'c', 'd'].forEach((v) => input.next(v));

  const steps: number[] = [];
  while (scheduler.nextDueTime !== undefined) {
    steps.push(scheduler.nextDueTime);
    scheduler.advanceTo(scheduler.nextDueTime); // run exactly what is due next
  }
  expect(steps).toEqual([10, 20]); // one timer per waiting value, none once the queue is empty
  expect(seen).toEqual(['a@0', 'b@0', 'c@10', 'd@20']);
  subscription.unsubscribe();
});
