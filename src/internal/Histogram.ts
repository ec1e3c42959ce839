/**
 * Summary statistics of a set of samples in ms. `count`, `sum`, `min` and `max` are exact; the
 * percentiles are nearest-rank, within 2% of the exact answer (and always one of the samples).
 */
export interface Distribution {
  /** Samples taken. */
  count: number;
  /** Their sum, in ms. */
  sum: number;
  /** The smallest sample (0 when there are none). */
  min: number;
  /** The largest sample (0 when there are none). */
  max: number;
  /** The median. */
  p50: number;
  /** The 90th percentile. */
  p90: number;
  /** The 99th percentile. */
  p99: number;
}

/** Bucket boundaries grow by this factor: any two samples in one bucket are within 2% of each other. */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);

interface Bucket {
  count: number;
  /** The largest sample seen in the bucket: percentiles answer with real samples. */
  max: number;
}

/**
 * Samples (times in ms, >= 0) in bounded memory: `count`, `sum`, `min` and `max` are exact; the
 * percentiles are nearest-rank (the smallest sample with at least p% of the samples at or below it)
 * read from logarithmic buckets, within 2% of the exact answer. A bucket holds samples within 2% of
 * each other and answers with the largest sample it has seen, so when every bucket holds one distinct
 * value (whole-millisecond samples below 50 ms, say) the percentiles are exact. Memory grows with the
 * number of distinct buckets used (at most a few thousand between 1 µs and a year), never with the
 * number of samples.
 */
export class Histogram {
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private zeros = 0;
  private readonly buckets = new Map<number, Bucket>();
  /** Bucket keys in ascending order, rebuilt lazily when a new key appears. */
  private sortedKeys: number[] | undefined = [];

  record(sample: number): void {
    const value = sample > 0 ? sample : 0;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) {
      this.zeros++;
      return;
    }
    const key = Math.ceil(Math.log(value) / LOG_GROWTH);
    const bucket = this.buckets.get(key);
    if (bucket) {
      bucket.count++;
      if (value > bucket.max) bucket.max = value;
    } else {
      this.buckets.set(key, { count: 1, max: value });
      this.sortedKeys = undefined;
    }
  }

  /** Adds another histogram's samples to this one. */
  merge(other: Histogram): void {
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.zeros += other.zeros;
    for (const [key, theirs] of other.buckets) {
      const mine = this.buckets.get(key);
      if (mine) {
        mine.count += theirs.count;
        mine.max = Math.max(mine.max, theirs.max);
      } else {
        this.buckets.set(key, { ...theirs });
        this.sortedKeys = undefined;
      }
    }
  }

  summary(): Distribution {
    if (this.count === 0) return { count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 };
    return {
      count: this.count,
      sum: this.sum,
      min: this.min,
      max: this.max,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
    };
  }

  /** Nearest rank: the smallest sample with at least `p`% of the samples at or below it. */
  private percentile(p: number): number {
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (rank <= this.zeros) return 0;
    let seen = this.zeros;
    this.sortedKeys ??= [...this.buckets.keys()].sort((a, b) => a - b);
    for (const key of this.sortedKeys) {
      const bucket = this.buckets.get(key) as Bucket;
      seen += bucket.count;
      if (seen >= rank) return bucket.max;
    }
    return this.max;
  }
}
