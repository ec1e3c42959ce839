/**
 * Bucket boundaries grow by this factor. A percentile is answered with the largest sample of the
 * bucket that holds the exact answer, and every sample of a bucket is within this factor of the
 * others: the answer is never below the exact one and less than 0.99% above it.
 */
const GROWTH = 1.0099;
const LOG_GROWTH = Math.log(GROWTH);
const INITIAL_BUCKETS = 64;

/**
 * Times in ms (>= 0) in bounded memory, for the simulator's latency percentiles: `count`, `sum` and
 * `max` are exact; nearest-rank percentiles (the smallest sample with at least p% of the samples at
 * or below it) come from logarithmic buckets, within 1% of the exact answer (never below it). The
 * buckets are two typed arrays over the range of keys seen so far: memory grows with the ratio of the
 * largest to the smallest sample (about 230 buckets per factor of 10), never with the number of
 * samples.
 *
 * The library's `FlowMeter` histogram (`src/internal/Histogram.ts`) is within 2%; the simulator's
 * reports promise 1%, so it has its own.
 */
export class LogHistogram {
  count = 0;
  sum = 0;
  max = 0;
  private zeros = 0;
  /** The key of `counts[0]`. */
  private low = 0;
  private counts: Float64Array | undefined;
  /** The largest sample seen in each bucket: percentiles answer with real samples. */
  private maxima: Float64Array | undefined;

  /** The bucket key of a sample > 0. */
  static keyOf(sample: number): number {
    return Math.ceil(Math.log(sample) / LOG_GROWTH);
  }

  record(sample: number): void {
    if (sample > 0) this.recordKey(LogHistogram.keyOf(sample), sample);
    else this.recordZero();
  }

  /** Records a sample > 0 whose key (from {@link LogHistogram.keyOf}) is known already. */
  recordKey(key: number, sample: number): void {
    this.count++;
    this.sum += sample;
    if (sample > this.max) this.max = sample;
    let counts = this.counts;
    let slot = key - this.low;
    if (counts === undefined || slot < 0 || slot >= counts.length) {
      counts = this.cover(key);
      slot = key - this.low;
    }
    counts[slot] = (counts[slot] as number) + 1;
    const maxima = this.maxima as Float64Array;
    if (sample > (maxima[slot] as number)) maxima[slot] = sample;
  }

  recordZero(): void {
    this.count++;
    this.zeros++;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: LogHistogram): void {
    this.zeros += other.zeros;
    this.count += other.zeros;
    const theirs = other.counts;
    const theirMaxima = other.maxima;
    if (theirs === undefined || theirMaxima === undefined) return;
    for (let i = 0; i < theirs.length; i++) {
      const n = theirs[i] as number;
      if (n === 0) continue;
      const key = other.low + i;
      const counts = this.cover(key);
      const slot = key - this.low;
      counts[slot] = (counts[slot] as number) + n;
      const maxima = this.maxima as Float64Array;
      const m = theirMaxima[i] as number;
      if (m > (maxima[slot] as number)) maxima[slot] = m;
      this.count += n;
    }
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  /** Mean of the samples, 0 when there are none. */
  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /**
   * Nearest rank: the smallest sample with at least `p`% of the samples at or below it (within 1%,
   * never below the exact answer); 0 when there are no samples.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count - 1e-9));
    if (rank <= this.zeros) return 0;
    let seen = this.zeros;
    const counts = this.counts;
    const maxima = this.maxima;
    if (counts === undefined || maxima === undefined) return this.max;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i] as number;
      if (seen >= rank) return maxima[i] as number;
    }
    return this.max;
  }

  /** Makes the bucket arrays cover `key`, growing them (at least doubling) when needed. */
  private cover(key: number): Float64Array {
    const counts = this.counts;
    if (counts === undefined) {
      this.low = key - INITIAL_BUCKETS / 2;
      this.counts = new Float64Array(INITIAL_BUCKETS);
      this.maxima = new Float64Array(INITIAL_BUCKETS);
      return this.counts;
    }
    const high = this.low + counts.length;
    if (key >= this.low && key < high) return counts;
    const size = Math.max(counts.length * 2, (key < this.low ? high - key : key - this.low + 1) + 16);
    const low = key < this.low ? high - size : this.low;
    const grown = new Float64Array(size);
    const grownMaxima = new Float64Array(size);
    grown.set(counts, this.low - low);
    grownMaxima.set(this.maxima as Float64Array, this.low - low);
    this.low = low;
    this.counts = grown;
    this.maxima = grownMaxima;
    return grown;
  }
}
