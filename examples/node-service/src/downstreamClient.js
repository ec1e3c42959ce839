import { Agent, request } from 'node:http';
import { Observable } from 'rxjs';

/** The downstream answered something other than 200. */
export class DownstreamError extends Error {
  constructor(status) {
    super(`downstream answered ${status}`);
    this.name = 'DownstreamError';
    this.status = status;
  }
}

/**
 * One delivery to the downstream as a cold Observable: subscribing sends the event, the Observable
 * emits the status and completes on a 200, errors otherwise; unsubscribing before the answer aborts
 * the request (the breaker's `callTimeout` and the shutdown deadline rely on that).
 */
export function createDownstreamClient(baseUrl, { maxSockets = 64 } = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const url = new URL('/deliver', baseUrl);
  return {
    agent,
    deliver(event) {
      return new Observable((subscriber) => {
        const body = JSON.stringify(event);
        let finished = false;
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              finished = true;
              if (res.statusCode === 200) {
                subscriber.next(res.statusCode);
                subscriber.complete();
              } else {
                subscriber.error(new DownstreamError(res.statusCode));
              }
            });
            res.on('error', (err) => {
              finished = true;
              subscriber.error(err);
            });
          },
        );
        req.on('error', (err) => {
          finished = true;
          subscriber.error(err);
        });
        req.end(body);
        return () => {
          if (!finished) req.destroy();
        };
      });
    },
    close() {
      agent.destroy();
    },
  };
}
