import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { Component, computed, inject, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { map, startWith } from 'rxjs';
import type { QuoteResponse } from '../fake-backend';
import { RateLimiter } from './rate-limiter';

interface Call {
  readonly n: number;
  readonly state: 'waiting for a token' | 'done' | 'refused' | 'failed';
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
          <th>answered after</th>
          <th>answer</th>
        </tr>
      </thead>
      <tbody data-testid="calls">
        @for (call of calls(); track call.n) {
          <tr [attr.data-state]="call.state">
            <td>{{ call.n }}</td>
            <td>{{ call.state }}</td>
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
      const started = this.limiter.meter.snapshot().time;
      this.calls.update((list) => [...list, { n, state: 'waiting for a token' }]);
      this.http
        .get<QuoteResponse>('/api/quotes')
        .pipe(map((quote) => ({ quote, answeredAfter: this.limiter.meter.snapshot().time - started })))
        .subscribe({
          next: ({ quote, answeredAfter }) => this.set(n, { state: 'done', text: quote.text, answeredAfter }),
          error: (err: HttpErrorResponse) =>
            this.set(n, { state: err.status === 429 ? 'refused' : 'failed', text: err.statusText }),
        });
    }
  }

  private set(n: number, change: Partial<Call>): void {
    this.calls.update((list) => list.map((call) => (call.n === n ? { ...call, ...change } : call)));
  }
}
