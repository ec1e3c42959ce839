// Search as you type with bufferSliding(1, ...): one request at a time, none cancelled, and the
// latest query always searched once the request in flight has finished.
import { HttpClient } from '@angular/common/http';
import { Component, computed, inject, signal } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { catchError, defer, finalize, Observable, of, tap } from 'rxjs';
import { bufferSliding } from 'rxjs-backpressure';
import type { SearchResponse } from '../fake-backend';

/** One request sent to the backend, as the log shows it. */
export interface SearchRequest {
  query: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
}

@Component({
  selector: 'app-search-page',
  template: `
    <h1>Search as you type: <code>bufferSliding(1, search)</code></h1>
    <p class="muted">
      The backend takes almost a second per search. While a search runs, only the latest query waits; the ones
      it replaces are never sent. No request is cancelled (as <code>switchMap</code> would), and the screen
      always ends on the last query typed.
    </p>
    <label>
      Search operators
      <input
        #box
        type="search"
        data-testid="query"
        autocomplete="off"
        [value]="query()"
        (input)="query.set(box.value)"
      />
    </label>

    <p data-testid="status">
      @if (upToDate()) {
        Showing results for the latest query.
      } @else {
        Searching for <code>{{ query() }}</code>…
      }
    </p>
    @if (result(); as r) {
      <h2 data-testid="results-for">Results for "{{ r.query }}"</h2>
      @if (r.error) {
        <p class="error">{{ r.error }}</p>
      }
      <ul data-testid="hits">
        @for (hit of r.hits; track hit) {
          <li>{{ hit }}</li>
        } @empty {
          <li class="muted">no match</li>
        }
      </ul>
    }

    <h2>Requests</h2>
    <p data-testid="counts">
      sent {{ requests().length }} · completed {{ completed() }} · cancelled {{ cancelled() }} · replaced
      before being sent {{ replaced().length }}
    </p>
    <ol data-testid="requests">
      @for (request of requests(); track $index) {
        <li>
          <code>{{ request.query }}</code> {{ request.state }}
        </li>
      }
    </ol>
    @if (replaced().length > 0) {
      <p class="muted" data-testid="replaced">
        Replaced while waiting (reported to <code>onDrop</code> as 'overflow'):
        @for (q of replaced(); track $index) {
          <code>{{ q }}</code>&nbsp;
        }
      </p>
    }
  `,
})
export class SearchPage {
  private readonly http = inject(HttpClient);

  /** What the box holds now. */
  readonly query = signal('');
  /** Every request sent, in order. */
  readonly requests = signal<readonly SearchRequest[]>([]);
  /** Queries that waited and were replaced by a newer one before being sent. */
  readonly replaced = signal<readonly string[]>([]);

  /** The answer to the latest search that finished. */
  readonly result = toSignal(
    toObservable(this.query).pipe(
      bufferSliding(1, (query) => this.search(query), {
        onDrop: (query, reason) => {
          if (reason === 'overflow') this.replaced.update((list) => [...list, query]);
        },
      }),
    ),
  );

  readonly completed = computed(() => this.requests().filter((r) => r.state === 'done').length);
  readonly cancelled = computed(() => this.requests().filter((r) => r.state === 'cancelled').length);
  /** True when the results on screen answer what the box holds. */
  readonly upToDate = computed(() => (this.result()?.query ?? '') === this.query());

  private search(query: string): Observable<SearchResponse & { error?: string }> {
    if (query.trim() === '') return of({ query, hits: [] });
    return defer(() => {
      const index = this.requests().length;
      const set = (state: SearchRequest['state']) =>
        this.requests.update((list) => list.map((r, i) => (i === index ? { ...r, state } : r)));
      this.requests.update((list) => [...list, { query, state: 'running' }]);
      let finished = false;
      return this.http.get<SearchResponse>('/api/search', { params: { q: query } }).pipe(
        tap({ next: () => set('done') }),
        catchError((err: unknown) => {
          set('failed');
          return of({ query, hits: [], error: `Search failed: ${String((err as Error).message ?? err)}` });
        }),
        tap({ complete: () => (finished = true) }),
        finalize(() => {
          if (!finished) set('cancelled');
        }),
      );
    });
  }
}
