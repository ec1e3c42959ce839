import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { PlaygroundPage } from './playground-page';

describe('PlaygroundPage', () => {
  let fixture: ComponentFixture<PlaygroundPage>;
  const el = () => fixture.nativeElement as HTMLElement;
  const text = (id: string) => el().querySelector(`[data-testid=${id}]`)?.textContent?.trim();

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    fixture = TestBed.createComponent(PlaygroundPage);
    fixture.detectChanges();
  });

  function type(testid: string, value: string): void {
    const input = el().querySelector(`[data-testid=${testid}]`) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    fixture.detectChanges();
  }

  it('draws the run again as the source is typed', () => {
    expect(el().querySelector('[data-testid=diagram] svg')).not.toBeNull();
    type('source', 'abcd');
    expect(text('call')).toBe('source$.pipe(bufferSliding(1, project))');
    expect(text('output-text')).toBe('output: A@4 D@8');
    expect(text('drops-text')).toBe('dropped: b@2(overflow) c@3(overflow)');
    const svg = el().querySelector('[data-testid=diagram] svg') as SVGElement;
    expect(svg.getAttribute('aria-label')).toBe('Marble diagram: bufferSliding(1, project)');
    const labels = Array.from(svg.querySelectorAll('g > text')).map((t) => t.textContent);
    expect(labels).toEqual(['a', 'b', 'c', 'd', 'A', 'D', 'b', 'c']); // source, output, dropped
  });

  it('shows the options of the operator picked, and applies them at once', () => {
    const select = el().querySelector('[data-testid=operator]') as HTMLSelectElement;
    select.value = 'tokenBucket';
    select.dispatchEvent(new Event('change'));
    fixture.detectChanges();
    expect(el().querySelector('[data-testid=work]')).toBeNull();
    expect(el().querySelector('[data-testid=mode]')).not.toBeNull();
    type('source', '(abcd)|');
    type('capacity', '2');
    type('queueCapacity', '1');
    expect(text('call')).toContain('tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 4');
    expect(text('output-text')).toBe('output: a@0 b@0 c@4');
    expect(text('drops-text')).toBe('dropped: d@0(overflow)');
  });

  it('explains an invalid setting instead of drawing', () => {
    type('capacity', '');
    expect(el().querySelector('[data-testid=diagram]')).toBeNull();
    expect(text('playground-error')).toContain('bufferSliding');
    type('capacity', '2');
    expect(el().querySelector('[data-testid=diagram] svg')).not.toBeNull();
  });
});
