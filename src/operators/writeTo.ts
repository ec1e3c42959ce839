import { isObservable, Observable, Subject } from 'rxjs';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';
import { reportUnhandledError } from '../internal/reportUnhandledError.js';
import { RingQueue } from '../internal/RingQueue.js';
import * as check from '../internal/validate.js';
import { attachMeter, checkMeter, type FlowMeter } from '../monitoring/FlowMeter.js';

/**
 * The part of a Node.js `Writable` that {@link writeTo} uses. Any `stream.Writable` (files, sockets,
 * HTTP responses, `Transform`s) fits; so does anything with the same methods and events.
 */
export interface WritableLike<T> {
  /** Writes one value; `false` asks the writer to wait for `'drain'` before the next. */
  write(chunk: T, callback?: (error?: Error | null) => void): boolean;
  /** No more writes; `'finish'` follows once everything written is flushed. */
  end(callback?: () => void): unknown;
  /** Listens for the next `'drain'`, `'finish'`, `'error'` or `'close'`. */
  once(event: 'drain' | 'finish' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
  /** Stops listening (the operator removes its listeners on teardown). */
  removeListener(
    event: 'drain' | 'finish' | 'error' | 'close',
    listener: (...args: unknown[]) => void,
  ): unknown;
}

/** Options of {@link writeTo}. */
export interface WriteToOptions {
  /**
   * End the writable when the source completes, and complete only after its `'finish'`.
   * With `false` the writable is left open and the output completes once the last write is accepted.
   * @default true
   */
  end?: boolean;
  /**
   * Require the pipeline to subscribe to `demand$`. A pipeline that never does is not paced by the
   * writable at all: it would read its whole input into memory while the output still looks right.
   * So by default the output errors with a `TypeError` (before writing anything) when the pipeline
   * emits a value without having subscribed to `demand$` (a pipeline may subscribe to it late, as long
   * as it does so before its first value). Set `false` for a pipeline that is paced some other way
   * (values beyond what the writable accepts then wait in memory for `'drain'`).
   * @default true
   */
  requireDemand?: boolean;
  /**
   * Counts what flows into the writable (see {@link FlowMeter}): values received from the pipeline,
   * released when written, waiting while they are held for `'drain'`.
   */
  meter?: FlowMeter;
}

const OPERATOR = 'writeTo';

/**
 * Ends a demand-driven pipeline in a Node.js `Writable`, honouring the writable's own backpressure.
 *
 * `build` receives the writable's demand (`demand$`) and returns the pipeline; pass `demand$` on to
 * {@link pullMap} (option `demand$`), {@link pullFrom} or {@link pullFeedback}. One value is asked for at a
 * time: each value the writable accepts (`write()` returned `true`) asks for the next; when `write()`
 * returns `false`, nothing more is asked for, and so nothing more is pulled upstream, until `'drain'`.
 *
 * ```text
 * writeTo(writable, (demand$) => pullFrom([a, b, c, d, e], demand$))      (1 frame = 1 ms)
 * writable: write() answers false with 2 values buffered; 'drain' (D) 5 frames later
 * demand$:  (11)-(11)-(11)
 * written:  (ab)-(cd)-e
 * drain:    -----D----D
 * output:   -----------(5|)      5 values written, after 'finish' (1 frame after end())
 * ```
 *
 * The returned Observable starts the pipeline on subscription, emits the number of values written
 * once the writable has emitted `'finish'` (after `end()`, unless `end: false`), then completes. A
 * pipeline error errors it (the writable is left open for you to destroy); a writable `'error'`, or a
 * `'close'` before `'finish'`, errors it and unsubscribes the pipeline, which releases the source
 * (`pullFrom`/`pullMap` call the iterator's `return()`). Values a pipeline sends beyond the demand it
 * was given are not lost: they wait, in order, for `'drain'`. A pipeline that emits without having
 * subscribed to `demand$` is an error (see `requireDemand`): it would not be paced at all.
 *
 * Unsubscribing leaves the writable open: not ended, not destroyed; it is yours. The pipeline is
 * unsubscribed (which releases the source) and writeTo's listeners are removed, except that while
 * writes it handed over may still fail, an `'error'` listener stays until the writable closes: an
 * `ERR_STREAM_DESTROYED` from destroying it is ignored, any other error goes to RxJS's
 * `config.onUnhandledError` (by default thrown asynchronously, as an `'error'` without a listener
 * would be). So destroying the writable right after unsubscribing cannot crash the process.
 *
 * ## Example
 * ```ts
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { createInterface } from 'node:readline';
 * import { lastValueFrom } from 'rxjs';
 * import { pullMap, writeTo } from 'rxjs-backpressure';
 *
 * const lines = createInterface({ input: createReadStream('in.txt'), crlfDelay: Infinity });
 * const written = await lastValueFrom(
 *   writeTo(createWriteStream('out.txt'), (demand$) =>
 *     pullMap(lines, async (line) => (await translate(line)) + '\n', { concurrency: 4, ordered: true, demand$ }),
 *   ),
 * );
 * ```
 *
 * @param writable A Node.js `Writable` (or anything {@link WritableLike}).
 * @param build Builds the pipeline from the writable's demand.
 * @param options `end` (default true), `requireDemand` (default true).
 * @return An Observable that emits how many values were written, after `'finish'`, then completes.
 */
export function writeTo<T>(
  writable: WritableLike<T>,
  build: (demand$: Observable<number>) => Observable<T>,
  options?: WriteToOptions,
): Observable<number> {
  const w = writable as Partial<WritableLike<T>> | null | undefined;
  if (
    typeof w !== 'object' ||
    w === null ||
    typeof w.write !== 'function' ||
    typeof w.end !== 'function' ||
    typeof w.once !== 'function' ||
    typeof w.removeListener !== 'function'
  ) {
    throw new TypeError(
      `${OPERATOR}: \`writable\` must be a Node.js Writable (write, end, once, removeListener), got ${check.describe(writable)}`,
    );
  }
  check.isFunction(OPERATOR, 'build', build);
  check.options(OPERATOR, options, ['end', 'requireDemand', 'meter']);
  const { end = true, requireDemand = true, meter } = options ?? {};
  checkMeter(OPERATOR, meter);
  check.optionalBoolean(OPERATOR, 'end', end);
  check.optionalBoolean(OPERATOR, 'requireDemand', requireDemand);

  return new Observable<number>((destination) => {
    const demand = new Subject<number>();
    /** Granted and not yet received, replayed to a pipeline that subscribes to demand$ late. */
    let outstanding = 0;
    const grant = (n: number): void => {
      outstanding += n;
      demand.next(n);
    };
    let demandSubscribed = false;
    const demand$ = new Observable<number>((subscriber) => {
      demandSubscribed = true;
      // Subscribe first, so that demand granted while the replayed amount is being used is not missed.
      const subscription = demand.subscribe(subscriber);
      if (outstanding > 0) subscriber.next(outstanding);
      return subscription;
    });
    const held = new RingQueue<T>();
    let written = 0;
    let waitingForDrain = false;
    let sourceDone = false;
    let finished = false;
    /** Values accepted while waiting for 'drain' and not yet answered with demand. */
    let owed = 0;

    const fail = (err: unknown): void => {
      destination.error(err);
    };
    const onClose = (): void => {
      if (!finished) fail(new Error(`${OPERATOR}: the writable closed before it finished`));
    };
    const onFinish = (): void => {
      finished = true;
      destination.next(written);
      destination.complete();
    };
    writable.once('error', fail);
    writable.once('close', onClose);
    destination.add(() => {
      writable.removeListener('error', fail);
      writable.removeListener('close', onClose);
      writable.removeListener('finish', onFinish);
      writable.removeListener('drain', onDrain);
      // The writable stays open: it is the caller's. Writes already handed to it may still fail (a
      // caller destroying it right after unsubscribing makes them fail with ERR_STREAM_DESTROYED);
      // with no listener left, that 'error' would crash the process. Until it closes, such errors are
      // ignored and any other is reported as unhandled, as RxJS does for errors after unsubscribe.
      if (!finished && written > 0) listenAfterUnsubscribe(writable);
      // Values still held for 'drain' will not be written: the meter counts them 'cleared'.
      held.drainTo((value) => probe?.dropped(value, 'cleared'));
      probe?.detach();
    });

    /** Writes one value; returns false when the writable asks us to wait for 'drain'. */
    const probe = meter ? attachMeter(meter, {}) : undefined;
    /** When each held value arrived (on the meter's clock), for its wait; kept only with a meter. */
    const heldSince = probe ? new RingQueue<number>() : undefined;
    const writeOne = (value: T, wait = 0): boolean => {
      written++;
      probe?.released(wait);
      if (writable.write(value)) return true;
      waitingForDrain = true;
      writable.once('drain', onDrain);
      return false;
    };

    const finish = (): void => {
      if (!end) {
        onFinish();
        return;
      }
      writable.once('finish', onFinish);
      writable.end();
    };

    function onDrain(): void {
      waitingForDrain = false;
      // The value that filled the buffer is accepted now. Values that waited are written first, in
      // order, and only then is demand granted, so nothing new can overtake them.
      owed++;
      while (held.length > 0 && !destination.closed) {
        let wait = 0;
        if (probe && heldSince) {
          probe.waiting(-1);
          wait = probe.now() - heldSince.shift();
        }
        if (!writeOne(held.shift(), wait)) return;
        owed++;
      }
      if (destination.closed) return;
      if (sourceDone) {
        finish();
        return;
      }
      const owedNow = owed;
      owed = 0;
      grant(owedNow);
    }

    let source: Observable<T>;
    try {
      source = build(demand$);
    } catch (err) {
      fail(err);
      return;
    }
    if (!isObservable(source)) {
      fail(new TypeError(`${OPERATOR}: \`build\` must return an Observable, got ${check.describe(source)}`));
      return;
    }
    const checkPaced = (): boolean => {
      if (!requireDemand || demandSubscribed) return true;
      fail(
        new TypeError(
          `${OPERATOR}: the pipeline did not subscribe to demand$, so nothing paces it and it would read its whole input into memory. Pass demand$ on (pullMap's demand$ option, pullFrom, pullFeedback), or set requireDemand: false.`,
        ),
      );
      return false;
    };
    source.subscribe(
      new OperatorSubscriber<T>(destination, {
        next: (value) => {
          if (!checkPaced()) return;
          probe?.received();
          if (outstanding > 0) outstanding--;
          if (waitingForDrain) {
            held.push(value);
            if (probe && heldSince) {
              probe.waiting(1);
              heldSince.push(probe.now());
            }
            return;
          }
          if (writeOne(value)) grant(1);
        },
        error: fail,
        complete: () => {
          sourceDone = true;
          if (!waitingForDrain) finish();
        },
      }),
    );
    if (!destination.closed) grant(1);
  });
}

/** The writable's own errors are ignored until it closes; see the teardown above. */
function listenAfterUnsubscribe(writable: WritableLike<unknown>): void {
  const onError = (err: unknown): void => {
    if ((err as { code?: unknown } | null)?.code === 'ERR_STREAM_DESTROYED') return;
    reportUnhandledError(err);
  };
  const onClose = (): void => {
    writable.removeListener('error', onError);
  };
  writable.once('error', onError);
  writable.once('close', onClose);
}
