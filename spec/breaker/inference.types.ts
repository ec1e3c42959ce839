// Type tests (compiled by `npm run typecheck`, not run by jest): protect's value type `T` comes from
// the source and `R` from `project`; a fallback must give an `R`; guard keeps the source's type.
import { Observable, of, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import { expectTypeOf } from 'expect-type';
import {
  CircuitBreaker,
  CircuitOpenError,
  type CircuitState,
  type CircuitStateChange,
  type DropReason,
} from 'rxjs-backpressure';

declare const numbers$: Observable<number>;
declare function send(value: number): Observable<string>;

const breaker = new CircuitBreaker({ consecutiveFailures: 3 });

expectTypeOf(numbers$.pipe(breaker.protect(send))).toEqualTypeOf<Observable<string>>();
expectTypeOf(breaker.protect(send)).toEqualTypeOf<OperatorFunction<number, string>>();

// The index is passed; a Promise or an array is an ObservableInput.
expectTypeOf(numbers$.pipe(breaker.protect((v: number, i: number) => Promise.resolve(v + i)))).toEqualTypeOf<
  Observable<number>
>();

// whenOpen's fallback gets the value and the CircuitOpenError, and must give what project gives.
numbers$.pipe(
  breaker.protect(send, {
    whenOpen: (value, error) => {
      expectTypeOf(value).toEqualTypeOf<number>();
      expectTypeOf(error).toEqualTypeOf<CircuitOpenError>();
      return of(`fallback ${String(value)}`);
    },
  }),
);
numbers$.pipe(
  breaker.protect(send, {
    // @ts-expect-error: a fallback of numbers where project gives strings
    whenOpen: () => of(1),
  }),
);
numbers$.pipe(
  breaker.protect(send, {
    onDrop: (value, reason) => {
      expectTypeOf(value).toEqualTypeOf<number>();
      expectTypeOf(reason).toEqualTypeOf<DropReason>();
    },
  }),
);
// @ts-expect-error: not a whenOpen
breaker.protect(send, { whenOpen: 'retry' });

expectTypeOf(breaker.guard<string>()).toEqualTypeOf<MonoTypeOperatorFunction<string>>();
expectTypeOf(of('a').pipe(breaker.guard())).toEqualTypeOf<Observable<string>>();

expectTypeOf(breaker.state).toEqualTypeOf<CircuitState>();
expectTypeOf(breaker.state$).toEqualTypeOf<Observable<CircuitStateChange>>();
expectTypeOf(breaker.isolate()).toEqualTypeOf<{ release(): void }>();
expectTypeOf(new CircuitOpenError('open', 5).retryAfter).toEqualTypeOf<number>();

// A snapshot is plain JSON and goes back in as initialState.
new CircuitBreaker({ consecutiveFailures: 3, initialState: breaker.toJSON() });
