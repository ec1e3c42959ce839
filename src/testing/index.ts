/**
 * `rxjs-backpressure/testing`: helpers for tests (the drop recorder, marble diagrams recorded from a
 * run, the virtual-time schedulers), kept out of the main entry.
 * @module rxjs-backpressure/testing
 */

// Asserting what operators dropped
export { recordDrops, DropRecorder } from './recordDrops.js';
export type { DropRecord, RecordDropsOptions } from './recordDrops.js';

// Marble diagrams recorded from a run in virtual time, drawn as SVG (browser-safe)
export { recordMarbles } from './diagram/recordMarbles.js';
export type { MarbleContext, MarbleTrackKind, RecordMarblesOptions } from './diagram/recordMarbles.js';
export { renderMarbleSvg } from './diagram/renderMarbleSvg.js';
export type { RenderMarbleSvgOptions } from './diagram/renderMarbleSvg.js';
export type { MarbleDiagram, MarbleDrop, MarbleEvent, MarbleLane, MarbleTrack } from './diagram/types.js';

// Virtual time (also exported by the main entry)
export { ManualTimeScheduler } from '../schedulers/ManualTimeScheduler.js';
export type { ManualTimeSchedulerOptions } from '../schedulers/ManualTimeScheduler.js';
export { withVirtualTime } from '../schedulers/withVirtualTime.js';
export { resetVirtualTime } from '../schedulers/withVirtualTime.js';
export type { VirtualTimeOptions } from '../schedulers/withVirtualTime.js';

// The vocabulary the records use
export type { DropReason, OnDrop } from '../types.js';
