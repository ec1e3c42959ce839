import { STREAM, uniformStream } from '../../src/simulation/random';
import { exactPercentile, LogHistogram } from './helpers';

describe('LogHistogram (the simulator latency histogram)', () => {
  const samples = (seed: number, n: number, f: (u: number) => number) => {
    const u = uniformStream(seed, STREAM.arrivals);
    return Array.from({ length: n }, () => f(u()));
  };

  it.each([
    ['log-normal around 20 ms', (u: number) => Math.exp(3 + 1.5 * (u - 0.5))],
    ['uniform over 0.001 to 100,000 ms', (u: number) => 0.001 + u * 100_000],
    ['whole milliseconds', (u: number) => Math.floor(u * 500)],
    ['spanning 9 decades', (u: number) => Math.pow(10, -3 + 9 * u)],
  ])('percentiles of %s are within 1% of the exact ones, never below', (_, f) => {
    for (const seed of [1, 2, 3]) {
      const values = samples(seed, 20_000, f);
      const h = new LogHistogram();
      for (const v of values) h.record(v);
      for (const p of [1, 10, 50, 90, 99, 99.9, 100]) {
        const exact = exactPercentile(values, p);
        const got = h.percentile(p);
        expect(got).toBeGreaterThanOrEqual(exact);
        if (exact === 0) expect(got).toBe(0);
        else expect(got / exact - 1).toBeLessThanOrEqual(0.01);
      }
      expect(h.count).toBe(values.length);
      expect(h.max).toBe(values.reduce((a, b) => Math.max(a, b), 0));
      expect(h.mean()).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
    }
  });

  it('keeps memory bounded by the range of the samples, not their number', () => {
    const h = new LogHistogram();
    const u = uniformStream(9, STREAM.service);
    for (let i = 0; i < 1_000_000; i++) h.record(1 + 999 * u());
    const buckets = (h as unknown as { counts: Float64Array }).counts.length;
    // 1 to 1000 ms is 3 decades, about 700 buckets of 1%.
    expect(buckets).toBeLessThan(2000);
  });

  it('merges, answers 0 when empty, and counts zeros exactly', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    expect(a.percentile(50)).toBe(0);
    a.record(0);
    a.record(0);
    b.record(10);
    b.record(1000);
    a.merge(b);
    expect(a.count).toBe(4);
    expect(a.percentile(50)).toBe(0);
    expect(a.percentile(75)).toBe(10);
    expect(a.percentile(100)).toBe(1000);
    expect(a.mean()).toBe(252.5);
  });
});
