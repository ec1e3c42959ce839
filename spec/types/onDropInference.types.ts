// Type tests (compiled by `npm run typecheck`, not run by jest): an operator's value type `T` comes
// from the source and from `project`, never from `onDrop` or another callback that takes a `T`.
import { Observable, of, Subject, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import type { Writable } from 'node:stream';
import { expectTypeOf } from 'expect-type';
import {
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferSliding,
  leakyBucket,
  pullFeedback,
  pullFrom,
  pullMap,
  tokenBucket,
  writeTo,
  type BufferBoundedOptions,
  type BufferOptions,
  type DropReason,
  type LeakyBucketOptions,
  type PullFeedbackOptions,
  type TokenBucketOptions,
  type WritableLike,
} from 'rxjs-backpressure';
import { recordDrops } from 'rxjs-backpressure/testing';

declare const numbers$: Observable<number>;
declare const demand$: Observable<number>;
declare function save(value: number): Observable<string>;
/** A logger that takes anything: the README's `log`. */
declare function log(value: unknown, reason: DropReason): void;
const wideOnDrop = (value: unknown, reason: DropReason): void => {
  log(value, reason);
};
const narrowWrongOnDrop = (value: string): void => {
  log(value, 'overflow');
};

// ---------------------------------------------------------------------------------------------
// bufferFixed, bufferDropping, bufferSliding: T from the source, R from project.
// ---------------------------------------------------------------------------------------------

expectTypeOf(numbers$.pipe(bufferFixed(1, (x) => of(String(x))))).toEqualTypeOf<Observable<string>>();
expectTypeOf(numbers$.pipe(bufferDropping(1, (x) => of(String(x))))).toEqualTypeOf<Observable<string>>();
expectTypeOf(numbers$.pipe(bufferSliding(1, (x) => of(String(x))))).toEqualTypeOf<Observable<string>>();

// project's parameter is contextually typed from the source, also with a wide onDrop.
numbers$.pipe(
  bufferFixed(
    1,
    (x) => {
      expectTypeOf(x).toEqualTypeOf<number>();
      return save(x);
    },
    { onDrop: wideOnDrop },
  ),
);
numbers$.pipe(
  bufferDropping(
    1,
    (x) => {
      expectTypeOf(x).toEqualTypeOf<number>();
      return save(x);
    },
    { onDrop: (value: unknown, reason) => log(value, reason) },
  ),
);
numbers$.pipe(
  bufferSliding(
    1,
    (x) => {
      expectTypeOf(x).toEqualTypeOf<number>();
      return save(x);
    },
    { onDrop: recordDrops().onDrop },
  ),
);

// A wide onDrop does not widen T: the output stays typed, and T is the source's.
expectTypeOf(bufferFixed(1, (x: number) => save(x), { onDrop: wideOnDrop }))
  .parameter(0)
  .toEqualTypeOf<Observable<number>>();
expectTypeOf(numbers$.pipe(bufferFixed(1, save, { onDrop: wideOnDrop }))).toEqualTypeOf<Observable<string>>();
expectTypeOf(numbers$.pipe(bufferDropping(1, save, { onDrop: wideOnDrop }))).toEqualTypeOf<
  Observable<string>
>();
expectTypeOf(numbers$.pipe(bufferSliding(1, save, { onDrop: wideOnDrop }))).toEqualTypeOf<
  Observable<string>
>();

// T from project's annotation, without a source.
expectTypeOf(bufferFixed(1, (x: number) => of(String(x)), { onDrop: wideOnDrop })).toEqualTypeOf<
  OperatorFunction<number, string>
>();
expectTypeOf(bufferDropping(1, (x: number) => of(x > 0), { onDrop: recordDrops().onDrop })).toEqualTypeOf<
  OperatorFunction<number, boolean>
>();
expectTypeOf(bufferSliding(1, (x: number) => of(String(x)), { onDrop: wideOnDrop })).toEqualTypeOf<
  OperatorFunction<number, string>
>();

// An onDrop for another type is an error.
// @ts-expect-error onDrop takes a string, the stream carries numbers
numbers$.pipe(bufferFixed(1, save, { onDrop: narrowWrongOnDrop }));
// @ts-expect-error onDrop takes a string, the stream carries numbers
numbers$.pipe(bufferDropping(1, save, { onDrop: narrowWrongOnDrop }));
// @ts-expect-error onDrop takes a string, the stream carries numbers
numbers$.pipe(bufferSliding(1, save, { onDrop: narrowWrongOnDrop }));
// @ts-expect-error onDrop takes a string, project a number
bufferFixed(1, (x: number) => save(x), { onDrop: narrowWrongOnDrop });

// ---------------------------------------------------------------------------------------------
// bufferBounded: the README's example, with a `log(value: unknown, reason)`.
// ---------------------------------------------------------------------------------------------

numbers$.pipe(bufferBounded(10, (e) => save(e), { overflow: 'drop-newest-queued', onDrop: log }));
expectTypeOf(
  numbers$.pipe(bufferBounded(10, (e) => save(e), { overflow: 'drop-newest-queued', onDrop: log })),
).toEqualTypeOf<Observable<string>>();
expectTypeOf(
  numbers$.pipe(
    bufferBounded(10, (x) => of(String(x)), { overflow: 'drop-oldest', onDrop: recordDrops().onDrop }),
  ),
).toEqualTypeOf<Observable<string>>();
expectTypeOf(
  bufferBounded(10, (x: number) => of(String(x)), { overflow: 'drop-oldest', onDrop: wideOnDrop }),
).toEqualTypeOf<OperatorFunction<number, string>>();
numbers$.pipe(
  // @ts-expect-error onDrop takes a string, the stream carries numbers
  bufferBounded(10, save, { overflow: 'drop-oldest', onDrop: narrowWrongOnDrop }),
);

// ---------------------------------------------------------------------------------------------
// tokenBucket: onDrop and the cost function take a T; neither decides it.
// ---------------------------------------------------------------------------------------------

expectTypeOf(numbers$.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1 }))).toEqualTypeOf<
  Observable<number>
>();
expectTypeOf(
  numbers$.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, mode: 'police', onDrop: wideOnDrop })),
).toEqualTypeOf<Observable<number>>();
expectTypeOf(
  numbers$.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, onDrop: recordDrops().onDrop })),
).toEqualTypeOf<Observable<number>>();
expectTypeOf(
  numbers$.pipe(
    tokenBucket({ capacity: 10, tokensPerInterval: 1, cost: (value: unknown) => String(value).length }),
  ),
).toEqualTypeOf<Observable<number>>();
numbers$.pipe(
  tokenBucket({
    capacity: 10,
    tokensPerInterval: 1,
    cost: (value) => {
      expectTypeOf(value).toEqualTypeOf<number>();
      return value;
    },
    onDrop: (value, reason) => {
      expectTypeOf(value).toEqualTypeOf<number>();
      expectTypeOf(reason).toEqualTypeOf<DropReason>();
    },
  }),
);
expectTypeOf(tokenBucket<number>({ capacity: 1, tokensPerInterval: 1, onDrop: wideOnDrop })).toEqualTypeOf<
  MonoTypeOperatorFunction<number>
>();
// @ts-expect-error onDrop takes a string, the stream carries numbers
numbers$.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, onDrop: narrowWrongOnDrop }));
// @ts-expect-error cost takes a string, the stream carries numbers
numbers$.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, cost: (value: string) => value.length }));

// ---------------------------------------------------------------------------------------------
// leakyBucket
// ---------------------------------------------------------------------------------------------

expectTypeOf(numbers$.pipe(leakyBucket({ interval: 10 }))).toEqualTypeOf<Observable<number>>();
expectTypeOf(numbers$.pipe(leakyBucket({ interval: 10, capacity: 1, onDrop: wideOnDrop }))).toEqualTypeOf<
  Observable<number>
>();
expectTypeOf(numbers$.pipe(leakyBucket({ interval: 10, onDrop: recordDrops().onDrop }))).toEqualTypeOf<
  Observable<number>
>();
numbers$.pipe(
  leakyBucket({
    interval: 10,
    onDrop: (value) => {
      expectTypeOf(value).toEqualTypeOf<number>();
    },
  }),
);
// @ts-expect-error onDrop takes a string, the stream carries numbers
numbers$.pipe(leakyBucket({ interval: 10, onDrop: narrowWrongOnDrop }));

// ---------------------------------------------------------------------------------------------
// pullFeedback
// ---------------------------------------------------------------------------------------------

expectTypeOf(numbers$.pipe(pullFeedback(demand$))).toEqualTypeOf<Observable<number>>();
expectTypeOf(numbers$.pipe(pullFeedback(demand$, { capacity: 1, onDrop: wideOnDrop }))).toEqualTypeOf<
  Observable<number>
>();
expectTypeOf(numbers$.pipe(pullFeedback(demand$, { onDrop: recordDrops().onDrop }))).toEqualTypeOf<
  Observable<number>
>();
numbers$.pipe(
  pullFeedback(demand$, {
    onDrop: (value) => {
      expectTypeOf(value).toEqualTypeOf<number>();
    },
  }),
);
// @ts-expect-error onDrop takes a string, the stream carries numbers
numbers$.pipe(pullFeedback(demand$, { onDrop: narrowWrongOnDrop }));

// ---------------------------------------------------------------------------------------------
// pullFrom and pullMap: T from the input and project; writeTo: T from the pipeline.
// ---------------------------------------------------------------------------------------------

expectTypeOf(pullFrom([1, 2, 3], demand$)).toEqualTypeOf<Observable<number>>();
declare function lines(): AsyncGenerator<string>;
expectTypeOf(pullFrom(lines(), demand$, { initialDemand: 1 })).toEqualTypeOf<Observable<string>>();

expectTypeOf(pullMap([1, 2, 3], (x) => of(String(x)))).toEqualTypeOf<Observable<string>>();
pullMap([1, 2, 3], (x) => {
  expectTypeOf(x).toEqualTypeOf<number>();
  return save(x);
});
expectTypeOf(pullMap(lines(), async (line) => line.length, { concurrency: 4, demand$ })).toEqualTypeOf<
  Observable<number>
>();
expectTypeOf(pullMap([1, 2, 3], (x: number) => of(String(x)))).toEqualTypeOf<Observable<string>>();
// A project for a wider type accepts the input; its annotation is what T becomes.
expectTypeOf(pullMap([1, 2, 3], (x: unknown) => of(String(x)))).toEqualTypeOf<Observable<string>>();
// @ts-expect-error project takes a string, the input yields numbers
pullMap([1, 2, 3], (x: string) => of(x));

declare const stringWritable: WritableLike<string>;
declare const anyWritable: WritableLike<unknown>;
expectTypeOf(
  writeTo(stringWritable, (d$) => pullMap(lines(), (line) => of(line + '\n'), { demand$: d$ })),
).toEqualTypeOf<Observable<number>>();
writeTo(anyWritable, (d$) => {
  const out$ = pullMap(lines(), (line) => of(line.length), { demand$: d$ });
  expectTypeOf(out$).toEqualTypeOf<Observable<number>>();
  return out$;
});
// A Node.js Writable (whose write takes any chunk) fits; the output counts what was written.
declare const nodeWritable: Writable;
expectTypeOf(
  writeTo(nodeWritable, (d$) =>
    pullMap(lines(), async (line) => line + '\n', { concurrency: 4, ordered: true, demand$: d$ }),
  ),
).toEqualTypeOf<Observable<number>>();
// @ts-expect-error the writable takes strings, the pipeline makes numbers
writeTo(stringWritable, (d$) => pullMap([1, 2], (x) => of(x), { demand$: d$ }));

// ---------------------------------------------------------------------------------------------
// The option types stay nameable and usable on their own.
// ---------------------------------------------------------------------------------------------

const bufferOptions: BufferOptions<number> = { concurrency: 2, onDrop: wideOnDrop };
expectTypeOf(numbers$.pipe(bufferFixed(1, save, bufferOptions))).toEqualTypeOf<Observable<string>>();
const boundedOptions: BufferBoundedOptions<number> = {
  overflow: 'drop-queue',
  onDrop: (v: number) => log(v, 'overflow'),
};
expectTypeOf(numbers$.pipe(bufferBounded(1, save, boundedOptions))).toEqualTypeOf<Observable<string>>();
const tokenOptions: TokenBucketOptions<number> = { capacity: 1, tokensPerInterval: 1, cost: (v) => v };
expectTypeOf(numbers$.pipe(tokenBucket(tokenOptions))).toEqualTypeOf<Observable<number>>();
const leakyOptions: LeakyBucketOptions<number> = { interval: 1, onDrop: wideOnDrop };
expectTypeOf(numbers$.pipe(leakyBucket(leakyOptions))).toEqualTypeOf<Observable<number>>();
const feedbackOptions: PullFeedbackOptions<number> = { capacity: 1 };
expectTypeOf(numbers$.pipe(pullFeedback(demand$, feedbackOptions))).toEqualTypeOf<Observable<number>>();
// Options for another type are an error.
const stringBufferOptions: BufferOptions<string> = { onDrop: narrowWrongOnDrop };
// @ts-expect-error options for strings on a number stream
numbers$.pipe(bufferFixed(1, save, stringBufferOptions));

// A Subject, to show T is the source's element type whatever onDrop says.
const subject = new Subject<'a' | 'b'>();
expectTypeOf(subject.pipe(leakyBucket({ interval: 1, onDrop: wideOnDrop }))).toEqualTypeOf<
  Observable<'a' | 'b'>
>();

// ---------------------------------------------------------------------------------------------
// Outside a pipe and without a project, nothing else fixes T: an annotated onDrop or cost does not
// decide it either, so such an operator built on its own names T explicitly.
// ---------------------------------------------------------------------------------------------

// @ts-expect-error T is not taken from onDrop: name it, as below
tokenBucket({ capacity: 1, tokensPerInterval: 1, onDrop: narrowWrongOnDrop });
const limitStrings = tokenBucket<string>({ capacity: 1, tokensPerInterval: 1, cost: (s) => s.length });
expectTypeOf(limitStrings).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
expectTypeOf(leakyBucket({ interval: 1, onDrop: wideOnDrop })).toEqualTypeOf<
  MonoTypeOperatorFunction<unknown>
>();
