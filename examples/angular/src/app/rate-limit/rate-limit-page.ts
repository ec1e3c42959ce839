import { HttpClient, HttpContext, HttpErrorResponse } from '@angular/common/http';
import { Component, computed, inject, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { map, startWith } from 'rxjs';
import type { QuoteResponse } from '../fake-backend';
import { ON_RATE_LIMIT_TOKEN, RateLimiter } from './rate-limiter';

/**
 * A call waits in the token bucket, then is in flight once it got its token, until the (simulated)
 * server answers (`done`, or `failed`); a call that does not fit in the bucket's queue is `refused`
 * with a 429 and never leaves the browser.
 */
type CallState = 'waiting' | 'in-flight' | 'done' | 'refused' | 'failed';

const LABELS: Record<CallState, string> = {
  waiting: 'waiting for a token',
  'in-flight': 'in flight',
  done: 'done',
  refused: 'refused (429)',
  failed: 'failed',
};

interface Call {
  readonly n: number;
  readonly state: CallState;
  /** Ms from the click to the token, when the request was sent. */
  readonly sentAfter?: number;
  /** Ms from the click to the answer. */
  readonly answeredAfter?: number;
  readonly text?: string;
}

@Component({
  selector: 'app-rate-limit-page',
  template: `
    <h1>Rate-limited API: an <code>HttpInterceptorFn</code> with <code>tokenBucket</code></h1>
    <p class="muted">
      Every <code>HttpClient</code> request to <code>{{ limiter.config.urlPrefix }}</code> waits for a token:
      bursts of {{ limiter.config.capacity }}, then {{ limiter.config.tokensPerInterval }} per
      {{ limiter.config.interval }} ms. Up to {{ limiter.config.queueCapacity }} requests wait; one more is
      refused with a 429 before it leaves the browser.
    </p>
    <p>
      <button type="button" data-testid="one" (click)="send(1)">Send 1 request</button>
      <button type="button" data-testid="burst" (click)="send(10)">Send 10 requests</button>
    </p>
    <p>
      Tokens: <strong data-testid="tokens">{{ tokens() }}</strong> / {{ limiter.config.capacity }}
      <meter min="0" [max]="limiter.config.capacity" [value]="exactTokens()"></meter>
      · waiting: <span data-testid="waiting">{{ waiting() }}</span>
    </p>
    <table>
      <thead>
        <tr>
          <th>#</th>
          <th>state</th>
          <th>sent after</th>
          <th>answered after</th>
          <th>answer</th>
        </tr>
      </thead>
      <tbody data-testid="calls">
        @for (call of calls(); track call.n) {
          <tr [attr.data-state]="call.state">
            <td>{{ call.n }}</td>
            <td>{{ labels[call.state] }}</td>
            <td>{{ call.sentAfter === undefined ? '' : call.sentAfter + ' ms' }}</td>
            <td>{{ call.answeredAfter === undefined ? '' : call.answeredAfter + ' ms' }}</td>
            <td>{{ call.text }}</td>
          </tr>
        }
      </tbody>
    </table>
  `,
})
export class RateLimitPage {
  private readonly http = inject(HttpClient);
  readonly limiter = inject(RateLimiter);
  readonly calls = signal<readonly Call[]>([]);
  readonly labels = LABELS;

  /** The meter read 10 times a second. */
  private readonly snapshot = toSignal(
    this.limiter.meter.snapshots$(100).pipe(startWith(this.limiter.meter.snapshot())),
    { requireSync: true },
  );
  readonly exactTokens = computed(() => this.snapshot().tokens);
  /** Whole tokens: what a request can take now. */
  readonly tokens = computed(() => Math.floor(this.snapshot().tokens + 1e-9));
  readonly waiting = computed(() => this.snapshot().waiting);

  send(count: number): void {
    for (let i = 0; i < count; i++) {
      const n = this.calls().length + 1;
      const started = this.now();
      this.calls.update((list) => [...list, { n, state: 'waiting' }]);
      // The interceptor calls this when the request leaves the token bucket (synchronously, for the
      // ones that find a token at once).
      const context = new HttpContext().set(ON_RATE_LIMIT_TOKEN, () =>
        this.set(n, { state: 'in-flight', sentAfter: this.now() - started }),
      );
      this.http
        .get<QuoteResponse>('/api/quotes', { context })
        .pipe(map((quote) => ({ quote, answeredAfter: this.now() - started })))
        .subscribe({
          next: ({ quote, answeredAfter }) => this.set(n, { state: 'done', text: quote.text, answeredAfter }),
          error: (err: HttpErrorResponse) =>
            this.set(n, { state: err.status === 429 ? 'refused' : 'failed', text: err.statusText }),
        });
    }
  }

  /** The meter's clock: RxJS's asyncScheduler, virtual in the tests. */
  private now(): number {
    return this.limiter.meter.snapshot().time;
  }

  private set(n: number, change: Partial<Call>): void {
    this.calls.update((list) => list.map((call) => (call.n === n ? { ...call, ...change } : call)));
  }
}
