// An upload queue with bufferFixed: 3 uploads at once, 5 files waiting at most. A file that finds 5
// waiting errors the queue with a BufferOverflowError: the app shows it, and every file ends in a
// state the user can see (done, failed, refused, interrupted, not started), so nothing is lost silently.
import { HttpClient, HttpEventType } from '@angular/common/http';
import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import {
  catchError,
  defer,
  filter,
  finalize,
  map,
  Observable,
  of,
  Subject,
  tap,
  type Subscription,
} from 'rxjs';
import { bufferFixed, isBufferOverflowError } from 'rxjs-backpressure';
import type { UploadResponse } from '../fake-backend';

export const UPLOAD_CAPACITY = 5;
export const UPLOAD_CONCURRENCY = 3;

export type UploadState =
  'waiting' | 'uploading' | 'done' | 'failed' | 'refused' | 'interrupted' | 'not started';

export interface UploadItem {
  readonly id: number;
  readonly file: File;
  readonly state: UploadState;
  /** 0 to 100. */
  readonly progress: number;
  readonly message?: string;
}

interface Entry {
  readonly id: number;
  readonly file: File;
}

@Injectable({ providedIn: 'root' })
export class UploadQueue {
  private readonly http = inject(HttpClient);
  private files = new Subject<Entry>();
  private subscription: Subscription | undefined;
  private nextId = 1;

  /** Every file given to the queue, in order, with its state. */
  readonly items = signal<readonly UploadItem[]>([]);
  /** Why the queue stopped, until the user retries. */
  readonly error = signal<string | null>(null);

  constructor() {
    this.start();
    inject(DestroyRef).onDestroy(() => this.subscription?.unsubscribe());
  }

  /** Queues files for upload, in order. */
  add(files: Iterable<File>): void {
    for (const file of files) {
      const entry: Entry = { id: this.nextId++, file };
      this.items.update((list) => [...list, { ...entry, state: 'waiting', progress: 0 }]);
      if (this.error() === null) this.files.next(entry);
      else this.set(entry.id, { state: 'not started', message: 'the queue is stopped: retry' });
    }
  }

  /**
   * Starts a new queue and gives it the files that were not uploaded, as many as it takes at once
   * (3 running and 5 waiting); the others stay listed for the next retry.
   */
  retry(): void {
    const again = this.items().filter((i) =>
      ['failed', 'refused', 'interrupted', 'not started'].includes(i.state),
    );
    this.error.set(null);
    this.start();
    for (const item of again.slice(0, UPLOAD_CAPACITY + UPLOAD_CONCURRENCY)) {
      this.set(item.id, { state: 'waiting', progress: 0, message: undefined });
      this.files.next({ id: item.id, file: item.file });
    }
  }

  private start(): void {
    this.subscription?.unsubscribe();
    this.files = new Subject<Entry>();
    this.subscription = this.files
      .pipe(
        bufferFixed(UPLOAD_CAPACITY, (entry) => this.upload(entry), {
          concurrency: UPLOAD_CONCURRENCY,
          // 'cleared': still waiting when the queue errored (or the app was closed).
          onDrop: (entry, reason) =>
            this.set(entry.id, { state: 'not started', message: `not sent (${reason})` }),
        }),
      )
      .subscribe({
        error: (err: unknown) => {
          if (isBufferOverflowError(err)) {
            const refused = err.value as Entry;
            this.set(refused.id, { state: 'refused', message: 'the queue was full' });
            this.error.set(
              `Upload queue full: "${refused.file.name}" arrived while ${err.capacity} files were waiting ` +
                `(${err.name}). The queue stopped; the files below that were not uploaded can be retried.`,
            );
          } else {
            this.error.set(`The upload queue failed: ${String(err)}`);
          }
        },
      });
  }

  /** The upload of one file: never errors (a failure is shown on the file). */
  private upload(entry: Entry): Observable<UploadItem> {
    return defer(() => {
      let ended = false;
      this.set(entry.id, { state: 'uploading', progress: 0 });
      return this.http
        .post<UploadResponse>('/api/uploads', entry.file, {
          params: { name: entry.file.name },
          reportProgress: true,
          observe: 'events',
        })
        .pipe(
          tap((event) => {
            if (event.type === HttpEventType.UploadProgress && event.total) {
              this.set(entry.id, { progress: Math.round((100 * event.loaded) / event.total) });
            }
          }),
          filter((event) => event.type === HttpEventType.Response),
          map(() => this.set(entry.id, { state: 'done', progress: 100 })),
          catchError((err: { status?: number; message?: string }) =>
            of(this.set(entry.id, { state: 'failed', message: `server said ${err.status ?? '?'}` })),
          ),
          tap({ complete: () => (ended = true) }),
          finalize(() => {
            // Unsubscribed before it ended: the queue errored while this upload ran.
            if (!ended)
              this.set(entry.id, { state: 'interrupted', message: 'the queue stopped during the upload' });
          }),
        );
    });
  }

  private set(id: number, change: Partial<Omit<UploadItem, 'id' | 'file'>>): UploadItem {
    let changed: UploadItem | undefined;
    this.items.update((list) =>
      list.map((item) => (item.id === id ? (changed = { ...item, ...change }) : item)),
    );
    return changed as UploadItem;
  }
}
