// notifier.ts
import { mergeMap, Subject, type Observable, type Subscription } from 'rxjs';
import { tokenBucket } from 'rxjs-backpressure';

export interface Alert {
  to: string;
  text: string;
}

export class Notifier {
  readonly dropped: Alert[] = [];
  private readonly outbox = new Subject<Alert>();
  private readonly subscription: Subscription;

  constructor(send: (alert: Alert) => Observable<unknown>) {
    this.subscription = this.outbox
      .pipe(
        tokenBucket({
          capacity: 5,
          tokensPerInterval: 1,
          interval: 1000,
          queueCapacity: 100,
          onDrop: (alert) => this.dropped.push(alert),
        }),
        mergeMap((alert) => send(alert)),
      )
      .subscribe();
  }

  notify(alert: Alert): void {
    this.outbox.next(alert);
  }

  dispose(): void {
    this.subscription.unsubscribe();
  }
}
