import { catchError, concatMap, EMPTY, mergeMap } from 'rxjs';
import { bufferSliding } from '../../src/index';
import { compare, constant, downstream, fixed } from '../../src/simulation/index';

describe('compare', () => {
  const options = {
    duration: 10_000,
    sampleEvery: 500,
    arrivals: constant({ rate: 100 }),
    downstream: downstream({
      workers: 2,
      serviceTime: fixed(25),
      timeout: 500,
      phases: [{ at: 4_000, workers: 1 }],
    }),
    policies: {
      concatMap: (call) => concatMap((r) => call(r).pipe(catchError(() => EMPTY))),
      'mergeMap(f, 4)': (call) => mergeMap((r) => call(r).pipe(catchError(() => EMPTY)), 4),
      'bufferSliding(10) <&>': (call, { onDrop }) =>
        bufferSliding(10, call, { concurrency: 2, onDrop, onError: 'continue' }),
    },
  } satisfies Parameters<typeof compare>[0];

  it('runs every policy on the same arrivals and returns their reports', () => {
    const { reports } = compare(options);
    expect(Object.keys(reports)).toEqual(['concatMap', 'mergeMap(f, 4)', 'bufferSliding(10) <&>']);
    for (const report of Object.values(reports)) expect(report.summary.offered).toBe(1_000);
  });

  it('writes a markdown table, one row per policy, with padded columns', () => {
    const { table } = compare(options);
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(
      /^\| policy +\| offered \| succeeded \| failed \| dropped \| lost silently \| waiting \| p50 ms \| p99 ms \| max ms \| goodput\/s \| busy \| ended +\|$/,
    );
    expect(lines[1]).toMatch(/^\| -+ \| -+: \|/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| concatMap +\| +1000 \|/);
    expect(lines[4]).toContain('| bufferSliding(10) <&> |');
  });

  it('draws four SVG charts, deterministic and escaped, with the phases marked', () => {
    const first = compare(options).charts;
    const again = compare(options).charts;
    expect(again).toEqual(first);
    expect(Object.keys(first)).toEqual(['latency', 'goodput', 'dropped', 'waiting']);
    for (const svg of Object.values(first)) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toContain('bufferSliding(10) &lt;&amp;&gt;');
      expect(svg).not.toContain('NaN');
      expect(svg).toContain('>1 worker<');
      expect(svg).toContain('>traffic ends<');
      expect(svg.match(/<path /g)).toHaveLength(3);
      expect(svg.length).toBeLessThan(20_000);
    }
  });
});
