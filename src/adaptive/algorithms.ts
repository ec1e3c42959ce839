/**
 * The concurrency-limit algorithms behind `adaptiveConcurrency`, as small pure controllers fed one
 * sample per finished call: its round-trip time (release to the end of the inner, in ms), how many
 * calls were in flight when it started, and whether it failed. They follow Netflix's
 * concurrency-limits (the AIMD, Gradient2 and Vegas limits), with the differences noted on each.
 * None keeps a timer: a limit moves only when a sample arrives.
 */
export interface LimitAlgorithm {
  /** The limit now (a real number; the operator uses its floor, at least 1). */
  readonly limit: number;
  /** One finished call. */
  sample(rtt: number, inflight: number, failed: boolean): void;
}

export interface Bounds {
  initial: number;
  min: number;
  max: number;
}

function clamp(value: number, { min, max }: Bounds): number {
  return Math.max(min, Math.min(max, value));
}

/** Parameters of the AIMD algorithm. */
export interface AimdParameters {
  /** Multiplier applied on a failure or a slow call, in [0.5, 1). @default 0.9 */
  backoffRatio?: number;
  /** A call slower than this many ms counts as a failure. @default 5000 */
  timeout?: number;
}

/**
 * Additive increase, multiplicative decrease: +1 after a call that finished while at least half the
 * limit was in use; times `backoffRatio` (and at least -1) after a failure or a call slower than
 * `timeout`. As Netflix's `AIMDLimit`.
 */
export class AimdLimit implements LimitAlgorithm {
  limit: number;
  private readonly backoffRatio: number;
  private readonly timeout: number;

  constructor(
    private readonly bounds: Bounds,
    { backoffRatio = 0.9, timeout = 5000 }: AimdParameters = {},
  ) {
    this.limit = bounds.initial;
    this.backoffRatio = backoffRatio;
    this.timeout = timeout;
  }

  sample(rtt: number, inflight: number, failed: boolean): void {
    const current = Math.floor(this.limit);
    if (failed || rtt > this.timeout) {
      this.limit = clamp(Math.min(current - 1, Math.floor(current * this.backoffRatio)), this.bounds);
    } else if (inflight * 2 >= current) {
      this.limit = clamp(current + 1, this.bounds);
    }
  }
}

/**
 * How many times more slowly a queued sample (over twice the long-term time) enters the long-term
 * average of the gradient algorithm than a usual one.
 */
const QUEUED_WEIGHT = 100;

/** Parameters of the gradient algorithm. */
export interface GradientParameters {
  /** Weight of a new estimate, in (0, 1]. @default 0.2 */
  smoothing?: number;
  /**
   * Samples in the long-term average of the round-trip time (a queued sample, over twice that
   * average, enters it as if the window were 100 times longer). @default 600
   */
  longWindow?: number;
  /** Calls the limit may grow by while latency stays at its long-term level. @default 2 */
  queueSize?: number;
}

/**
 * Gradient2: the long-term round-trip time (an exponential average over `longWindow` samples, a
 * plain average over the first 10) against the latest one gives the gradient
 * `max(0.5, min(1, long / short))`; the new limit is `limit * gradient + queueSize`, blended in with
 * `smoothing`. While fewer than half the limit are in flight the limit stays (the caller, not the
 * downstream, is the bottleneck). When the long-term time is over twice the latest (latency back to
 * normal after a long incident) it is cut by 10% per sample. As Netflix's `Gradient2Limit`, with two
 * differences measured in the load simulator (docs/adaptive.md): a sample over twice the long-term
 * time enters that average 100 times more slowly (a lasting queue is not taken for the new normal,
 * so the limit does not drift up while the downstream is degraded), and `queueSize` is 2, not 4.
 */
export class GradientLimit implements LimitAlgorithm {
  limit: number;
  private readonly smoothing: number;
  private readonly longWindow: number;
  private readonly queueSize: number;
  private longRtt = 0;
  private longCount = 0;
  private longSum = 0;

  constructor(
    private readonly bounds: Bounds,
    { smoothing = 0.2, longWindow = 600, queueSize = 2 }: GradientParameters = {},
  ) {
    this.limit = bounds.initial;
    this.smoothing = smoothing;
    this.longWindow = longWindow;
    this.queueSize = queueSize;
  }

  /** Failures do not move the gradient directly (as in Gradient2): their latency does. */
  sample(rtt: number, inflight: number): void {
    const shortRtt = Math.max(rtt, Number.MIN_VALUE);
    if (this.longCount < 10) {
      this.longCount++;
      this.longSum += rtt;
      this.longRtt = this.longSum / this.longCount;
    } else {
      // A sample over twice the long-term time (the gradient at its floor) is a queue, not the
      // downstream's usual latency: it enters the average QUEUED_WEIGHT times more slowly, so that a
      // lasting queue does not become the baseline the limit grows from (ours, not Gradient2's).
      const window = rtt > 2 * this.longRtt ? this.longWindow * QUEUED_WEIGHT : this.longWindow;
      const factor = 2 / (window + 1);
      this.longRtt = this.longRtt * (1 - factor) + rtt * factor;
    }
    if (this.longRtt / shortRtt > 2) this.longRtt *= 0.9;
    if (inflight < this.limit / 2) return;
    const gradient = Math.max(0.5, Math.min(1, this.longRtt / shortRtt));
    const estimate = this.limit * gradient + this.queueSize;
    this.limit = clamp(this.limit * (1 - this.smoothing) + estimate * this.smoothing, this.bounds);
  }
}

/** Parameters of the Vegas algorithm. */
export interface VegasParameters {
  /** Weight of a new estimate, in (0, 1]. @default 1 */
  smoothing?: number;
  /** The no-load time is measured again every `probeMultiplier * limit` samples. @default 30 */
  probeMultiplier?: number;
}

/**
 * Vegas: the downstream's queue is estimated as `limit * (1 - noLoadRtt / rtt)`, where the no-load
 * time is the smallest seen since the last probe. With log = max(1, floor(log10(limit))): a queue at most log grows
 * the limit by 6·log, below 3·log by log; above 6·log it shrinks by log, and a failure shrinks it by
 * log. Not while fewer than half the limit are in flight. As Netflix's `VegasLimit`, except that the
 * probe comes every `probeMultiplier * limit` samples exactly (Netflix draws a random jitter in
 * [0.5, 1)), so that runs are deterministic.
 */
export class VegasLimit implements LimitAlgorithm {
  limit: number;
  private readonly smoothing: number;
  private readonly probeMultiplier: number;
  private noLoadRtt = 0;
  private probeCount = 0;

  constructor(
    private readonly bounds: Bounds,
    { smoothing = 1, probeMultiplier = 30 }: VegasParameters = {},
  ) {
    this.limit = bounds.initial;
    this.smoothing = smoothing;
    this.probeMultiplier = probeMultiplier;
  }

  sample(rtt: number, inflight: number, failed: boolean): void {
    if (!(rtt > 0)) return;
    this.probeCount++;
    if (this.probeMultiplier * this.limit <= this.probeCount) {
      this.probeCount = 0;
      this.noLoadRtt = rtt;
      return;
    }
    if (this.noLoadRtt === 0 || rtt < this.noLoadRtt) {
      this.noLoadRtt = rtt;
      return;
    }
    const limit = this.limit;
    const log = Math.max(1, Math.floor(Math.log10(Math.max(1, Math.floor(limit)))));
    const queue = Math.ceil(limit * (1 - this.noLoadRtt / rtt));
    let estimate: number;
    if (failed) {
      estimate = limit - log;
    } else if (inflight * 2 < limit) {
      return;
    } else if (queue <= log) {
      estimate = limit + 6 * log;
    } else if (queue < 3 * log) {
      estimate = limit + log;
    } else if (queue > 6 * log) {
      estimate = limit - log;
    } else {
      return;
    }
    estimate = clamp(estimate, this.bounds);
    this.limit = (1 - this.smoothing) * limit + this.smoothing * estimate;
  }
}
