// The free names the documentation's examples assume, for scripts/check-docs.mjs. Each stands for
// something the reader's application has (a stream of events, an API call, a database); the types
// are what such a thing would plausibly be, so the examples are checked as strictly as real code.
import type { HttpClient } from '@angular/common/http';
import type { Observable } from 'rxjs';
import type { DropReason } from 'rxjs-backpressure';

interface AppEvent {
  type: string;
  at: number;
}
interface Draft {
  title: string;
  body: string;
}
interface ApiRequest {
  path: string;
}
/** A request to an HTTP server, answered through `reply`. */
interface IncomingRequest {
  client: string;
  reply(status: number, headers: Record<string, string>): void;
}
interface Update {
  id: string;
  text: string;
}
interface LoginAttempt {
  user: string;
}
interface Message {
  id: string;
  body: string;
}
interface Row {
  id: number;
}

declare global {
  // Streams
  const files$: Observable<File>;
  const queries$: Observable<string>;
  const formChanges$: Observable<Draft>;
  const events$: Observable<AppEvent>;
  const updates$: Observable<Update>;
  const requests$: Observable<ApiRequest>;
  const incoming$: Observable<IncomingRequest>;
  const batches$: Observable<readonly Row[]>;
  const logins$: Observable<LoginAttempt>;
  const messages$: Observable<Message>;
  const source$: Observable<number>;

  // Async work
  const http: HttpClient;
  function upload(file: File): Promise<void>;
  function search(query: string): Observable<string[]>;
  function store(event: AppEvent): Promise<void>;
  function callApi(request: ApiRequest): Observable<unknown>;
  function handle(message: Message): Promise<void>;
  function enrich(line: string): Promise<string>;
  function translate(text: string): Promise<string>;
  function index(row: Row): Promise<void>;

  // Pull sources
  const lines: AsyncIterable<string>;
  const cursor: AsyncIterable<Row>;
  const db: { cursor(sql: string): AsyncIterable<Row> };

  // Sinks and reporting
  function render(update: Update): void;
  function deny(attempt: LoginAttempt): void;
  function log(value: unknown, reason: DropReason): void;
  const metrics: { increment(name: string): void };
}
