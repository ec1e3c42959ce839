import type { DropReason } from '../../types.js';

/**
 * One notification of a lane, at a virtual-time frame (1 frame = 1 ms under `TestScheduler.run`).
 *
 * ```ts
 * const a: MarbleEvent = { kind: 'next', frame: 2, label: 'a', value: 'a' };
 * const end: MarbleEvent = { kind: 'complete', frame: 9 };
 * const failed: MarbleEvent = { kind: 'error', frame: 5, label: 'BufferOverflowError' };
 * ```
 */
export type MarbleEvent =
  | {
      /** A value. */
      readonly kind: 'next';
      /** When it was emitted, in frames from the start of the run. */
      readonly frame: number;
      /** What the marble shows (a few characters; longer labels are shortened when drawn). */
      readonly label: string;
      /** The value itself, for assertions; the renderer reads only `label`. */
      readonly value?: unknown;
    }
  | {
      /** The completion. */
      readonly kind: 'complete';
      /** When it came, in frames from the start of the run. */
      readonly frame: number;
    }
  | {
      /** The error. */
      readonly kind: 'error';
      /** When it came, in frames from the start of the run. */
      readonly frame: number;
      /** A short description of the error (its `name`, or its message). */
      readonly label: string;
      /** The error itself, for assertions; the renderer reads only `label`. */
      readonly error?: unknown;
    };

/**
 * A horizontal lane of a diagram: an input (a source, `demand$`, a limit that changes) or an
 * output, or a lane of marks a run wrote itself (`pulled`, `written`).
 *
 * ```ts
 * const source: MarbleLane = {
 *   name: 'source',
 *   role: 'input',
 *   events: [{ kind: 'next', frame: 1, label: 'a' }, { kind: 'complete', frame: 3 }],
 * };
 * ```
 */
export interface MarbleLane {
  /** Shown at the left of the lane: `source`, `demand$`, `output`, ... */
  readonly name: string;
  /** Inputs are drawn above the operator's box, outputs and marks below it. */
  readonly role: 'input' | 'output' | 'mark';
  /** In time order; several events may share a frame (a synchronous group, drawn stacked). */
  readonly events: readonly MarbleEvent[];
}

/**
 * One discarded value: drawn in the drops lane at the frame it was dropped, labelled with its
 * reason.
 *
 * ```ts
 * const drop: MarbleDrop = { frame: 3, label: 'b', reason: 'overflow', value: 'b' };
 * ```
 */
export interface MarbleDrop {
  /** When it was dropped, in frames from the start of the run. */
  readonly frame: number;
  /** What the marble shows. */
  readonly label: string;
  /** Why it was dropped, written under the marble. */
  readonly reason: DropReason;
  /** The value itself, for assertions; the renderer reads only `label` and `reason`. */
  readonly value?: unknown;
}

/**
 * A quantity sampled over the run and drawn as a small step chart under the lanes: the tokens of a
 * bucket, the length of a queue.
 *
 * ```ts
 * const tokens: MarbleTrack = {
 *   name: 'tokens',
 *   points: [{ frame: 0, value: 2 }, { frame: 0, value: 0 }, { frame: 10, value: 1 }],
 * };
 * ```
 */
export interface MarbleTrack {
  /** Shown at the left of the track: `tokens`, `waiting`, ... */
  readonly name: string;
  /**
   * In time order. Several points may share a frame (the value before and after what happened in
   * it); between points the value changes linearly (tokens accrue continuously).
   */
  readonly points: readonly {
    /** In frames from the start of the run. */
    readonly frame: number;
    /** The quantity at that frame (finite). */
    readonly value: number;
  }[];
}

/**
 * Everything a diagram shows, as recorded from a run by `recordMarbles` (or written by hand, or
 * rebuilt from JSON): the input to `renderMarbleSvg` and to `toMarbleString`.
 *
 * ```ts
 * const diagram: MarbleDiagram = {
 *   title: 'bufferSliding(1, project)',
 *   notes: ['project: each value takes 4 frames'],
 *   frames: 14,
 *   lanes: [source, output],
 *   drops: [{ frame: 5, label: 'b', reason: 'overflow' }],
 *   tracks: [],
 * };
 * ```
 */
export interface MarbleDiagram {
  /** The call being shown, drawn in the operator's box between the inputs and the outputs. */
  readonly title: string;
  /** Lines of explanation drawn under the diagram (`project: each value takes 4 frames`). */
  readonly notes?: readonly string[];
  /** The last frame of the time axis: every event's frame is in `[0, frames]`. */
  readonly frames: number;
  /** The lanes, drawn in this order: inputs and marks above the operator's box, outputs below. */
  readonly lanes: readonly MarbleLane[];
  /** The drops lane; drawn only when the run could drop (or dropped) something. */
  readonly drops: readonly MarbleDrop[];
  /** Whether to draw the drops lane even when it is empty (to show that nothing was dropped). */
  readonly showDrops?: boolean;
  /** Quantities drawn as small charts under the lanes (tokens, queue length), in this order. */
  readonly tracks: readonly MarbleTrack[];
  /** True when the run was cut at its frame limit while something was still scheduled. */
  readonly truncated?: boolean;
}
