// rxjs-marbles.spec.ts
import { marbles } from 'rxjs-marbles/jest';
import { bufferSliding, tokenBucket } from 'rxjs-backpressure';
import { recordDrops } from 'rxjs-backpressure/testing';

it(
  'shapes a burst: capacity 2, 1 token per 10 ms',
  marbles((m) => {
    const source = m.cold('  (abcd|)');
    const expected = '       (ab) 6ms c 9ms (d|)';
    m.expect(source.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10 }))).toBeObservable(
      expected,
    );
  }),
);

it(
  'bufferSliding(1): a search box that ends on the latest query',
  marbles((m) => {
    const drops = recordDrops<string>({ clock: m.scheduler });
    const search = (query: string) => m.cold('----(r|)', { r: query.toUpperCase() });
    const queries = m.hot('-abcd------|');
    const expected = '     -----A---D-|'; // b and c were replaced while a ran
    m.expect(queries.pipe(bufferSliding(1, search, { onDrop: drops.onDrop }))).toBeObservable(expected, {
      A: 'A',
      D: 'D',
    });
    m.flush();
    expect(drops.drops).toEqual([
      { value: 'b', reason: 'overflow', time: 3 },
      { value: 'c', reason: 'overflow', time: 4 },
    ]);
  }),
);
