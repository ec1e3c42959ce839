// rxjs-backpressure/testing: helpers for tests, kept out of the main entry.

// Asserting what operators dropped
export { recordDrops, DropRecorder } from './recordDrops.js';
export type { DropRecord, RecordDropsOptions } from './recordDrops.js';

// Virtual time (also exported by the main entry)
export { ManualTimeScheduler } from '../schedulers/ManualTimeScheduler.js';
export type { ManualTimeSchedulerOptions } from '../schedulers/ManualTimeScheduler.js';
export { withVirtualTime } from '../schedulers/withVirtualTime.js';
export { resetVirtualTime } from '../schedulers/withVirtualTime.js';
export type { VirtualTimeOptions } from '../schedulers/withVirtualTime.js';

// The vocabulary the records use
export type { DropReason, OnDrop } from '../types.js';
