import { Writable } from 'node:stream';
import { EMPTY, NEVER, of, type Observable } from 'rxjs';
import {
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferPriority,
  bufferSliding,
  FlowMeter,
  leakyBucket,
  pullFeedback,
  pullFrom,
  pullMap,
  tokenBucket,
  writeTo,
} from 'rxjs-backpressure';
import { thrownBy } from '../helpers/marbles';

/*
 * Issue 9, section 1 and Tests: a `meter` option on every operator, and a `meter` that is not a
 * FlowMeter is a clear error at creation, naming the operator and the option.
 */

const project = (v: unknown): Observable<unknown> => of(v);
const sink = (): Writable => new Writable({ objectMode: true, write: (_c, _e, cb) => cb() });

/** Every operator, made with `meter` (and whatever else it requires). */
const METERED: readonly [string, (meter: unknown) => unknown][] = [
  ['bufferFixed', (meter) => bufferFixed(1, project, { meter } as never)],
  ['bufferDropping', (meter) => bufferDropping(1, project, { meter } as never)],
  ['bufferSliding', (meter) => bufferSliding(1, project, { meter } as never)],
  ['bufferBounded', (meter) => bufferBounded(1, project, { overflow: 'drop-oldest', meter } as never)],
  ['bufferPriority', (meter) => bufferPriority(1, project, { priority: () => 0, meter } as never)],
  ['tokenBucket', (meter) => tokenBucket({ capacity: 1, tokensPerInterval: 1, meter } as never)],
  ['leakyBucket', (meter) => leakyBucket({ interval: 10, meter } as never)],
  ['pullFeedback', (meter) => pullFeedback(NEVER, { meter } as never)],
  ['pullFrom', (meter) => pullFrom([1], NEVER, { meter } as never)],
  ['pullMap', (meter) => pullMap([1], project, { meter } as never)],
  ['writeTo', (meter) => writeTo(sink(), () => EMPTY, { meter } as never)],
];

const NOT_METERS: [string, unknown, string][] = [
  ['a string', 'uploads', '"uploads" (string)'],
  ['a number', 42, '42 (number)'],
  ['null', null, 'null'],
  ['a plain object', {}, '[object Object] (object)'],
  ['its options', { name: 'uploads' }, '[object Object] (object)'],
  ['a function', () => new FlowMeter({ name: 'm' }), 'a function'],
  ['an array', [], 'an array'],
  ['a marker that is not true', { isFlowMeter: 'yes' }, '[object Object] (object)'],
];

describe('the meter option', () => {
  describe.each(METERED)('%s', (operator, make) => {
    it.each(NOT_METERS)('refuses %s at creation, naming the operator and the option', (_, value, shown) => {
      expect(thrownBy(() => make(value))).toEqual(
        expect.objectContaining({
          class: TypeError,
          message: `${operator}: \`meter\` must be a FlowMeter, got ${shown}`,
        }),
      );
    });

    it('takes a FlowMeter, and undefined as no meter', () => {
      expect(() => make(new FlowMeter({ name: 'm' }))).not.toThrow();
      expect(() => make(undefined)).not.toThrow();
    });
  });

  it('an object that only claims the marker is refused at creation by every operator', () => {
    // `{ isFlowMeter: true }` has nothing to count with. Accepted at creation, it fails each
    // subscription with "meter[ATTACH] is not a function", which names neither operator nor option.
    const accepted = METERED.filter(([, make]) => {
      try {
        make({ isFlowMeter: true });
        return true;
      } catch (err) {
        expect(err).toBeInstanceOf(TypeError);
        return false;
      }
    }).map(([operator]) => operator);
    expect(accepted).toEqual([]);
  });
});
