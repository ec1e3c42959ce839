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
 *
 * What to do is given either as a handlers object, or by a subclass overriding the `on*` hooks
 * (`onNext`, `onError`, `onComplete`, `onCancelled`): then the subscriber is the only object made
 * per subscription, and the rules above stay written once, here.
 */
export class OperatorSubscriber<T> extends Subscription implements Observer<T> {
  private stopped = false;
  private ended = false;

  constructor(
    protected readonly destination: Subscriber<unknown>,
    private readonly handlers?: SubscriberHandlers<T>,
  ) {
    super();
    destination.add(this);
  }

  next(value: T): void {
    if (this.stopped) return;
    try {
      this.onNext(value);
    } catch (err) {
      this.destination.error(err);
    }
  }

  error(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ended = true;
    this.unsubscribe();
    try {
      this.onError(err);
    } catch (thrown) {
      this.destination.error(thrown);
    }
  }

  complete(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ended = true;
    this.unsubscribe();
    try {
      this.onComplete();
    } catch (thrown) {
      this.destination.error(thrown);
    }
  }

  override unsubscribe(): void {
    const cancelled = !this.ended && !this.closed;
    this.stopped = true;
    super.unsubscribe();
    if (cancelled) this.onCancelled();
  }

  /** A value arrived (not after the end). */
  protected onNext(value: T): void {
    (this.handlers as SubscriberHandlers<T>).next(value);
  }

  /** What it listens to failed; it is already unsubscribed. */
  protected onError(err: unknown): void {
    const handlers = this.handlers as SubscriberHandlers<T>;
    if (handlers.error) handlers.error(err);
    else this.destination.error(err);
  }

  /** What it listens to completed; it is already unsubscribed. */
  protected onComplete(): void {
    const handlers = this.handlers as SubscriberHandlers<T>;
    if (handlers.complete) handlers.complete();
    else this.destination.complete();
  }

  /** Unsubscribed before what it listens to ended (called after its finalizers have run). */
  protected onCancelled(): void {
    this.handlers?.cancelled?.();
  }
}
