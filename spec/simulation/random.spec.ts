import { normalQuantile, STREAM, uniformStream, Z_99 } from '../../src/simulation/random';
import { moments } from './helpers';

describe('uniformStream (seeded sfc32)', () => {
  it('repeats itself for the same seed and stream', () => {
    const a = uniformStream(42, STREAM.arrivals);
    const b = uniformStream(42, STREAM.arrivals);
    for (let i = 0; i < 1000; i++) expect(a()).toBe(b());
  });

  it('gives different sequences for other seeds and other streams', () => {
    const first = (seed: number, stream: number) => {
      const u = uniformStream(seed, stream);
      return [u(), u(), u()];
    };
    const seen = new Set<string>();
    for (const seed of [0, 1, 2, 42, -1, 2 ** 40, -(2 ** 40)]) {
      for (const stream of Object.values(STREAM)) seen.add(JSON.stringify(first(seed, stream)));
    }
    expect(seen.size).toBe(7 * Object.values(STREAM).length);
  });

  it('stays in the open interval (0, 1) with the moments of a uniform distribution', () => {
    const u = uniformStream(7, STREAM.service);
    const values = Array.from({ length: 200_000 }, () => u());
    expect(values.reduce((a, b) => Math.min(a, b), 1)).toBeGreaterThan(0);
    expect(values.reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(1);
    const { mean, variance } = moments(values);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 3);
    // Ten equal bins, each within 3% of its expected count.
    const bins = new Array<number>(10).fill(0);
    for (const v of values) bins[Math.floor(v * 10)]!++;
    for (const count of bins) expect(Math.abs(count / 20_000 - 1)).toBeLessThan(0.03);
  });
});

describe('normalQuantile', () => {
  it.each([
    [0.5, 0],
    [0.8413447460685429, 1],
    [0.9772498680518208, 2],
    [0.99, Z_99],
    [0.01, -Z_99],
    [0.0013498980316301, -3],
    [1e-9, -5.997807015007687],
  ])('Φ⁻¹(%p) = %p', (p, z) => {
    expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-8 * Math.max(1, Math.abs(z)));
  });
});
