// Shared vocabulary
export type { OverflowStrategy, DropReason, OnDrop } from './types.js';
export { OVERFLOW_STRATEGIES } from './types.js';
export {
  BufferOverflowError,
  RateLimitExceededError,
  isBufferOverflowError,
  isRateLimitExceededError,
} from './errors.js';

// Bounded buffers
export { bufferBounded } from './operators/bufferBounded.js';
export type { BufferBoundedOptions, BufferOptions } from './operators/bufferBounded.js';
export { bufferDropping } from './operators/bufferDropping.js';
export { bufferFixed } from './operators/bufferFixed.js';
export { bufferSliding } from './operators/bufferSliding.js';

// Time-paced flow control
export { leakyBucket } from './operators/leakyBucket.js';
export type { LeakyBucketOptions } from './operators/leakyBucket.js';
export { tokenBucket } from './operators/tokenBucket.js';
export type { TokenBucketOptions } from './operators/tokenBucket.js';
