import fc from 'fast-check';
import { Histogram, type Distribution } from '../../src/internal/Histogram';

/*
 * The meter's distributions (issue 9, section 1): `count`, `sum`, `min`, `max` exact; p50/p90/p99
 * nearest-rank (the smallest sample with at least p% of the samples at or below it), within 2% of the
 * exact answer, in memory that does not grow with the number of samples.
 */

/** Nearest rank from a sorted copy: the reference every percentile is checked against. */
function nearestRank(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  // p * n / 100 in integers first, so the rank is exact.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1]!;
}

/** The exact summary of `samples`, as a reference. */
function exact(samples: readonly number[]): Distribution {
  if (samples.length === 0) return { count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 };
  return {
    count: samples.length,
    sum: samples.reduce((a, b) => a + b, 0),
    min: Math.min(...samples),
    max: Math.max(...samples),
    p50: nearestRank(samples, 50),
    p90: nearestRank(samples, 90),
    p99: nearestRank(samples, 99),
  };
}

function summaryOf(samples: readonly number[]): Distribution {
  const histogram = new Histogram();
  for (const sample of samples) histogram.record(sample);
  return histogram.summary();
}

/** A percentile read from the histogram is a real sample at or above the exact one, within 2%. */
function expectWithin2Percent(actual: number, reference: number): void {
  expect(actual).toBeGreaterThanOrEqual(reference);
  expect(actual).toBeLessThanOrEqual(reference * 1.02);
}

function bucketCount(histogram: Histogram): number {
  return (histogram as unknown as { buckets: Map<number, unknown> }).buckets.size;
}

describe('Histogram', () => {
  it('summarises nothing as zeros', () => {
    expect(new Histogram().summary()).toEqual({ count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 });
  });

  it('one sample is every figure', () => {
    expect(summaryOf([7])).toEqual({ count: 1, sum: 7, min: 7, max: 7, p50: 7, p90: 7, p99: 7 });
  });

  it('1..10: nearest rank gives the 5th, 9th and 10th samples', () => {
    expect(summaryOf([3, 1, 4, 10, 5, 9, 2, 6, 8, 7])).toEqual({
      count: 10,
      sum: 55,
      min: 1,
      max: 10,
      p50: 5,
      p90: 9,
      p99: 10,
    });
  });

  it('zeros count as samples: three zeros and a 5', () => {
    // Ranks 2, 4 and 4 of 4: 0, 5, 5.
    expect(summaryOf([0, 5, 0, 0])).toEqual({ count: 4, sum: 5, min: 0, max: 5, p50: 0, p90: 5, p99: 5 });
  });

  it('100 samples 1..100: above 50 ms two whole samples may share a bucket, still within 2%', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    const summary = summaryOf(samples);
    expect(summary).toMatchObject({ count: 100, sum: 5050, min: 1, max: 100 });
    expectWithin2Percent(summary.p50, 50);
    expectWithin2Percent(summary.p90, 90);
    expectWithin2Percent(summary.p99, 99);
  });

  it('whole milliseconds below 50 are exact, percentiles included', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 49 }), { minLength: 1, maxLength: 300 }), (samples) => {
        expect(summaryOf(samples)).toEqual(exact(samples));
      }),
      { numRuns: 300 },
    );
  });

  it('any samples: count, sum, min, max exact; percentiles within 2% above the exact ones', () => {
    const sample = fc.oneof(
      fc.integer({ min: 0, max: 10_000 }),
      fc.double({ min: 0, max: 1e7, noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 400 }), (samples) => {
        const summary = summaryOf(samples);
        const reference = exact(samples);
        expect(summary.count).toBe(reference.count);
        expect(summary.sum).toBe(samples.reduce((a, b) => a + b, 0));
        expect(summary.min).toBe(reference.min);
        expect(summary.max).toBe(reference.max);
        expectWithin2Percent(summary.p50, reference.p50);
        expectWithin2Percent(summary.p90, reference.p90);
        expectWithin2Percent(summary.p99, reference.p99);
      }),
      { numRuns: 300 },
    );
  });

  it('large random sets (100,000 samples, several shapes): percentiles within 2% of a sorted array', () => {
    let seed = 12345;
    const random = (): number => {
      // A small LCG, so the test is reproducible.
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const shapes: [string, () => number][] = [
      ['uniform 0..1000', () => random() * 1000],
      ['log-uniform 0.001..1e6', () => 10 ** (random() * 9 - 3)],
      ['whole ms, long tail', () => Math.floor(-Math.log(1 - random()) * 40)],
      ['bimodal', () => (random() < 0.95 ? 5 + random() : 2000 + random() * 100)],
    ];
    for (const [, draw] of shapes) {
      const samples = Array.from({ length: 100_000 }, draw);
      const summary = summaryOf(samples);
      const reference = exact(samples);
      expect(summary.count).toBe(100_000);
      expect(summary.min).toBe(reference.min);
      expect(summary.max).toBe(reference.max);
      expect(summary.sum).toBeCloseTo(reference.sum, 3);
      expectWithin2Percent(summary.p50, reference.p50);
      expectWithin2Percent(summary.p90, reference.p90);
      expectWithin2Percent(summary.p99, reference.p99);
    }
  });

  it('memory does not grow with the count: a million samples in 1..1000 ms use a few hundred buckets', () => {
    const histogram = new Histogram();
    for (let i = 0; i < 1_000_000; i++) histogram.record(1 + ((i * 7919) % 1000));
    const afterMillion = bucketCount(histogram);
    // ln(1000) / ln(1.02) ≈ 349 buckets cover 1..1000 ms.
    expect(afterMillion).toBeLessThanOrEqual(350);
    for (let i = 0; i < 1_000_000; i++) histogram.record(1 + ((i * 104729) % 1000));
    expect(bucketCount(histogram)).toBe(afterMillion);
    expect(histogram.summary().count).toBe(2_000_000);
  });

  it('a sample repeated (counted in the last bucket without the logarithm) lands where the long way puts it', () => {
    // Runs of repeats, interleaved with zeros and other samples, against buckets computed one by one.
    const run = fc.tuple(
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 3000 }),
        fc.double({ min: 0.001, max: 1e6, noNaN: true }),
      ),
      fc.integer({ min: 1, max: 5 }),
    );
    fc.assert(
      fc.property(fc.array(run, { minLength: 1, maxLength: 60 }), (runs) => {
        const samples = runs.flatMap(([sample, times]) => Array.from({ length: times }, () => sample));
        const histogram = new Histogram();
        for (const sample of samples) histogram.record(sample);
        const expected = new Map<number, { count: number; max: number }>();
        for (const sample of samples) {
          if (sample === 0) continue;
          const key = Math.ceil(Math.log(sample) / Math.log(1.02));
          const bucket = expected.get(key) ?? { count: 0, max: 0 };
          bucket.count++;
          bucket.max = Math.max(bucket.max, sample);
          expected.set(key, bucket);
        }
        const buckets = (histogram as unknown as { buckets: Map<number, unknown> }).buckets;
        expect(new Map([...buckets].sort(([a], [b]) => a - b))).toEqual(
          new Map([...expected].sort(([a], [b]) => a - b)),
        );
        const summary = histogram.summary();
        const reference = exact(samples);
        expect(summary).toMatchObject({
          count: reference.count,
          sum: samples.reduce((a, b) => a + b, 0),
          min: reference.min,
          max: reference.max,
        });
        expectWithin2Percent(summary.p50, reference.p50);
        expectWithin2Percent(summary.p99, reference.p99);
      }),
      { numRuns: 300 },
    );
  });

  it('a sample repeated after a merge is counted once more in the merged bucket', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(5);
    b.record(5);
    b.record(5);
    a.merge(b);
    a.record(5);
    a.record(0);
    expect(a.summary()).toEqual({ count: 5, sum: 20, min: 0, max: 5, p50: 5, p90: 5, p99: 5 });
  });

  it('anything not above 0 (a negative difference, NaN) counts as a zero sample', () => {
    const histogram = new Histogram();
    for (const sample of [-3, Number.NaN, 0, -0, 2]) histogram.record(sample);
    expect(histogram.summary()).toEqual({ count: 5, sum: 2, min: 0, max: 2, p50: 0, p90: 2, p99: 2 });
  });

  it('merge gives the summary of all the samples together', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5000 })),
        fc.array(fc.integer({ min: 0, max: 5000 })),
        (left, right) => {
          const a = new Histogram();
          const b = new Histogram();
          for (const s of left) a.record(s);
          for (const s of right) b.record(s);
          a.merge(b);
          expect(a.summary()).toEqual(summaryOf([...left, ...right]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reading the summary between records does not disturb later percentiles', () => {
    const histogram = new Histogram();
    const samples: number[] = [];
    for (const s of [30, 10, 40, 20, 0, 45, 5, 33]) {
      histogram.record(s);
      samples.push(s);
      expect(histogram.summary()).toEqual(exact(samples));
    }
  });
});
