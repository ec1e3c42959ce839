import { HttpClient, HttpErrorResponse, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { resetVirtualTime, withVirtualTime } from 'rxjs-backpressure/testing';
import { RATE_LIMIT, RateLimiter, rateLimitInterceptor } from './rate-limiter';
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

  it('the page shows the live token count', () => {
    withVirtualTime((scheduler) => {
      const fixture = TestBed.createComponent(RateLimitPage);
      const server = TestBed.inject(HttpTestingController);
      fixture.detectChanges();
      const tokens = () =>
        (fixture.nativeElement.querySelector('[data-testid=tokens]') as HTMLElement).textContent;
      const waiting = () =>
        (fixture.nativeElement.querySelector('[data-testid=waiting]') as HTMLElement).textContent;
      expect(tokens()).toBe('5');

      (fixture.nativeElement.querySelector('[data-testid=burst]') as HTMLButtonElement).click(); // 10 requests
      scheduler.advanceBy(100); // the page reads the meter every 100 ms
      fixture.detectChanges();
      expect(tokens()).toBe('0');
      expect(waiting()).toBe('3');
      const rows = () =>
        Array.from(
          fixture.nativeElement.querySelectorAll('[data-testid=calls] tr') as NodeListOf<HTMLElement>,
        ).map((row) => row.getAttribute('data-state'));
      expect(rows().filter((s) => s === 'refused')).toHaveLength(2);

      for (const req of server.match('/api/quotes')) req.flush({ id: 1, text: 'ok' });
      scheduler.advanceBy(3000); // the 3 waiting get their tokens
      for (const req of server.match('/api/quotes')) req.flush({ id: 2, text: 'ok' });
      scheduler.advanceBy(2000);
      fixture.detectChanges();
      expect(tokens()).toBe('2');
      expect(waiting()).toBe('0');
      expect(rows().filter((s) => s === 'done')).toHaveLength(8);
      fixture.destroy();
    });
  });
});
