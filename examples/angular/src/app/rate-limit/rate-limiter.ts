// A client-side rate limit for an API: every request to it goes through one tokenBucket in shape mode
// (bursts of 5, then 1 request per second; up to 20 wait, later ones are refused with a 429).
// The HttpInterceptorFn below applies it to outgoing HttpClient requests; a FlowMeter reads the tokens.
// A caller that wants to know when its request got its token (and is sent) sets ON_RATE_LIMIT_TOKEN
// in the request's HttpContext.
import { HttpContextToken, HttpErrorResponse, type HttpInterceptorFn } from '@angular/common/http';
import { DestroyRef, Injectable, InjectionToken, inject } from '@angular/core';
import { Observable, Subject } from 'rxjs';
import { FlowMeter, tokenBucket, type DropReason } from 'rxjs-backpressure';

export interface RateLimitConfig {
  /** Requests whose URL starts with this go through the bucket. */
  urlPrefix: string;
  /** The largest burst. */
  capacity: number;
  /** Tokens added per `interval` ms. */
  tokensPerInterval: number;
  interval: number;
  /** Requests allowed to wait for a token; one more is refused. */
  queueCapacity: number;
}

export const RATE_LIMIT = new InjectionToken<RateLimitConfig>('RATE_LIMIT', {
  providedIn: 'root',
  factory: () => ({
    urlPrefix: '/api/quotes',
    capacity: 5,
    tokensPerInterval: 1,
    interval: 1000,
    queueCapacity: 20,
  }),
});

/**
 * Set on a request's `HttpContext` to be told when the request leaves the token bucket: it got its
 * token and is sent on, so it is in flight from then on. Called at most once, just before the request is
 * subscribed; never for a request refused with a 429 or unsubscribed while it waits.
 *
 * ```ts
 * http.get('/api/quotes', { context: new HttpContext().set(ON_RATE_LIMIT_TOKEN, () => markInFlight()) });
 * ```
 */
export const ON_RATE_LIMIT_TOKEN = new HttpContextToken<(() => void) | null>(() => null);

/** A request waiting for its token. */
interface Ticket {
  grant(): void;
  refuse(reason: DropReason): void;
}

@Injectable({ providedIn: 'root' })
export class RateLimiter {
  readonly config = inject(RATE_LIMIT);
  /** Counts what passed, waits and drops, and reads the bucket's tokens (`snapshot().tokens`). */
  readonly meter = new FlowMeter({ name: 'api' });
  private readonly tickets = new Subject<Ticket>();

  constructor() {
    const { capacity, tokensPerInterval, interval, queueCapacity } = this.config;
    const subscription = this.tickets
      .pipe(
        tokenBucket({
          capacity,
          tokensPerInterval,
          interval,
          queueCapacity,
          mode: 'shape',
          meter: this.meter,
          onDrop: (ticket, reason) => ticket.refuse(reason),
        }),
      )
      .subscribe((ticket) => ticket.grant());
    inject(DestroyRef).onDestroy(() => subscription.unsubscribe());
  }

  /**
   * `request`, subscribed when the bucket has a token for it. A request unsubscribed while it waits
   * is not sent (its place in the queue still takes a token when its turn comes). `onToken` is called
   * when the token is granted, just before `request` is subscribed.
   */
  schedule<T>(request: Observable<T>, url: string, onToken?: (() => void) | null): Observable<T> {
    return new Observable<T>((subscriber) => {
      let cancelled = false;
      let inner: { unsubscribe(): void } | undefined;
      this.tickets.next({
        grant: () => {
          if (cancelled) return;
          onToken?.();
          inner = request.subscribe(subscriber);
        },
        refuse: (reason) =>
          subscriber.error(
            new HttpErrorResponse({
              status: 429,
              statusText: `Too Many Requests (refused by the client's rate limit: ${reason})`,
              url,
            }),
          ),
      });
      return () => {
        cancelled = true;
        inner?.unsubscribe();
      };
    });
  }
}

/** Sends the requests to the rate-limited API through the token bucket; others pass at once. */
export const rateLimitInterceptor: HttpInterceptorFn = (req, next) => {
  const limiter = inject(RateLimiter);
  return req.url.startsWith(limiter.config.urlPrefix)
    ? limiter.schedule(next(req), req.url, req.context.get(ON_RATE_LIMIT_TOKEN))
    : next(req);
};
