import { HttpEventType, provideHttpClient } from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  type TestRequest,
} from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { UPLOAD_CAPACITY, UPLOAD_CONCURRENCY, UploadQueue, type UploadState } from './upload-queue';
import { UploadsPage } from './uploads-page';

const file = (name: string, bytes = 100) => new File(['x'.repeat(bytes)], name);
const files = (n: number, from = 1) => Array.from({ length: n }, (_, i) => file(`f${from + i}.txt`));

describe('UploadQueue (bufferFixed(5, upload, { concurrency: 3 }))', () => {
  let queue: UploadQueue;
  let server: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting()],
    });
    queue = TestBed.inject(UploadQueue);
    server = TestBed.inject(HttpTestingController);
  });

  const states = () => queue.items().map((i) => `${i.file.name}:${i.state}`);
  const uploads = (): TestRequest[] => server.match((req) => req.url === '/api/uploads');
  const finish = (req: TestRequest) => req.flush({ name: req.request.params.get('name'), bytes: 100 });

  it('uploads 3 at a time, the others wait their turn', () => {
    expect([UPLOAD_CAPACITY, UPLOAD_CONCURRENCY]).toEqual([5, 3]);
    queue.add(files(5));
    const running = uploads();
    expect(running.map((r) => r.request.params.get('name'))).toEqual(['f1.txt', 'f2.txt', 'f3.txt']);
    expect(running[0]?.request.body).toBeInstanceOf(File);
    expect(states()).toEqual([
      'f1.txt:uploading',
      'f2.txt:uploading',
      'f3.txt:uploading',
      'f4.txt:waiting',
      'f5.txt:waiting',
    ]);

    finish(running[1] as TestRequest);
    expect(uploads().map((r) => r.request.params.get('name'))).toEqual(['f4.txt']);
    expect(queue.items()[1]).toMatchObject({ state: 'done', progress: 100 });
    expect(queue.error()).toBeNull();
  });

  it('shows the progress of each file', () => {
    queue.add([file('big.bin', 1000)]);
    const [req] = uploads();
    req?.event({ type: HttpEventType.UploadProgress, loaded: 250, total: 1000 });
    expect(queue.items()[0]).toMatchObject({ state: 'uploading', progress: 25 });
    req?.event({ type: HttpEventType.UploadProgress, loaded: 900, total: 1000 });
    expect(queue.items()[0]?.progress).toBe(90);
    finish(req as TestRequest);
    expect(queue.items()[0]).toMatchObject({ state: 'done', progress: 100 });
  });

  it('a full queue is a visible error, and every file ends in a state the user sees', () => {
    // 3 running + 5 waiting fit; the 9th finds the queue full.
    queue.add(files(10));
    const running = uploads();
    expect(running).toHaveLength(3);
    expect(running.every((r) => r.cancelled)).toBe(true); // the queue stopped: they were interrupted

    expect(queue.error()).toContain('Upload queue full: "f9.txt" arrived while 5 files were waiting');
    expect(queue.error()).toContain('BufferOverflowError');
    const expected: UploadState[] = [
      ...Array<UploadState>(3).fill('interrupted'),
      ...Array<UploadState>(5).fill('not started'), // reported to onDrop as 'cleared'
      'refused',
      'not started', // added after the queue stopped
    ];
    expect(queue.items().map((i) => i.state)).toEqual(expected);
    expect(queue.items()[3]?.message).toBe('not sent (cleared)');
    // Nothing lost silently: no file is left looking as if it were still on its way.
    expect(queue.items().filter((i) => i.state === 'waiting' || i.state === 'uploading')).toEqual([]);
  });

  it('retry starts a new queue with as many of the files not uploaded as it takes', () => {
    queue.add(files(10));
    expect(uploads().every((r) => r.cancelled)).toBe(true); // the 3 interrupted by the overflow
    queue.retry();
    expect(queue.error()).toBeNull();
    const again = uploads();
    expect(again.map((r) => r.request.params.get('name'))).toEqual(['f1.txt', 'f2.txt', 'f3.txt']);
    expect(again.some((r) => r.cancelled)).toBe(false);
    expect(states().slice(3)).toEqual([
      'f4.txt:waiting',
      'f5.txt:waiting',
      'f6.txt:waiting',
      'f7.txt:waiting',
      'f8.txt:waiting',
      'f9.txt:refused', // kept for the next retry
      'f10.txt:not started',
    ]);
  });

  it('a file the server refuses fails on its own, and the queue goes on', () => {
    queue.add(files(4));
    const [first] = uploads();
    first?.flush('no', { status: 415, statusText: 'Unsupported Media Type' });
    expect(queue.items()[0]).toMatchObject({ state: 'failed', message: 'server said 415' });
    expect(queue.error()).toBeNull();
    expect(uploads().map((r) => r.request.params.get('name'))).toEqual(['f4.txt']); // match() took f2, f3
  });

  it('the page shows the error and lists every file', () => {
    const fixture = TestBed.createComponent(UploadsPage);
    fixture.detectChanges();
    const input = fixture.nativeElement.querySelector('[data-testid=files]') as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: files(9) }); // jsdom has no DataTransfer
    input.dispatchEvent(new Event('change'));
    fixture.detectChanges();

    const alert = fixture.nativeElement.querySelector('[role=alert]') as HTMLElement;
    expect(alert.textContent).toContain('Upload queue full: "f9.txt"');
    const rows = fixture.nativeElement.querySelectorAll(
      '[data-testid=uploads] tr',
    ) as NodeListOf<HTMLElement>;
    expect(rows).toHaveLength(9);
    expect(rows[8]?.getAttribute('data-state')).toBe('refused');
    expect(fixture.nativeElement.querySelector('[data-testid=retry]')).not.toBeNull();
  });
});
