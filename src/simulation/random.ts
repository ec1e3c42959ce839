/**
 * Seeded random numbers for the simulator: every draw of a run comes from its `seed`, through
 * independent streams (arrival times, classes, service times, retries), so that one policy's choices
 * never shift another stream: every policy compared on a scenario sees the same arrivals and the same
 * service time for each request.
 */

/** A generator of uniform numbers in the open interval (0, 1). */
export type Uniform = () => number;

const TWO_32 = 4294967296;

/** The streams a run draws from; each is seeded from the run's seed and its own number. */
export const STREAM = {
  arrivals: 1,
  classes: 2,
  service: 3,
  retries: 4,
} as const;

/** splitmix32: spreads a 32-bit state into well-mixed 32-bit outputs (used only for seeding). */
function splitmix32(state: number): () => number {
  let s = state | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A uniform stream for `seed` (a safe integer) and `stream` (a small integer): sfc32 (Chris
 * Doty-Humphrey's small fast counting generator, period at least 2^32, passes PractRand to 2^40+),
 * its 128-bit state filled by splitmix32 from both halves of the seed and the stream number. Values
 * are `(x + 0.5) / 2^32` for a 32-bit output `x`: never 0 or 1, so `log(u)` and the normal quantile
 * of `u` are always finite.
 */
export function uniformStream(seed: number, stream: number): Uniform {
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_32) | 0;
  const mix = splitmix32(low ^ Math.imul(high, 0x27d4eb2d) ^ Math.imul(stream, 0x165667b1));
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix() | 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return ((t >>> 0) + 0.5) / TWO_32;
  };
  // Let the counter-based state mix before the first value is used.
  for (let i = 0; i < 12; i++) next();
  return next;
}

// Peter Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
const A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
] as const;
const B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
] as const;
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
] as const;
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] as const;
const P_LOW = 0.02425;
const P_HIGH = 1 - P_LOW;

/** The standard normal quantile Φ⁻¹(p) for p in (0, 1). */
export function normalQuantile(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
      ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
    );
  }
  if (p <= P_HIGH) {
    const q = p - 0.5;
    const r = q * q;
    return (
      ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
      (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
    );
  }
  const q = Math.sqrt(-2 * Math.log(1 - p));
  return (
    -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
    ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
  );
}

/** Φ⁻¹(0.99), exactly: how many standard deviations of log-time the p99 lies above the median. */
export const Z_99 = 2.3263478740408408;
