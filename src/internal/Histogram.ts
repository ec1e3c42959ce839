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
  /** Samples > 0 recorded (`zeros` counts the others): `count` is their sum, added up when read. */
  private positives = 0;
  private sum = 0;
  /** The smallest and largest samples > 0; `min` and `max` of the summary follow from them and `zeros`. */
  private minPositive = Infinity;
  private maxPositive = 0;
  private zeros = 0;
  private readonly buckets = new Map<number, Bucket>();
  /** Bucket keys in ascending order, rebuilt lazily when a new key appears. */
  private sortedKeys: number[] | undefined = [];
  /**
   * The last sample > 0 that went into a bucket, and that bucket: the same sample again (a run that
   * always takes 1 ms, say) is counted in it without the logarithm and the lookup. The bucket a sample
   * goes to depends on the sample alone, so this is the bucket the long way would find.
   */
  private lastSample = NaN;
  private lastBucket: Bucket | undefined;

  /** Adds one sample, in ms; anything not > 0 (a negative difference, NaN) counts as 0. */
  record(sample: number): void {
    if (!(sample > 0)) {
      // A zero changes neither `sum` nor any bucket; `min`, `max` and `count` read `zeros`.
      this.zeros++;
      return;
    }
    this.positives++;
    this.sum += sample;
    if (sample === this.lastSample) {
      // The same sample as last time: its bucket's max, and the min and max, cannot change.
      (this.lastBucket as Bucket).count++;
      return;
    }
    if (sample < this.minPositive) this.minPositive = sample;
    if (sample > this.maxPositive) this.maxPositive = sample;
    const key = Math.ceil(Math.log(sample) / LOG_GROWTH);
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.count++;
      if (sample > bucket.max) bucket.max = sample;
    } else {
      bucket = { count: 1, max: sample };
      this.buckets.set(key, bucket);
      this.sortedKeys = undefined;
    }
    this.lastSample = sample;
    this.lastBucket = bucket;
  }

  /** Adds `n` samples of 0 (as `n` calls of `record(0)` would). */
  recordZeros(n: number): void {
    this.zeros += n;
  }

  /** Samples recorded. */
  get count(): number {
    return this.zeros + this.positives;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: Histogram): void {
    this.positives += other.positives;
    this.sum += other.sum;
    this.minPositive = Math.min(this.minPositive, other.minPositive);
    this.maxPositive = Math.max(this.maxPositive, other.maxPositive);
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
    const { count } = this;
    if (count === 0) return { count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 };
    return {
      count,
      sum: this.sum,
      min: this.zeros > 0 ? 0 : this.minPositive,
      max: this.maxPositive,
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
    return this.maxPositive;
  }
}
