import { isObservable, type Observable, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import * as check from '../../internal/validate.js';
import { FlowMeter } from '../../monitoring/FlowMeter.js';
import type { DropReason, OnDrop } from '../../types.js';
import type { MarbleDiagram, MarbleDrop, MarbleEvent, MarbleLane, MarbleTrack } from './types.js';

type RunHelpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];

/**
 * What a run of {@link recordMarbles} is given to build the Observables it shows.
 *
 * ```ts
 * recordMarbles({
 *   title: 'pullFeedback(demand$)',
 *   inputs: { source: '-a-b-|', demand$: '---1-1' },
 *   values: { 1: 1 },
 *   run: ({ source, inputs, onDrop, meter }) =>
 *     source.pipe(pullFeedback(inputs.demand$ as Observable<number>, { onDrop, meter })),
 * });
 * ```
 */
export interface MarbleContext<V = string> {
  /** The input lanes, as cold Observables of their values (subscribed at frame 0). */
  readonly inputs: Readonly<Record<string, Observable<V>>>;
  /** The input lane named `source` (an Observable that never emits if there is none). */
  readonly source: Observable<V>;
  /** Pass as the operator's `onDrop`: every drop is drawn in the drops lane at its frame. */
  readonly onDrop: OnDrop<unknown>;
  /**
   * Pass as the operator's `meter`: its snapshots give the `tracks`, and its drops the drops lane
   * when `onDrop` was not used.
   */
  readonly meter: FlowMeter;
  /**
   * The virtual-time scheduler of the run (1 frame = 1 ms). Operators may also use their default
   * (`asyncScheduler` is virtual during the run), but passing this one as their `scheduler` avoids a
   * quirk of `TestScheduler`'s run mode: a timer of the default scheduler cancelled in the very frame
   * it falls due can make it throw "Expected a due immediate or interval".
   */
  readonly scheduler: TestScheduler;
  /** `TestScheduler`'s `cold`: inner Observables for `project` (`cold('----(x|)', { x: v })`). */
  readonly cold: RunHelpers['cold'];
  /** `TestScheduler`'s `hot`. */
  readonly hot: RunHelpers['hot'];
  /**
   * Draws a marble at the current frame in a lane of marks of its own (created at first use, drawn
   * above the operator with the inputs): when a value was pulled from an iterable, written, ...
   */
  readonly mark: (lane: string, value: unknown) => void;
}

/**
 * The quantities a {@link FlowMeter} snapshot gives, as tracks under the lanes: `tokens` (buckets),
 * `waiting` (the queue's length), `running` (inners in progress).
 *
 * ```ts
 * const tracks: MarbleTrackKind[] = ['tokens', 'waiting'];
 * ```
 */
export type MarbleTrackKind = 'tokens' | 'waiting' | 'running';

/**
 * Options of {@link recordMarbles}.
 *
 * ```ts
 * const options: RecordMarblesOptions = {
 *   title: 'leakyBucket({ interval: 10 })',
 *   inputs: { source: '(abc)-----|' },
 *   run: ({ source, onDrop, meter }) => source.pipe(leakyBucket({ interval: 10, onDrop, meter })),
 *   tracks: ['tokens'],
 * };
 * ```
 */
export interface RecordMarblesOptions<V = string> {
  /** The call shown in the operator's box (`bufferSliding(1, project)`). Required. */
  title: string;
  /** Lines of explanation under the diagram. @default [] */
  notes?: readonly string[];
  /**
   * Input lanes, in the order drawn: name → marble string in `TestScheduler.run` syntax
   * (`'-a-b-(cd)-|'`; 1 frame per character, `#` an error, `(..)` a synchronous group).
   * @default {}
   */
  inputs?: Readonly<Record<string, string>>;
  /** The values of the marble characters of every input lane; a character without one is itself. */
  values?: Readonly<Record<string, V>>;
  /** The error of `#` in the input lanes. @default the string 'error' */
  error?: unknown;
  /**
   * Builds what is shown from the context: one Observable (the lane `output`), or several, by lane
   * name, subscribed in that order at frame 0.
   */
  run: (context: MarbleContext<V>) => Observable<unknown> | Readonly<Record<string, Observable<unknown>>>;
  /** Quantities to draw under the lanes, read from `context.meter` every frame. @default [] */
  tracks?: readonly MarbleTrackKind[];
  /** Draw the drops lane even when nothing was dropped. @default false (drawn when something was) */
  showDrops?: boolean;
  /**
   * The text of a marble for a value. @default strings as they are, numbers, booleans and `null` as
   * written in code, other values as JSON
   */
  label?: (value: unknown) => string;
  /**
   * The run stops at the first frame where nothing is scheduled any more, or at this frame (then
   * everything is unsubscribed and the diagram is marked `truncated`).
   * @default 1000
   */
  maxFrames?: number;
}

const KNOWN_KEYS: readonly (keyof RecordMarblesOptions)[] = [
  'title',
  'notes',
  'inputs',
  'values',
  'error',
  'run',
  'tracks',
  'showDrops',
  'label',
  'maxFrames',
];
const TRACKS: readonly MarbleTrackKind[] = ['tokens', 'waiting', 'running'];
const NAME = 'recordMarbles';

/**
 * The text of a marble for a value: strings as they are, numbers, booleans, `null` and `undefined` as
 * written in code, other values as JSON (or their `toString` tag when they have no JSON form).
 *
 * ```ts
 * defaultMarbleLabel('a'); // 'a'
 * defaultMarbleLabel({ id: 1 }); // '{"id":1}'
 * ```
 */
function defaultMarbleLabel(value: unknown): string {
  if (typeof value === 'string') return value;
  if (
    value === null ||
    value === undefined ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
  ) {
    return String(value);
  }
  if (value instanceof Error) return value.name;
  try {
    const json = JSON.stringify(value) as string | undefined;
    if (json !== undefined) return json;
  } catch {
    // a cycle, a BigInt inside: fall through
  }
  return Object.prototype.toString.call(value);
}

function errorLabel(error: unknown, label: (value: unknown) => string): string {
  if (error instanceof Error) return error.name;
  return label(error);
}

/**
 * Runs Observables built from marble strings in virtual time (a `TestScheduler`, 1 frame = 1 ms) and
 * records what happened, frame by frame: the input lanes, every value, completion and error of the
 * output(s), every drop with its reason at the frame it happened, and the meter's tokens, queue
 * length or running inners after each frame. The result is data (plain objects): draw it with
 * `renderMarbleSvg`, compare it with a documented diagram, or serialise it.
 *
 * Pure and browser-safe: no Node.js module, no real timer. It creates its own `TestScheduler`, so do
 * not call it from inside another `TestScheduler.run`.
 *
 * ## Example
 * ```ts
 * import { bufferSliding } from 'rxjs-backpressure';
 * import { recordMarbles, renderMarbleSvg } from 'rxjs-backpressure/testing';
 *
 * const diagram = recordMarbles({
 *   title: 'bufferSliding(1, project)',
 *   notes: ['project: each value takes 4 frames ("----(x|)")'],
 *   inputs: { source: '-a-b-c-d-|' },
 *   run: ({ source, cold, onDrop, meter }) =>
 *     source.pipe(bufferSliding(1, (v) => cold('----(x|)', { x: v.toUpperCase() }), { onDrop, meter })),
 *   tracks: ['waiting'],
 * });
 * diagram.drops; // [{ frame: 5, label: 'b', reason: 'overflow', value: 'b' }]
 * const svg = renderMarbleSvg(diagram);
 * ```
 *
 * @param options The lanes, the run, and what to record; see {@link RecordMarblesOptions}.
 * @return The recorded {@link MarbleDiagram}.
 * @throws TypeError for options that are not an object, an unknown option key, a `title` that is
 *   not a non-empty string, an input lane that is not a valid marble string, a `run` that is not a
 *   function or does not return an Observable (or a record of them); RangeError for a `maxFrames`
 *   that is not a positive integer.
 */
export function recordMarbles<V = string>(options: RecordMarblesOptions<V>): MarbleDiagram {
  check.options(NAME, options, KNOWN_KEYS, { required: true });
  const {
    title,
    notes = [],
    inputs = {},
    values,
    error = 'error',
    run,
    tracks = [],
    showDrops = false,
  } = options;
  const label = options.label ?? defaultMarbleLabel;
  if (typeof title !== 'string' || title === '') {
    throw new TypeError(`${NAME}: \`title\` must be a non-empty string, got ${check.describe(title)}`);
  }
  if (!Array.isArray(notes) || notes.some((n) => typeof n !== 'string')) {
    throw new TypeError(`${NAME}: \`notes\` must be an array of strings, got ${check.describe(notes)}`);
  }
  if (!isPlainObject(inputs)) {
    throw new TypeError(
      `${NAME}: \`inputs\` must be an object of marble strings, got ${check.describe(inputs)}`,
    );
  }
  for (const [name, marbles] of Object.entries(inputs)) {
    if (typeof marbles !== 'string') {
      throw new TypeError(
        `${NAME}: input lane \`${name}\` must be a marble string, got ${check.describe(marbles)}`,
      );
    }
  }
  check.isFunction(NAME, 'run', run);
  check.optionalFunction(NAME, 'label', options.label);
  check.optionalBoolean(NAME, 'showDrops', showDrops);
  if (values !== undefined && !isPlainObject(values)) {
    throw new TypeError(`${NAME}: \`values\` must be an object, got ${check.describe(values)}`);
  }
  if (!Array.isArray(tracks) || tracks.some((t: unknown) => !TRACKS.includes(t as MarbleTrackKind))) {
    throw new TypeError(
      `${NAME}: \`tracks\` must be an array of ${TRACKS.map((t) => `'${t}'`).join(', ')}, got ${describeArray(tracks)}`,
    );
  }
  const maxFrames =
    options.maxFrames === undefined ? 1000 : check.positiveInteger(NAME, 'maxFrames', options.maxFrames);
  return record({
    title,
    notes,
    inputs,
    values: completeValues(inputs, values),
    error,
    run,
    tracks,
    showDrops,
    label,
    maxFrames,
  });
}

/**
 * A `values` map that also maps every other character of the lanes to itself: TestScheduler gives
 * `undefined` for a character missing from a map, and here a character without a value is itself.
 */
function completeValues<V>(
  inputs: Readonly<Record<string, string>>,
  values: Readonly<Record<string, V>> | undefined,
): Readonly<Record<string, V>> | undefined {
  if (values === undefined) return undefined;
  const complete: Record<string, unknown> = {};
  for (const marbles of Object.values(inputs)) {
    for (const ch of marbles) if (!'-|#()^! '.includes(ch)) complete[ch] = ch;
  }
  for (const [key, value] of Object.entries(values)) complete[key] = value;
  return complete as Record<string, V>;
}

/** An object that is not `null`, an array or a function (typed loosely: it checks user input). */
function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeArray(value: unknown): string {
  if (!Array.isArray(value)) return check.describe(value);
  return `[${value.map((v) => (typeof v === 'string' ? `'${v}'` : check.describe(v))).join(', ')}]`;
}

interface Checked<V> {
  title: string;
  notes: readonly string[];
  inputs: Readonly<Record<string, string>>;
  values: Readonly<Record<string, V>> | undefined;
  error: unknown;
  run: RecordMarblesOptions<V>['run'];
  tracks: readonly MarbleTrackKind[];
  showDrops: boolean;
  label: (value: unknown) => string;
  maxFrames: number;
}

/** The frames an input lane spans: its last event, or its last character when it ends with dashes. */
function inputLane<V>(
  name: string,
  marbles: string,
  values: Readonly<Record<string, V>> | undefined,
  error: unknown,
  label: (value: unknown) => string,
): { lane: MarbleLane; end: number } {
  let messages: ReturnType<typeof TestScheduler.parseMarbles>;
  try {
    if (marbles.includes('^') || marbles.includes('!')) {
      throw new Error('subscription marks (^ and !) have no meaning in an input lane');
    }
    messages = TestScheduler.parseMarbles(marbles, values, error, false, true);
  } catch (e) {
    throw new TypeError(
      `${NAME}: input lane \`${name}\` is not a valid marble string (${JSON.stringify(marbles)}): ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  const events: MarbleEvent[] = [];
  let end = 0;
  for (const { frame, notification } of messages) {
    end = Math.max(end, frame);
    if (notification.kind === 'N')
      events.push({ kind: 'next', frame, label: label(notification.value), value: notification.value });
    else if (notification.kind === 'C') events.push({ kind: 'complete', frame });
    else
      events.push({
        kind: 'error',
        frame,
        label: errorLabel(notification.error, label),
        error: notification.error,
      });
  }
  // Trailing dashes extend the lane (run mode: one frame per character, when no time progression).
  if (!/\d\s*(ms|s|m)\b/.test(marbles)) {
    const chars = marbles.replace(/\s/g, '').length;
    const terminated = events.some((e) => e.kind !== 'next');
    if (!terminated) end = Math.max(end, chars - 1);
  }
  return { lane: { name, role: 'input', events }, end };
}

function record<V>(o: Checked<V>): MarbleDiagram {
  const scheduler = new TestScheduler((actual, expected) => {
    throw new Error(`${NAME}: unexpected assertion (${String(actual)} vs ${String(expected)})`);
  });
  const lanes: MarbleLane[] = [];
  let end = 0;
  const markLanes = new Map<string, MarbleEvent[]>();
  const outputLanes: { name: string; events: MarbleEvent[]; closed: boolean }[] = [];
  const dropsFromCallback: MarbleDrop[] = [];
  const dropsFromMeter: MarbleDrop[] = [];
  const points = o.tracks.map(() => [] as { frame: number; value: number }[]);
  /** `ended`: the run is over; the teardown that follows is not part of the diagram. */
  const state = { truncated: false, meterUsed: false, ended: false };

  scheduler.run((helpers) => {
    // Parsed here: outside run(), TestScheduler counts 10 frames per character.
    for (const [name, marbles] of Object.entries(o.inputs)) {
      const input = inputLane(name, marbles, o.values, o.error, o.label);
      lanes.push(input.lane);
      end = Math.max(end, input.end);
    }
    const meter = new FlowMeter({ name: 'diagram', scheduler });
    const subscriptions: Subscription[] = [];
    subscriptions.push(
      meter.drops$.subscribe(({ value, reason, time }) => {
        if (state.ended) return;
        dropsFromMeter.push({ frame: time, label: o.label(value), reason, value });
      }),
    );
    const inputs: Record<string, Observable<V>> = {};
    for (const [name, marbles] of Object.entries(o.inputs)) {
      inputs[name] = helpers.cold<V>(marbles, o.values, o.error);
    }
    const context: MarbleContext<V> = {
      inputs,
      source: inputs.source ?? helpers.cold<V>('-'),
      onDrop: (value: unknown, reason: DropReason) => {
        if (state.ended) return;
        dropsFromCallback.push({ frame: scheduler.now(), label: o.label(value), reason, value });
      },
      meter,
      scheduler,
      cold: helpers.cold,
      hot: helpers.hot,
      mark: (lane: string, value: unknown) => {
        if (typeof lane !== 'string' || lane === '') {
          throw new TypeError(`${NAME}: mark's lane must be a non-empty string, got ${check.describe(lane)}`);
        }
        if (state.ended) return;
        let events = markLanes.get(lane);
        if (events === undefined) markLanes.set(lane, (events = []));
        events.push({ kind: 'next', frame: scheduler.now(), label: o.label(value), value });
      },
    };
    const built: unknown = o.run(context);
    let outputs: [string, Observable<unknown>][];
    if (isObservable(built)) outputs = [['output', built]];
    else if (typeof built === 'object' && built !== null && !Array.isArray(built)) {
      outputs = Object.entries(built as Record<string, unknown>).map(([name, value]) => {
        if (!isObservable(value)) {
          throw new TypeError(
            `${NAME}: \`run\` returned a record whose \`${name}\` is not an Observable, got ${check.describe(value)}`,
          );
        }
        return [name, value];
      });
      if (outputs.length === 0) throw new TypeError(`${NAME}: \`run\` returned an empty record`);
    } else {
      throw new TypeError(
        `${NAME}: \`run\` must return an Observable or a record of Observables, got ${check.describe(built)}`,
      );
    }
    for (const [name, output] of outputs) {
      const lane = { name, events: [] as MarbleEvent[], closed: false };
      outputLanes.push(lane);
      subscriptions.push(
        output.subscribe({
          next: (value) =>
            lane.events.push({ kind: 'next', frame: scheduler.now(), label: o.label(value), value }),
          error: (err: unknown) => {
            lane.closed = true;
            lane.events.push({
              kind: 'error',
              frame: scheduler.now(),
              label: errorLabel(err, o.label),
              error: err,
            });
          },
          complete: () => {
            lane.closed = true;
            lane.events.push({ kind: 'complete', frame: scheduler.now() });
          },
        }),
      );
    }

    const sample = (frame: number): void => {
      if (o.tracks.length === 0) return;
      const snapshot = meter.snapshot();
      // Only while an operator is attached: after its subscription ends, its gauges read 0.
      if (snapshot.subscriptions === 0) return;
      state.meterUsed = true;
      o.tracks.forEach((kind, i) => {
        const track = points[i] as { frame: number; value: number }[];
        // Tokens accrue in binary fractions: 0.30000000000000004 is drawn, and recorded, as 0.3.
        const value = Math.round(snapshot[kind] * 1e6) / 1e6;
        const last = track[track.length - 1];
        if (last?.frame !== frame || last.value !== value) track.push({ frame, value });
      });
    };

    for (let frame = 0; ;) {
      if (scheduler.frame < frame) scheduler.frame = frame;
      sample(frame);
      scheduler.maxFrames = frame;
      scheduler.flush();
      scheduler.frame = frame;
      sample(frame);
      if (scheduler.actions.length === 0) break;
      if (frame >= o.maxFrames) {
        state.truncated = true;
        for (const s of subscriptions) s.unsubscribe();
        break;
      }
      // Without tracks, nothing needs sampling between actions: go to the next one due.
      const due = (scheduler.actions[0] as { delay: number } | undefined)?.delay ?? frame + 1;
      frame = o.tracks.length === 0 ? Math.max(frame + 1, Math.min(due, o.maxFrames)) : frame + 1;
    }
    // Nothing is scheduled any more: what has not ended (an output that never completes, an
    // iterator still open, the meter) is released now, and nothing it does then is drawn.
    state.ended = true;
    for (const s of subscriptions) s.unsubscribe();
    // run() flushes once more when this callback returns: nothing beyond the last frame may run.
  });

  for (const lane of outputLanes) {
    for (const e of lane.events) end = Math.max(end, e.frame);
  }
  for (const [, events] of markLanes) for (const e of events) end = Math.max(end, e.frame);
  const drops = dropsFromCallback.length > 0 ? dropsFromCallback : dropsFromMeter;
  if (state.truncated) end = Math.max(end, o.maxFrames);
  for (const d of drops) end = Math.max(end, d.frame);
  if (o.tracks.length > 0 && !state.meterUsed) {
    throw new Error(
      `${NAME}: \`tracks\` asks for ${o.tracks.join(', ')}, but the run never passed \`context.meter\` to an operator (its \`meter\` option)`,
    );
  }
  const tracks: MarbleTrack[] = o.tracks.map((name, i) => ({
    name,
    points: (points[i] as { frame: number; value: number }[]).filter((p) => p.frame <= end),
  }));
  for (const [name, events] of markLanes) lanes.push({ name, role: 'mark', events });
  for (const lane of outputLanes) lanes.push({ name: lane.name, role: 'output', events: lane.events });
  const diagram: MarbleDiagram = {
    title: o.title,
    ...(o.notes.length > 0 ? { notes: o.notes.slice() } : {}),
    frames: end,
    lanes,
    drops,
    ...(o.showDrops ? { showDrops: true } : {}),
    tracks,
    ...(state.truncated ? { truncated: true } : {}),
  };
  return diagram;
}
