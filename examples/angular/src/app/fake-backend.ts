// A simulated backend, so the example runs from static files: an interceptor that answers the app's
// /api/* requests after a delay, as a slow server would. Its timers run on RxJS's asyncScheduler, so
// virtual time drives them too. The unit tests do not use it: they answer with HttpTestingController.
import {
  HttpErrorResponse,
  HttpEventType,
  HttpResponse,
  type HttpEvent,
  type HttpInterceptorFn,
} from '@angular/common/http';
import { InjectionToken, inject } from '@angular/core';
import { concat, map, Observable, of, range, concatMap, throwError, timer } from 'rxjs';

export interface FakeBackendDelays {
  /** How long a search takes, in ms. */
  search: number;
  /** Time between two progress events of an upload (10 per upload), in ms. */
  uploadStep: number;
  /** How long a rate-limited API call takes, in ms. */
  quote: number;
}

export const FAKE_BACKEND_DELAYS = new InjectionToken<FakeBackendDelays>('FAKE_BACKEND_DELAYS', {
  providedIn: 'root',
  factory: () => ({ search: 800, uploadStep: 250, quote: 150 }),
});

/** What GET /api/search?q= answers. */
export interface SearchResponse {
  query: string;
  hits: string[];
}

/** What POST /api/uploads?name= answers. */
export interface UploadResponse {
  name: string;
  bytes: number;
}

/** What GET /api/quotes answers. */
export interface QuoteResponse {
  id: number;
  text: string;
}

const WORDS = [
  'audit',
  'auditTime',
  'buffer',
  'bufferBounded',
  'bufferDropping',
  'bufferFixed',
  'bufferPriority',
  'bufferSliding',
  'bufferTime',
  'catchError',
  'circuitBreaker',
  'combineLatest',
  'concatMap',
  'debounceTime',
  'distinctUntilChanged',
  'exhaustMap',
  'filter',
  'leakyBucket',
  'map',
  'mergeMap',
  'pullFeedback',
  'pullFrom',
  'pullMap',
  'sampleTime',
  'scan',
  'share',
  'switchMap',
  'take',
  'takeUntil',
  'tap',
  'throttleTime',
  'tokenBucket',
  'writeTo',
];

/** The words of the simulated index that contain `query` (case-insensitive). */
export function searchIndex(query: string): string[] {
  const q = query.trim().toLowerCase();
  return q === '' ? [] : WORDS.filter((word) => word.toLowerCase().includes(q));
}

const QUOTES = [
  'Every dropped value is reported.',
  'Time is read only through a scheduler.',
  'A bounded queue is a promise you can keep.',
  'Backpressure is a conversation, not a shout.',
];
let quotes = 0;

export const fakeBackendInterceptor: HttpInterceptorFn = (req, next) => {
  const delays = inject(FAKE_BACKEND_DELAYS);
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && path === '/api/search') {
    const query = req.params.get('q') ?? '';
    const body: SearchResponse = { query, hits: searchIndex(query) };
    return timer(delays.search).pipe(map(() => new HttpResponse({ status: 200, url: req.url, body })));
  }
  if (req.method === 'POST' && path === '/api/uploads') {
    const name = req.params.get('name') ?? 'file';
    const total = req.body instanceof Blob ? req.body.size : 0;
    if (name.endsWith('.exe')) {
      // The server refuses some files: the app shows the failure and goes on with the queue.
      return timer(delays.uploadStep).pipe(
        concatMap(() =>
          throwError(
            () => new HttpErrorResponse({ status: 415, statusText: 'Unsupported Media Type', url: req.url }),
          ),
        ),
      );
    }
    const progress: Observable<HttpEvent<unknown>> = range(1, 10).pipe(
      concatMap((step) =>
        timer(delays.uploadStep).pipe(
          map((): HttpEvent<unknown> => ({
            type: HttpEventType.UploadProgress,
            loaded: Math.round((total * step) / 10),
            total,
          })),
        ),
      ),
    );
    const body: UploadResponse = { name, bytes: total };
    return concat(
      of<HttpEvent<unknown>>({ type: HttpEventType.Sent }),
      progress,
      of(new HttpResponse({ status: 201, url: req.url, body })),
    );
  }
  if (req.method === 'GET' && path === '/api/quotes') {
    const id = ++quotes;
    const body: QuoteResponse = { id, text: QUOTES[id % QUOTES.length] ?? '' };
    return timer(delays.quote).pipe(map(() => new HttpResponse({ status: 200, url: req.url, body })));
  }
  return next(req);
};
