import { bursts, constant, poisson, ramp, trace, type Arrivals } from '../../src/simulation/index';
import { startArrivals } from '../../src/simulation/arrivals';
import { moments } from './helpers';

/** Every arrival time of `arrivals` before `duration`, and each value's class. */
function collect(
  arrivals: Arrivals,
  duration: number,
  seed = 5,
): { times: number[]; classes: (string | undefined)[] } {
  const stream = startArrivals(arrivals, seed, duration);
  const times: number[] = [];
  const classes: (string | undefined)[] = [];
  for (let t = stream.next(); t !== Infinity; t = stream.next()) {
    times.push(t);
    const k = stream.classIndex();
    classes.push(k < 0 ? undefined : stream.classNames[k]);
  }
  return { times, classes };
}

const gaps = (times: readonly number[]) => times.slice(1).map((t, i) => t - times[i]!);

describe('arrival generators', () => {
  it('constant({ rate }): one value every 1000 / rate ms from 0, none at or after duration', () => {
    const { times } = collect(constant({ rate: 200 }), 1000);
    expect(times).toHaveLength(200);
    expect(times[0]).toBe(0);
    expect(times[199]).toBeCloseTo(995, 9);
    for (const gap of gaps(times)) expect(gap).toBeCloseTo(5, 9);
  });

  it('poisson({ rate }): the count and exponential gaps of a Poisson process', () => {
    const rate = 400;
    const duration = 250_000;
    const { times } = collect(poisson({ rate }), duration);
    const expected = (rate * duration) / 1000; // 100,000, standard deviation 316
    expect(Math.abs(times.length - expected)).toBeLessThan(4 * Math.sqrt(expected));
    const { mean, variance } = moments(gaps(times));
    expect(Math.abs(mean / 2.5 - 1)).toBeLessThan(0.015);
    // Exponential gaps: the standard deviation equals the mean (coefficient of variation 1).
    expect(Math.abs(Math.sqrt(variance) / mean - 1)).toBeLessThan(0.025);
    // Counts per second are Poisson: variance equals mean.
    const perSecond = new Array<number>(duration / 1000).fill(0);
    for (const t of times) perSecond[Math.floor(t / 1000)]!++;
    const counts = moments(perSecond);
    expect(Math.abs(counts.variance / counts.mean - 1)).toBeLessThan(0.2);
  });

  it('bursts({ size, every, spacing }): size values spacing ms apart, every `every` ms from 0', () => {
    const { times } = collect(bursts({ size: 3, every: 100, spacing: 10 }), 250);
    expect(times).toEqual([0, 10, 20, 100, 110, 120, 200, 210, 220]);
    expect(collect(bursts({ size: 2, every: 50 }), 120).times).toEqual([0, 0, 50, 50, 100, 100]);
  });

  it('ramp({ from, to, over }): evenly spread along a linear rate, then steady', () => {
    // 0 to 1000/s over 10 s: 5,000 values in the first 10 s, then 1,000 a second.
    const { times } = collect(ramp({ from: 0, to: 1000, over: 10_000 }), 15_000);
    expect(times).toHaveLength(10_000);
    expect(times.filter((t) => t < 10_000)).toHaveLength(5_000);
    expect(times.filter((t) => t < 5_000)).toHaveLength(1_250); // the integral of the rate to 5 s
    expect(times[0]).toBe(0);
    const late = gaps(times.filter((t) => t >= 11_000));
    for (const gap of late) expect(gap).toBeCloseTo(1, 6);
    // Falling ramps too: 1000/s down to 0 over 4 s brings values number 0 to 2,000 (the last at 4 s
    // exactly, when the cumulative rate reaches 2,000), then nothing.
    const falling = collect(ramp({ from: 1000, to: 0, over: 4_000 }), 60_000).times;
    expect(falling).toHaveLength(2_001);
    expect(falling[2_000]).toBeCloseTo(4_000, 6);
  });

  it('ramp({ poisson: true }): the same counts on average, with Poisson randomness', () => {
    const counts = [1, 2, 3, 4, 5, 6].map(
      (seed) =>
        collect(ramp({ from: 100, to: 300, over: 100_000, poisson: true }), 100_000, seed).times.length,
    );
    // Expected 20,000 each (standard deviation 141).
    for (const n of counts) expect(Math.abs(n - 20_000)).toBeLessThan(600);
    expect(new Set(counts).size).toBe(counts.length);
  });

  it('trace(times): exactly those times, with the classes the trace names', () => {
    const { times, classes } = collect(trace([0, 5, 5, 12, { time: 40, class: 'checkout' }, 90]), 60);
    expect(times).toEqual([0, 5, 5, 12, 40]);
    expect(classes).toEqual([undefined, undefined, undefined, undefined, 'checkout']);
  });

  it('classes: drawn with the given weights, without changing the arrival times', () => {
    const weights = { checkout: 0.2, analytics: 0.8 };
    const plain = collect(poisson({ rate: 1000 }), 50_000);
    const classed = collect(poisson({ rate: 1000, classes: weights }), 50_000);
    expect(classed.times).toEqual(plain.times);
    const checkout = classed.classes.filter((c) => c === 'checkout').length;
    const share = checkout / classed.times.length; // 50,000 draws: standard deviation 0.0018
    expect(Math.abs(share - 0.2)).toBeLessThan(0.007);
    expect(new Set(classed.classes)).toEqual(new Set(['checkout', 'analytics']));
    // Weights need not add up to 1; a trace's own classes win over drawn ones.
    const mixed = collect(trace([1, { time: 2, class: 'vip' }], { classes: { a: 1, b: 3 } }), 10);
    expect(mixed.classes[1]).toBe('vip');
    expect(['a', 'b']).toContain(mixed.classes[0]);
  });

  it('generators return plain, frozen data that survives JSON', () => {
    const a = poisson({ rate: 400, classes: { x: 1 } });
    expect(a).toEqual({ kind: 'poisson', rate: 400, classes: { x: 1 } });
    expect(Object.isFrozen(a)).toBe(true);
    expect(constant({ rate: 1 })).toEqual({ kind: 'constant', rate: 1 });
    expect(JSON.parse(JSON.stringify(ramp({ from: 1, to: 2, over: 3 })))).toEqual({
      kind: 'ramp',
      from: 1,
      to: 2,
      over: 3,
      poisson: false,
    });
  });
});
