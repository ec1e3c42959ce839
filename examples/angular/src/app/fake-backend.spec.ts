// The app as it runs in the browser (the simulated backend behind HttpClient), in virtual time.
import {
  HttpClient,
  HttpEventType,
  provideHttpClient,
  withInterceptors,
  type HttpEvent,
} from '@angular/common/http';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { resetVirtualTime, withVirtualTime } from 'rxjs-backpressure/testing';
import { FAKE_BACKEND_DELAYS, fakeBackendInterceptor, searchIndex } from './fake-backend';
import { SearchPage } from './search/search-page';

describe('the app against its simulated backend, in virtual time', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideHttpClient(withInterceptors([fakeBackendInterceptor])),
        { provide: FAKE_BACKEND_DELAYS, useValue: { search: 800, uploadStep: 100, quote: 150 } },
      ],
    });
  });
  afterEach(() => resetVirtualTime());

  it('searches the index', () => {
    expect(searchIndex('BUFFER')).toContain('bufferSliding');
    expect(searchIndex('  ')).toEqual([]);
  });

  it('the search page ends on the latest query, 800 ms per search', () => {
    withVirtualTime((scheduler) => {
      const fixture = TestBed.createComponent(SearchPage);
      const page = fixture.componentInstance;
      fixture.detectChanges();
      for (const q of ['b', 'bu', 'buf']) {
        page.query.set(q);
        fixture.detectChanges();
        scheduler.advanceBy(100); // a keystroke every 100 ms
      }
      expect(page.result()).toEqual({ query: '', hits: [] });
      scheduler.advanceBy(500); // 'b' answers at 800 ms; 'buf' starts
      expect(page.result()?.query).toBe('b');
      expect(page.upToDate()).toBe(false);
      scheduler.advanceBy(800);
      fixture.detectChanges();
      expect(page.result()?.query).toBe('buf');
      expect(page.result()?.hits).toContain('bufferFixed');
      expect(page.requests().map((r) => `${r.query} ${r.state}`)).toEqual(['b done', 'buf done']);
      expect(page.replaced()).toEqual(['bu']);
      expect(scheduler.pendingCount).toBe(0);
      fixture.destroy();
    });
  });

  it('an upload reports 10 progress events, then the response', () => {
    withVirtualTime((scheduler) => {
      const events: HttpEvent<unknown>[] = [];
      TestBed.inject(HttpClient)
        .post('/api/uploads', new Blob(['x'.repeat(1000)]), {
          params: { name: 'a.txt' },
          reportProgress: true,
          observe: 'events',
        })
        .subscribe((e) => events.push(e));
      scheduler.advanceBy(500);
      expect(events.filter((e) => e.type === HttpEventType.UploadProgress)).toHaveLength(5);
      scheduler.advanceBy(500);
      expect(events.at(-2)).toEqual({ type: HttpEventType.UploadProgress, loaded: 1000, total: 1000 });
      expect(events.at(-1)).toMatchObject({
        type: HttpEventType.Response,
        status: 201,
        body: { name: 'a.txt', bytes: 1000 },
      });
    });
  });
});
