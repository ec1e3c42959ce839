import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { SearchPage } from './search-page';

describe('SearchPage (bufferSliding(1, search))', () => {
  let fixture: ComponentFixture<SearchPage>;
  let page: SearchPage;
  let server: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting()],
    });
    fixture = TestBed.createComponent(SearchPage);
    page = fixture.componentInstance;
    server = TestBed.inject(HttpTestingController);
    fixture.detectChanges();
  });

  afterEach(() => server.verify());

  /** Types into the box as a user would: one input event per keystroke. */
  function type(text: string): void {
    const box = fixture.nativeElement.querySelector('[data-testid=query]') as HTMLInputElement;
    for (const ch of text) {
      box.value += ch;
      box.dispatchEvent(new Event('input'));
      fixture.detectChanges(); // runs the effect behind toObservable: one query per keystroke
    }
  }

  const text = (testid: string): string =>
    (
      fixture.nativeElement.querySelector(`[data-testid=${testid}]`) as HTMLElement | null
    )?.textContent?.trim() ?? '';

  it('sends one request at a time, cancels none, and ends on the latest query', () => {
    type('tak');
    // 't' went out at once; 'ta' waited and was replaced by 'tak' while 't' ran.
    const t = server.expectOne('/api/search?q=t');
    server.expectNone('/api/search?q=ta');
    server.expectNone('/api/search?q=tak');
    expect(page.replaced()).toEqual(['ta']);

    type('e');
    expect(page.replaced()).toEqual(['ta', 'tak']); // 'take' replaced 'tak' in the one waiting place
    expect(t.cancelled).toBe(false); // switchMap would have cancelled it at the second keystroke

    t.flush({ query: 't', hits: ['tap', 'take'] }); // (flushing a cancelled request throws)
    fixture.detectChanges();
    expect(text('results-for')).toBe('Results for "t"');
    expect(text('status')).toContain('Searching for take');

    // The latest query runs as soon as the request in flight has finished.
    const take = server.expectOne('/api/search?q=take');
    take.flush({ query: 'take', hits: ['take', 'takeUntil'] });
    fixture.detectChanges();

    expect(page.requests()).toEqual([
      { query: 't', state: 'done' },
      { query: 'take', state: 'done' },
    ]);
    expect(page.cancelled()).toBe(0);
    expect(page.upToDate()).toBe(true);
    expect(text('results-for')).toBe('Results for "take"');
    expect(text('hits')).toContain('takeUntil');
    expect(text('counts')).toContain('sent 2 · completed 2 · cancelled 0 · replaced before being sent 2');
  });

  it('a query typed after the last answer is searched at once', () => {
    type('m');
    server.expectOne('/api/search?q=m').flush({ query: 'm', hits: ['map'] });
    type('a');
    server.expectOne('/api/search?q=ma').flush({ query: 'ma', hits: ['map'] });
    fixture.detectChanges();
    expect(page.replaced()).toEqual([]);
    expect(text('results-for')).toBe('Results for "ma"');
  });

  it('shows a failed search and keeps searching', () => {
    type('x');
    server.expectOne('/api/search?q=x').flush('down', { status: 503, statusText: 'Service Unavailable' });
    fixture.detectChanges();
    expect(page.requests()).toEqual([{ query: 'x', state: 'failed' }]);
    expect(fixture.nativeElement.querySelector('.error').textContent).toContain('Search failed');

    type('y');
    server.expectOne('/api/search?q=xy').flush({ query: 'xy', hits: [] });
    fixture.detectChanges();
    expect(text('hits')).toBe('no match');
  });

  it('an emptied box shows no results without asking the backend', () => {
    type('s');
    server.expectOne('/api/search?q=s').flush({ query: 's', hits: ['scan'] });
    const box = fixture.nativeElement.querySelector('[data-testid=query]') as HTMLInputElement;
    box.value = '';
    box.dispatchEvent(new Event('input'));
    fixture.detectChanges();
    expect(page.result()).toEqual({ query: '', hits: [] });
    expect(page.upToDate()).toBe(true);
  });

  it('a request still running when the page closes is counted as cancelled', () => {
    type('q');
    const q = server.expectOne('/api/search?q=q');
    fixture.destroy();
    expect(q.cancelled).toBe(true);
    expect(page.requests()).toEqual([{ query: 'q', state: 'cancelled' }]);
  });
});
