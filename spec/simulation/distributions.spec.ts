import { exponential, fixed, lognormal, meanServiceTime } from '../../src/simulation/index';
import { quantileOf, type ServiceTime } from '../../src/simulation/distributions';
import { STREAM, uniformStream } from '../../src/simulation/random';
import { exactPercentile, moments } from './helpers';

const N = 200_000;

function draw(serviceTime: ServiceTime, seed = 3): number[] {
  const u = uniformStream(seed, STREAM.service);
  const q = quantileOf(serviceTime);
  return Array.from({ length: N }, () => q(u()));
}

describe('service-time distributions (seeded, large samples)', () => {
  it('fixed(ms) is always ms', () => {
    expect(new Set(draw(fixed(12.5)))).toEqual(new Set([12.5]));
    expect(meanServiceTime(fixed(12.5))).toBe(12.5);
    expect(fixed(0)).toEqual({ kind: 'fixed', ms: 0 });
  });

  it('exponential({ mean }) has that mean, a standard deviation equal to it, and the exponential median', () => {
    const values = draw(exponential({ mean: 20 }));
    const { mean, variance } = moments(values);
    expect(Math.abs(mean / 20 - 1)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(variance) / 20 - 1)).toBeLessThan(0.02);
    expect(Math.abs(exactPercentile(values, 50) / (20 * Math.LN2) - 1)).toBeLessThan(0.01);
    expect(values.reduce((a, b) => Math.min(a, b), 1)).toBeGreaterThan(0);
    expect(meanServiceTime(exponential({ mean: 20 }))).toBe(20);
  });

  it('lognormal({ median, p99 }) has that median and p99, and the mean meanServiceTime gives', () => {
    const d = lognormal({ median: 15, p99: 60 });
    const values = draw(d);
    expect(Math.abs(exactPercentile(values, 50) / 15 - 1)).toBeLessThan(0.01);
    expect(Math.abs(exactPercentile(values, 99) / 60 - 1)).toBeLessThan(0.03);
    const { mean } = moments(values);
    const expected = meanServiceTime(d);
    expect(expected).toBeCloseTo(17.9, 1);
    expect(Math.abs(mean / expected - 1)).toBeLessThan(0.01);
    // log-times are normal: their standard deviation is ln(p99 / median) / 2.326.
    const logs = moments(values.map(Math.log));
    expect(Math.abs(Math.sqrt(logs.variance) / (Math.log(4) / 2.3263478740408408) - 1)).toBeLessThan(0.01);
  });

  it('are plain, frozen data', () => {
    const d = lognormal({ median: 15, p99: 60 });
    expect(d).toEqual({ kind: 'lognormal', median: 15, p99: 60 });
    expect(Object.isFrozen(d)).toBe(true);
    expect(JSON.parse(JSON.stringify(exponential({ mean: 3 })))).toEqual({ kind: 'exponential', mean: 3 });
  });
});
