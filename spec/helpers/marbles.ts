import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { DropReason, OnDrop } from 'rxjs-backpressure';

/**
 * A virtual-time scheduler whose assertions are jest's `toEqual`, so a failure prints jest's diff.
 * Jest compares errors by message only; here an error notification is compared by its class, name,
 * message and own fields (a `BufferOverflowError`'s `capacity` and `value`, say).
 */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(withErrorShapes(actual)).toEqual(withErrorShapes(expected));
  });
}

interface Notified {
  notification?: { kind?: string; error?: unknown };
}

function withErrorShapes(messages: unknown): unknown {
  if (!Array.isArray(messages)) return messages;
  return messages.map((message: unknown) => {
    const notification = (message as Notified | null)?.notification;
    if (notification?.kind !== 'E' || !(notification.error instanceof Error)) return message;
    return {
      ...(message as object),
      notification: { ...notification, error: errorShape(notification.error) },
    };
  });
}

/** What makes an error the error it is, for `toEqual`. */
export function errorShape(err: Error): Record<string, unknown> {
  return {
    ...Object.fromEntries(Object.entries(err)),
    class: err.constructor,
    name: err.name,
    message: err.message,
  };
}

/** The error `fn` throws (fails the test if it throws nothing). */
export function thrownBy(fn: () => unknown): Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return errorShape(err);
    throw new Error(`threw a non-Error: ${String(err)}`, { cause: err });
  }
  throw new Error('expected a throw, but nothing was thrown');
}

/** One `onDrop` report: the value, the reason and the virtual frame it was reported at. */
export interface DropRecord<T> {
  value: T;
  reason: DropReason;
  frame: number;
}

export interface DropRecorder<T> {
  /** Pass this as the operator's `onDrop`. */
  onDrop: OnDrop<T>;
  /** Every report so far, in order, as `[value, reason]`. */
  readonly drops: [T, DropReason][];
  /** Every report so far, in order, with the frame (`scheduler.now()`) it happened at. */
  readonly timeline: DropRecord<T>[];
}

/**
 * Records what an operator reports to `onDrop`. Give it the `TestScheduler` to record frames too
 * (inside `TestScheduler.run`, `now()` is the current frame).
 */
export function recordDrops<T>(scheduler?: SchedulerLike): DropRecorder<T> {
  const drops: [T, DropReason][] = [];
  const timeline: DropRecord<T>[] = [];
  return {
    onDrop: (value, reason) => {
      drops.push([value, reason]);
      timeline.push({ value, reason, frame: scheduler ? scheduler.now() : 0 });
    },
    drops,
    timeline,
  };
}

/** Records the arguments `project` was called with, then delegates to `inner`. */
export function recordCalls<T, R>(
  inner: (value: T, index: number) => R,
): { project: (value: T, index: number) => R; calls: [T, number][] } {
  const calls: [T, number][] = [];
  return {
    project: (value, index) => {
      calls.push([value, index]);
      return inner(value, index);
    },
    calls,
  };
}
