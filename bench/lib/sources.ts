/** Inputs shared by the benchmarks: synchronous sources and reproducible random numbers. */
import { Observable } from 'rxjs';

/** A synchronous source of `n` values that stops as soon as its subscriber is closed. */
export function firehose<T>(n: number, value: (i: number) => T): Observable<T> {
  return new Observable<T>((subscriber) => {
    for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next(value(i));
    subscriber.complete();
  });
}

/**
 * `size` pseudo-random numbers in [0, 1) from a fixed seed (mulberry32), so that every run and every
 * case sees the same sequence.
 */
export function randomTable(size: number, seed = 0x9e3779b9): Float64Array {
  const table = new Float64Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    table[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return table;
}
