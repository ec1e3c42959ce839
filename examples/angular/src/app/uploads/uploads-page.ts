import { DecimalPipe } from '@angular/common';
import { Component, computed, inject } from '@angular/core';
import { UPLOAD_CAPACITY, UPLOAD_CONCURRENCY, UploadQueue } from './upload-queue';

@Component({
  selector: 'app-uploads-page',
  imports: [DecimalPipe],
  template: `
    <h1>
      Upload queue:
      <code>bufferFixed({{ capacity }}, upload, {{ '{' }} concurrency: {{ concurrency }} {{ '}' }})</code>
    </h1>
    <p class="muted">
      {{ concurrency }} uploads run at once and {{ capacity }} files may wait. One more is an error the queue
      reports (a <code>BufferOverflowError</code>), never a file quietly forgotten. Files named
      <code>*.exe</code> are refused by the server: they fail and the queue goes on.
    </p>
    <label>
      Add files
      <input #picker type="file" multiple data-testid="files" (change)="add(picker)" />
    </label>
    <button type="button" data-testid="samples" (click)="addSamples(4)">Add 4 sample files</button>

    @if (queue.error(); as error) {
      <p class="error" role="alert" data-testid="error">{{ error }}</p>
      <button type="button" data-testid="retry" (click)="queue.retry()">Retry the files not uploaded</button>
    }

    <p data-testid="summary">
      {{ count('uploading') }} uploading · {{ count('waiting') }} waiting · {{ count('done') }} done
    </p>
    <table>
      <thead>
        <tr>
          <th>#</th>
          <th>file</th>
          <th>size</th>
          <th>state</th>
          <th>progress</th>
        </tr>
      </thead>
      <tbody data-testid="uploads">
        @for (item of queue.items(); track item.id) {
          <tr [attr.data-state]="item.state">
            <td>{{ item.id }}</td>
            <td>{{ item.file.name }}</td>
            <td>{{ item.file.size | number }} B</td>
            <td>
              {{ item.state }}
              @if (item.message) {
                <span class="muted">({{ item.message }})</span>
              }
            </td>
            <td><progress max="100" [value]="item.progress"></progress> {{ item.progress }}%</td>
          </tr>
        }
      </tbody>
    </table>
  `,
})
export class UploadsPage {
  readonly queue = inject(UploadQueue);
  readonly capacity = UPLOAD_CAPACITY;
  readonly concurrency = UPLOAD_CONCURRENCY;
  private samples = 0;

  private readonly counts = computed(() => {
    const counts = new Map<string, number>();
    for (const item of this.queue.items()) counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
    return counts;
  });

  count(state: string): number {
    return this.counts().get(state) ?? 0;
  }

  add(picker: HTMLInputElement): void {
    if (picker.files) this.queue.add(Array.from(picker.files));
    picker.value = '';
  }

  addSamples(n: number): void {
    const files: File[] = [];
    for (let i = 0; i < n; i++) {
      const k = ++this.samples;
      files.push(new File(['x'.repeat(1000 * k)], `sample-${k}.txt`, { type: 'text/plain' }));
    }
    this.queue.add(files);
  }
}
