import { Subscription, type Observer, type Subscriber } from 'rxjs';

export interface SubscriberHandlers<T> {
  next: (value: T) => void;
  error?: (err: unknown) => void;
  complete?: () => void;
  /** Unsubscribed before what it listens to ended (called after its finalizers have run). */
  cancelled?: () => void;
}

/**
 * The one subscriber every operator here uses to listen to a source or an inner observable.
 *
 * It is added to the downstream subscriber *before* it is handed to the source, so when the
 * downstream closes (for example `take(3)` has what it wants) this subscriber is already closed and a
 * synchronous firehose that checks `subscriber.closed` stops. It is both an Observer and a
 * Subscription, so RxJS uses it as the source's subscriber directly instead of wrapping it.
 *
 * On error or completion it unsubscribes from what it listens to before running the handler, so the
 * source's resources are released as early as possible. Without `error`/`complete` handlers, errors
 * and completion are forwarded to the destination. A handler that throws errors the destination.
 * Handlers are called as methods of the handlers object, so a class instance can be the handlers
 * (one object per inner instead of a closure per handler).
 */
export class OperatorSubscriber<T> extends Subscription implements Observer<T> {
  private stopped = false;
  private ended = false;

  constructor(
    private readonly destination: Subscriber<unknown>,
    private readonly handlers: SubscriberHandlers<T>,
  ) {
    super();
    destination.add(this);
  }

  next(value: T): void {
    if (this.stopped) return;
    try {
      this.handlers.next(value);
    } catch (err) {
      this.destination.error(err);
    }
  }

  error(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ended = true;
    this.unsubscribe();
    const { handlers } = this;
    if (!handlers.error) {
      this.destination.error(err);
      return;
    }
    try {
      handlers.error(err);
    } catch (thrown) {
      this.destination.error(thrown);
    }
  }

  complete(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ended = true;
    this.unsubscribe();
    const { handlers } = this;
    if (!handlers.complete) {
      this.destination.complete();
      return;
    }
    try {
      handlers.complete();
    } catch (thrown) {
      this.destination.error(thrown);
    }
  }

  override unsubscribe(): void {
    const cancelled = !this.ended && !this.closed && this.handlers.cancelled !== undefined;
    this.stopped = true;
    super.unsubscribe();
    if (cancelled) this.handlers.cancelled?.();
  }
}
