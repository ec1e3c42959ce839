import { from, type Observable, type ObservableInput } from 'rxjs';
import { describe } from './validate.js';

/**
 * `from(input)` for what a `project` returned, with an error that names the operator when it is not
 * an `ObservableInput` (RxJS's own message names neither the operator nor the option).
 */
export function toObservable<R>(
  operator: string,
  input: ObservableInput<R>,
  what = '`project`',
): Observable<R> {
  try {
    return from(input);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new TypeError(
      `${operator}: ${what} must return an ObservableInput (an Observable, Promise, array, iterable or async iterable), got ${describe(input)}`,
      { cause: err },
    );
  }
}
