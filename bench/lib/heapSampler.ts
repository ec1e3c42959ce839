/** Peak JS heap during an asynchronous run, by sampling `heapUsed` on a timer and on request. */
import { getHeapSpaceStatistics } from 'node:v8';
import { heapUsedAfterGc } from './measure.js';

/** Bytes in use in V8's young generation (where new objects go until a scavenge). */
function youngGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') {
      used += space.space_used_size;
    }
  }
  return used;
}

export class HeapSampler {
  /** Heap in use after a full gc when the sampler was started. */
  readonly baseline: number;
  private readonly youngBaseline: number;
  private peak: number;
  private youngAtPeak = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  /** Collects garbage, records the baseline and starts sampling every `everyMs`. */
  constructor(everyMs = 5) {
    this.baseline = heapUsedAfterGc();
    this.youngBaseline = youngGenerationUsed();
    this.peak = this.baseline;
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  /** Records the heap in use now (garbage included); returns its growth over the baseline. */
  sample(): number {
    const used = process.memoryUsage().heapUsed;
    if (used > this.peak) {
      this.peak = used;
      this.youngAtPeak = youngGenerationUsed() - this.youngBaseline;
    }
    return used - this.baseline;
  }

  /** Growth of the largest sample over the baseline, in bytes. */
  get peakGrowth(): number {
    return this.peak - this.baseline;
  }

  /** How much of `peakGrowth` was in the young generation (short-lived objects, mostly garbage). */
  get youngGrowthAtPeak(): number {
    return this.youngAtPeak;
  }

  /** Growth of the live heap (after a full gc) over the baseline, in bytes. */
  liveGrowth(): number {
    return heapUsedAfterGc() - this.baseline;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
