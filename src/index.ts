/**
 * Pipeable RxJS 7 operators for flow control: bounded buffers, priority shedding, token and leaky
 * buckets, demand-driven pulling, a circuit breaker, adaptive limits and monitoring, every dropped
 * value reported and everything testable in virtual time.
 * @module rxjs-backpressure
 */

// Shared vocabulary
export type { OverflowStrategy, DropReason, DropDetail, OnDrop } from './types.js';
export { OVERFLOW_STRATEGIES } from './types.js';
export {
  BufferOverflowError,
  RateLimitExceededError,
  isBufferOverflowError,
  isRateLimitExceededError,
  CircuitOpenError,
  CallTimeoutError,
  isCircuitOpenError,
  isCallTimeoutError,
} from './errors.js';

// Bounded buffers
export { bufferBounded } from './operators/bufferBounded.js';
export type { BufferBoundedOptions, BufferOptions, OnInnerError } from './operators/bufferBounded.js';
export { bufferDropping } from './operators/bufferDropping.js';
export { bufferFixed } from './operators/bufferFixed.js';
export { bufferPriority } from './operators/bufferPriority.js';
export type { BufferPriorityOptions } from './operators/bufferPriority.js';
export { bufferSliding } from './operators/bufferSliding.js';

// Time-paced flow control
export { leakyBucket } from './operators/leakyBucket.js';
export type { LeakyBucketOptions } from './operators/leakyBucket.js';
export { tokenBucket } from './operators/tokenBucket.js';
export type { TokenBucketOptions } from './operators/tokenBucket.js';
export { memoryTokenStore } from './stores/memoryTokenStore.js';
export type { MemoryTokenStoreOptions } from './stores/memoryTokenStore.js';
export type { TokenGrant, TokenRequest, TokenStore } from './stores/TokenStore.js';
export type { StoreErrorMode } from './internal/storeTokenBucket.js';

// Demand-paced flow control
export { pullFeedback } from './operators/pullFeedback.js';
export type { PullFeedbackOptions } from './operators/pullFeedback.js';
export { pullFrom } from './operators/pullFrom.js';
export type { PullFromOptions } from './operators/pullFrom.js';
export { pullMap } from './operators/pullMap.js';
export type { PullMapOptions } from './operators/pullMap.js';
export type { PullInput } from './internal/puller.js';
export { writeTo } from './operators/writeTo.js';
export type { WritableLike, WriteToOptions } from './operators/writeTo.js';

// Adaptive limits
export {
  adaptiveConcurrency,
  AdaptiveConcurrency,
  isAdaptiveConcurrency,
} from './adaptive/adaptiveConcurrency.js';
export type {
  AdaptiveConcurrencyOptions,
  AimdParameters,
  GradientParameters,
  VegasParameters,
} from './adaptive/adaptiveConcurrency.js';

export { adaptiveCapacity, AdaptiveCapacity, isAdaptiveCapacity } from './adaptive/adaptiveCapacity.js';
export type { AdaptiveCapacityOptions } from './adaptive/adaptiveCapacity.js';

// Circuit breaker
export { CircuitBreaker } from './breaker/CircuitBreaker.js';
export type {
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  CircuitState,
  CircuitStateChange,
  ProtectOptions,
  WindowJSON,
} from './breaker/CircuitBreaker.js';

// Monitoring
export { FlowMeter, isFlowMeter } from './monitoring/FlowMeter.js';
export type { Distribution, FlowDrop, FlowMeterOptions, FlowSnapshot } from './monitoring/FlowMeter.js';

// Virtual-time schedulers (test helpers for dropped values live in 'rxjs-backpressure/testing')
export { ManualTimeScheduler } from './schedulers/ManualTimeScheduler.js';
export type { ManualTimeSchedulerOptions } from './schedulers/ManualTimeScheduler.js';
export { withVirtualTime } from './schedulers/withVirtualTime.js';
export { resetVirtualTime } from './schedulers/withVirtualTime.js';
export type { VirtualTimeOptions } from './schedulers/withVirtualTime.js';
