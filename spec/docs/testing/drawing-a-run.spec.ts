// drawing-a-run.spec.ts
import { bufferSliding } from 'rxjs-backpressure';
import { recordMarbles, renderMarbleSvg } from 'rxjs-backpressure/testing';

it('records what bufferSliding(1) does with a slow job, and draws it', () => {
  const diagram = recordMarbles({
    title: 'bufferSliding(1, job)',
    inputs: { source: '-a-b-c-d-|' },
    run: ({ source, cold, onDrop, meter, scheduler }) =>
      source.pipe(
        bufferSliding(1, (v) => cold('----(x|)', { x: v.toUpperCase() }), { onDrop, meter, scheduler }),
      ),
    tracks: ['waiting'],
  });
  // a runs from 1 to 5; b waits; c arrives at 5, before a's job ends in that frame, and takes b's place.
  expect(diagram.drops.map(({ value, reason, frame }) => [value, reason, frame])).toEqual([
    ['b', 'overflow', 5],
  ]);
  const svg = renderMarbleSvg(diagram);
  expect(svg.startsWith('<svg')).toBe(true);
  // Write it next to your docs: writeFileSync('docs/bufferSliding.svg', svg).
});
