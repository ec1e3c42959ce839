/**
 * `rxjs-backpressure/simulation`: a load simulator for flow-control policies, in virtual time. Kept
 * out of the main entry; no dependency beyond rxjs.
 * @module rxjs-backpressure/simulation
 */

// Running scenarios
export { simulate } from './simulate.js';
export { compare } from './compare.js';
export type {
  Arrival,
  Call,
  Comparison,
  CompareOptions,
  FlowStats,
  LatencyStats,
  Policy,
  PolicyTools,
  RunOutcome,
  Scenario,
  SimulatedResponse,
  SimulateOptions,
  SimulationReport,
  WaitStats,
  WindowStats,
} from './types.js';

// Traffic
export { bursts, constant, poisson, ramp, trace } from './arrivals.js';
export type {
  Arrivals,
  BurstArrivals,
  ClassOption,
  ClassWeights,
  ConstantArrivals,
  PoissonArrivals,
  RampArrivals,
  TraceArrivals,
  TraceEntry,
} from './arrivals.js';

// The downstream and its service times
export { downstream } from './downstream.js';
export type { Downstream, DownstreamOptions, DownstreamPhase, DownstreamPhaseSpec } from './downstream.js';
export { exponential, fixed, lognormal, meanServiceTime } from './distributions.js';
export type {
  ExponentialServiceTime,
  FixedServiceTime,
  LognormalServiceTime,
  ServiceTime,
} from './distributions.js';

// How calls fail
export {
  DownstreamOverloadError,
  DownstreamTimeoutError,
  isDownstreamOverloadError,
  isDownstreamTimeoutError,
} from './errors.js';
