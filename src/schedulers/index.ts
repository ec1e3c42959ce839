// Virtual-time schedulers: run time-based RxJS code synchronously under the test's control.
export { ManualTimeScheduler } from './ManualTimeScheduler.js';
export type { ManualTimeSchedulerOptions } from './ManualTimeScheduler.js';
export { withVirtualTime } from './withVirtualTime.js';
export { resetVirtualTime } from './withVirtualTime.js';
export type { VirtualTimeOptions } from './withVirtualTime.js';
