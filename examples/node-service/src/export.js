// GET /export?rows=N: a large generated result set as NDJSON, produced only as fast as the client
// reads it. writeTo asks for one chunk at a time and stops asking while the socket's write() answers
// false, until 'drain'; pullFrom pulls the generator only as far as that demand goes. A slow client
// therefore holds the generator, and the service's memory stays flat whatever N is. When the client
// goes away, writeTo sees the response close before 'finish', unsubscribes, and pullFrom calls the
// generator's return(): its `finally` runs and nothing keeps producing.
import { pullFrom, writeTo } from 'rxjs-backpressure';

const ROWS_PER_CHUNK = 64;
export const DEFAULT_EXPORT_ROWS = 1_000_000;
const MAX_EXPORT_ROWS = 100_000_000;

/** Chunks of NDJSON rows: each about 6 KB. */
function* generateRows(total, onRelease) {
  try {
    for (let start = 0; start < total; start += ROWS_PER_CHUNK) {
      let chunk = '';
      const end = Math.min(total, start + ROWS_PER_CHUNK);
      for (let i = start; i < end; i++) {
        chunk += `{"row":${i},"client":"c${i % 97}","amount":${(i * 7919) % 100000},"note":"generated row ${i} of ${total}"}\n`;
      }
      yield chunk;
    }
  } finally {
    onRelease();
  }
}

/** Starts an export on `res`; `exports` is the set of running exports (ended at shutdown). */
export function handleExport(req, res, { meter, exports }) {
  const rows = Number(new URL(req.url, 'http://x').searchParams.get('rows') ?? DEFAULT_EXPORT_ROWS);
  if (!Number.isInteger(rows) || rows < 0 || rows > MAX_EXPORT_ROWS) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `rows must be an integer from 0 to ${MAX_EXPORT_ROWS}` }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const running = { res, subscription: undefined };
  exports.add(running);
  const release = () => exports.delete(running);
  running.subscription = writeTo(res, (demand$) => pullFrom(generateRows(rows, release), demand$), {
    meter,
  }).subscribe({
    // The client went away (or the socket failed): the generator has been released already.
    error: () => {
      release();
      res.destroy();
    },
    complete: release,
  });
}
