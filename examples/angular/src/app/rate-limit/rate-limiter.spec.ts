import {
  HttpClient,
  HttpContext,
  HttpErrorResponse,
  provideHttpClient,
  withInterceptors,
} from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { resetVirtualTime, withVirtualTime } from 'rxjs-backpressure/testing';
import { ON_RATE_LIMIT_TOKEN, RATE_LIMIT, RateLimiter, rateLimitInterceptor } from './rate-limiter';
import { RateLimitPage } from './rate-limit-page';

describe('rateLimitInterceptor (tokenBucket, shape mode)', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideHttpClient(withInterceptors([rateLimitInterceptor])),
        provideHttpClientTesting(),
        {
          provide: RATE_LIMIT,
          useValue: {
            urlPrefix: '/api/quotes',
            capacity: 5,
            tokensPerInterval: 1,
            interval: 1000,
            queueCapacity: 3,
          },
        },
      ],
    });
  });

  // A test that failed inside withVirtualTime must not leave virtual time on for the next one.
  afterEach(() => resetVirtualTime());

  it('sends a burst of 5 at once, then 1 per second, and the meter shows the tokens', () => {
    withVirtualTime((scheduler) => {
      // Injected inside withVirtualTime, so that the bucket subscribes on the virtual clock.
      const http = TestBed.inject(HttpClient);
      const limiter = TestBed.inject(RateLimiter);
      const server = TestBed.inject(HttpTestingController);
      expect(limiter.meter.snapshot().tokens).toBe(5);

      for (let i = 0; i < 7; i++) http.get('/api/quotes').subscribe();
      expect(server.match('/api/quotes')).toHaveLength(5);
      expect(limiter.meter.snapshot()).toMatchObject({ tokens: 0, waiting: 2 });

      scheduler.advanceBy(500);
      expect(server.match('/api/quotes')).toHaveLength(0);
      expect(limiter.meter.snapshot().tokens).toBeCloseTo(0.5);

      scheduler.advanceBy(500);
      expect(server.match('/api/quotes')).toHaveLength(1);
      scheduler.advanceBy(1000);
      expect(server.match('/api/quotes')).toHaveLength(1);
      expect(limiter.meter.snapshot()).toMatchObject({ tokens: 0, waiting: 0, released: 7 });

      scheduler.advanceBy(60_000);
      expect(limiter.meter.snapshot().tokens).toBe(5); // never above capacity
      expect(scheduler.pendingCount).toBe(0); // no timer while nothing waits
    });
  });

  it('refuses with a 429 what does not fit in the queue, before it leaves the browser', () => {
    withVirtualTime(() => {
      const http = TestBed.inject(HttpClient);
      const limiter = TestBed.inject(RateLimiter);
      const server = TestBed.inject(HttpTestingController);
      const errors: HttpErrorResponse[] = [];
      for (let i = 0; i < 9; i++)
        http.get('/api/quotes').subscribe({ error: (e: HttpErrorResponse) => errors.push(e) });

      expect(server.match('/api/quotes')).toHaveLength(5); // 3 wait, 1 refused
      expect(errors).toHaveLength(1);
      expect(errors[0]?.status).toBe(429);
      expect(errors[0]?.statusText).toContain('overflow');
      expect(limiter.meter.snapshot().dropped.overflow).toBe(1);
    });
  });

  it('lets other URLs pass without a token', () => {
    withVirtualTime(() => {
      const http = TestBed.inject(HttpClient);
      const limiter = TestBed.inject(RateLimiter);
      const server = TestBed.inject(HttpTestingController);
      for (let i = 0; i < 20; i++) http.get('/api/search').subscribe();
      expect(server.match('/api/search')).toHaveLength(20);
      expect(limiter.meter.snapshot()).toMatchObject({ received: 0, tokens: 5 });
    });
  });

  it('a request unsubscribed while it waits is never sent', () => {
    withVirtualTime((scheduler) => {
      const http = TestBed.inject(HttpClient);
      const server = TestBed.inject(HttpTestingController);
      for (let i = 0; i < 5; i++) http.get('/api/quotes').subscribe();
      const waiting = http.get('/api/quotes', { params: { n: 'late' } }).subscribe();
      waiting.unsubscribe();
      scheduler.advanceBy(5000);
      expect(server.match('/api/quotes')).toHaveLength(5);
      server.expectNone('/api/quotes?n=late');
    });
  });

  it('tells the caller (HttpContext) when its request got its token, just before it is sent', () => {
    withVirtualTime((scheduler) => {
      const http = TestBed.inject(HttpClient);
      const server = TestBed.inject(HttpTestingController);
      const events: string[] = [];
      const get = (n: number) =>
        http
          .get('/api/quotes', {
            params: { n },
            context: new HttpContext().set(ON_RATE_LIMIT_TOKEN, () =>
              events.push(
                `token ${n} at ${scheduler.now()}, sent: ${server.match(`/api/quotes?n=${n}`).length}`,
              ),
            ),
          })
          .subscribe({ error: () => events.push(`refused ${n}`) });
      const calls = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(get); // 5 at once, 3 wait, 1 refused
      expect(events).toEqual([
        'token 1 at 0, sent: 0',
        'token 2 at 0, sent: 0',
        'token 3 at 0, sent: 0',
        'token 4 at 0, sent: 0',
        'token 5 at 0, sent: 0',
        'refused 9',
      ]);
      expect(server.match((req) => req.url === '/api/quotes')).toHaveLength(5);
      calls[6]?.unsubscribe(); // the 7th, while it waits: never sent, never told
      scheduler.advanceBy(10_000);
      expect(events.slice(6)).toEqual(['token 6 at 1000, sent: 0', 'token 8 at 3000, sent: 0']);
      expect(server.match((req) => req.url === '/api/quotes')).toHaveLength(2);
    });
  });

  it('the page shows every call waiting, in flight, done or refused, and the live token count', () => {
    withVirtualTime((scheduler) => {
      const fixture = TestBed.createComponent(RateLimitPage);
      const server = TestBed.inject(HttpTestingController);
      const page = fixture.nativeElement as HTMLElement;
      fixture.detectChanges();
      const text = (testId: string) => page.querySelector(`[data-testid=${testId}]`)?.textContent;
      const rows = () => Array.from(page.querySelectorAll<HTMLElement>('[data-testid=calls] tr'));
      /** Each row's state, after a change detection. */
      const states = () => {
        fixture.detectChanges();
        return rows().map((row) => row.getAttribute('data-state'));
      };
      /** Column `column` of every row: 1 state, 2 sent after, 3 answered after. */
      const cells = (column: number) => rows().map((row) => row.querySelectorAll('td')[column]?.textContent);
      const answer = () => {
        const sent = server.match('/api/quotes');
        for (const req of sent) req.flush({ id: 1, text: 'ok' });
        return sent.length;
      };
      const burst = () => (page.querySelector('[data-testid=burst]') as HTMLButtonElement).click(); // 10 requests
      expect(text('tokens')).toBe('5');

      // t = 0. A bucket of 5 and a queue of 3: 5 get their token at once and are sent, 3 wait, 2 are
      // refused before they leave the browser.
      burst();
      expect(states()).toEqual([
        ...Array<string>(5).fill('in-flight'),
        ...Array<string>(3).fill('waiting'),
        'refused',
        'refused',
      ]);
      expect(cells(1)).toEqual([
        ...Array<string>(5).fill('in flight'),
        ...Array<string>(3).fill('waiting for a token'),
        'refused (429)',
        'refused (429)',
      ]);
      expect(cells(2).slice(0, 6)).toEqual([...Array<string>(5).fill('0 ms'), '']);

      scheduler.advanceBy(100); // the page reads the meter every 100 ms
      fixture.detectChanges();
      expect(text('tokens')).toBe('0');
      expect(text('waiting')).toBe('3');

      // t = 150: the server answers the 5 in flight; the 3 others still wait for a token.
      scheduler.advanceBy(50);
      expect(answer()).toBe(5);
      expect(states().slice(0, 8)).toEqual([
        ...Array<string>(5).fill('done'),
        'waiting',
        'waiting',
        'waiting',
      ]);
      expect(cells(3).slice(0, 5)).toEqual(Array<string>(5).fill('150 ms'));

      // t = 999: no token yet.
      scheduler.advanceBy(849);
      expect(states().slice(5, 8)).toEqual(['waiting', 'waiting', 'waiting']);
      expect(server.match('/api/quotes')).toHaveLength(0);

      // t = 1000: the 6th gets the first new token and is in flight until answered, at t = 1200.
      scheduler.advanceBy(1);
      expect(states().slice(5, 8)).toEqual(['in-flight', 'waiting', 'waiting']);
      expect(cells(2)[5]).toBe('1000 ms');
      scheduler.advanceBy(200);
      expect(answer()).toBe(1);
      expect(states().slice(5, 8)).toEqual(['done', 'waiting', 'waiting']);
      expect(cells(3)[5]).toBe('1200 ms');

      // t = 2000 and 3000: the 7th and the 8th, one per second.
      scheduler.advanceBy(800);
      expect(states().slice(5, 8)).toEqual(['done', 'in-flight', 'waiting']);
      expect(answer()).toBe(1);
      scheduler.advanceBy(1000);
      expect(states().slice(5, 8)).toEqual(['done', 'done', 'in-flight']);
      expect(answer()).toBe(1);
      expect(cells(2).slice(5, 8)).toEqual(['1000 ms', '2000 ms', '3000 ms']);

      // t = 5100: every call ended, 8 done and 2 refused; the bucket refilled 2 tokens since t = 3000.
      scheduler.advanceBy(2100);
      expect(states()).toEqual([...Array<string>(8).fill('done'), 'refused', 'refused']);
      expect(text('tokens')).toBe('2');
      expect(text('waiting')).toBe('0');
      fixture.destroy();
    });
  });
});
