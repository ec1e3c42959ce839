import * as check from '../../internal/validate.js';
import type { DropReason } from '../../types.js';
import type { MarbleDiagram, MarbleDrop, MarbleEvent, MarbleLane, MarbleTrack } from './types.js';
import { escapeXml } from '../../internal/xml.js';

/**
 * Options of {@link renderMarbleSvg}.
 *
 * ```ts
 * const svg = renderMarbleSvg(diagram, { frameWidth: 20 }); // 20 pixels per frame
 * ```
 */
export interface RenderMarbleSvgOptions {
  /**
   * Pixels per frame. By default as many as keep neighbouring marbles apart, and the diagram about
   * 600 pixels wide when that allows more.
   */
  frameWidth?: number;
}

const NAME = 'renderMarbleSvg';
const REASONS: readonly DropReason[] = ['overflow', 'rejected', 'expired', 'shed', 'cleared'];

// Layout, in pixels.
const PAD = 14;
const R = 11; // marble radius
const ROW = 28; // one row of marbles
const LANE_GAP = 6;
const BOX_H = 28;
const TRACK_H = 34;
const REASON_ROW = 12;
const AXIS_H = 26;
const NOTE_ROW = 15;
const CHAR_W = 7.2; // 12 px monospace
const SMALL_CHAR_W = 6.1; // 10 px monospace
const MAX_LABEL = 8;

// Colours: dark text on a white card, so the diagram reads the same on light and dark pages.
const INK = '#1f2328';
const MUTED = '#57606a';
const LINE = '#8c959f';
const CARD_STROKE = '#d0d7de';
const BOX_FILL = '#f6f8fa';
const ERROR = '#cf222e';
const FILLS = [
  '#ffd8a8',
  '#b2f2bb',
  '#a5d8ff',
  '#d0bfff',
  '#ffc9c9',
  '#99e9f2',
  '#ffec99',
  '#fcc2d7',
  '#c0eb75',
  '#dee2e6',
];
const STROKES = [
  '#d9480f',
  '#2b8a3e',
  '#1864ab',
  '#5f3dc4',
  '#c92a2a',
  '#0b7285',
  '#e67700',
  '#a61e4d',
  '#5c940d',
  '#495057',
];
const REASON_COLOR: Record<DropReason, string> = {
  overflow: '#d9480f',
  rejected: '#a61e4d',
  expired: '#5f3dc4',
  shed: '#1864ab',
  cleared: '#495057',
};

/** A number as written in the SVG: at most one decimal, the same bytes for the same value. */
function n(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** A marble's text: long labels are cut, with an ellipsis. */
function shortLabel(label: string): string {
  const chars = Array.from(label);
  return chars.length <= MAX_LABEL ? label : chars.slice(0, MAX_LABEL - 1).join('') + '…';
}

function marbleWidth(label: string): number {
  const len = Array.from(shortLabel(label)).length;
  return len <= 2 ? 2 * R : Math.ceil(len * CHAR_W + 10);
}

/** The same label gets the same colour, and `a` the colour of `A` (a value and its projection). */
function colourIndex(label: string): number {
  let h = 0;
  for (const ch of label.toLowerCase()) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 1_000_003;
  return h % FILLS.length;
}

// ---- validation ----

function fail(
  ctor: typeof TypeError | typeof RangeError,
  path: string,
  expected: string,
  value: unknown,
): never {
  throw new ctor(`${NAME}: \`${path}\` must be ${expected}, got ${check.describe(value)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFrame(path: string, value: unknown, frames: number): number {
  if (typeof value !== 'number') fail(TypeError, path, `a number in [0, ${n(frames)}]`, value);
  if (!(value >= 0 && value <= frames)) fail(RangeError, path, `a number in [0, ${n(frames)}]`, value);
  return value;
}

function checkString(path: string, value: unknown): string {
  if (typeof value !== 'string') fail(TypeError, path, 'a string', value);
  return value;
}

function checkArray(path: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value)) fail(TypeError, path, 'an array', value);
  return value as readonly unknown[];
}

/** Checks the shape of a diagram (it may come from JSON or a hand-written object). */
function validate(diagram: unknown): MarbleDiagram {
  if (!isRecord(diagram)) fail(TypeError, 'diagram', 'an object (a MarbleDiagram)', diagram);
  checkString('title', diagram.title);
  const frames = diagram.frames;
  if (typeof frames !== 'number') fail(TypeError, 'frames', 'a finite number >= 0', frames);
  if (!(Number.isFinite(frames) && frames >= 0)) fail(RangeError, 'frames', 'a finite number >= 0', frames);
  if (diagram.notes !== undefined) {
    checkArray('notes', diagram.notes).forEach((note, i) => checkString(`notes[${i}]`, note));
  }
  checkArray('lanes', diagram.lanes).forEach((lane, i) => {
    const at = `lanes[${i}]`;
    if (!isRecord(lane)) fail(TypeError, at, 'an object (a MarbleLane)', lane);
    checkString(`${at}.name`, lane.name);
    if (lane.role !== 'input' && lane.role !== 'output' && lane.role !== 'mark') {
      fail(TypeError, `${at}.role`, "'input', 'output' or 'mark'", lane.role);
    }
    let previous = 0;
    checkArray(`${at}.events`, lane.events).forEach((event, j) => {
      const e = `${at}.events[${j}]`;
      if (!isRecord(event)) fail(TypeError, e, 'an object (a MarbleEvent)', event);
      if (event.kind !== 'next' && event.kind !== 'complete' && event.kind !== 'error') {
        fail(TypeError, `${e}.kind`, "'next', 'complete' or 'error'", event.kind);
      }
      const frame = checkFrame(`${e}.frame`, event.frame, frames);
      if (frame < previous)
        fail(RangeError, `${e}.frame`, `in time order (not before ${n(previous)})`, frame);
      previous = frame;
      if (event.kind !== 'complete') checkString(`${e}.label`, event.label);
    });
  });
  checkArray('drops', diagram.drops).forEach((drop, i) => {
    const at = `drops[${i}]`;
    if (!isRecord(drop)) fail(TypeError, at, 'an object (a MarbleDrop)', drop);
    checkFrame(`${at}.frame`, drop.frame, frames);
    checkString(`${at}.label`, drop.label);
    if (!REASONS.includes(drop.reason as DropReason)) {
      fail(TypeError, `${at}.reason`, `one of ${REASONS.map((r) => `'${r}'`).join(', ')}`, drop.reason);
    }
  });
  checkArray('tracks', diagram.tracks).forEach((track, i) => {
    const at = `tracks[${i}]`;
    if (!isRecord(track)) fail(TypeError, at, 'an object (a MarbleTrack)', track);
    checkString(`${at}.name`, track.name);
    checkArray(`${at}.points`, track.points).forEach((point, j) => {
      const p = `${at}.points[${j}]`;
      if (!isRecord(point)) fail(TypeError, p, 'an object { frame, value }', point);
      checkFrame(`${p}.frame`, point.frame, frames);
      if (typeof point.value !== 'number') fail(TypeError, `${p}.value`, 'a finite number', point.value);
      if (!Number.isFinite(point.value)) fail(RangeError, `${p}.value`, 'a finite number', point.value);
    });
  });
  return diagram as unknown as MarbleDiagram;
}

// ---- layout ----

/** Events of a lane grouped by frame, in order: a synchronous group is drawn as a stack. */
function groups<E extends { frame: number }>(events: readonly E[]): { frame: number; items: E[] }[] {
  const out: { frame: number; items: E[] }[] = [];
  for (const event of events) {
    const last = out[out.length - 1];
    if (last?.frame === event.frame) last.items.push(event);
    else out.push({ frame: event.frame, items: [event] });
  }
  return out;
}

function laneRows(lane: MarbleLane): number {
  let rows = 1;
  for (const g of groups(lane.events)) rows = Math.max(rows, g.items.filter((e) => e.kind === 'next').length);
  return rows;
}

function frameWidthFor(diagram: MarbleDiagram): number {
  let widest = 2 * R;
  let minGap = Infinity;
  const consider = (items: readonly { frame: number; label?: string; kind?: string }[]): void => {
    const gs = groups(items);
    for (const g of gs)
      for (const e of g.items) if (e.label !== undefined) widest = Math.max(widest, marbleWidth(e.label));
    for (let i = 1; i < gs.length; i++)
      minGap = Math.min(minGap, (gs[i] as { frame: number }).frame - (gs[i - 1] as { frame: number }).frame);
  };
  for (const lane of diagram.lanes)
    consider(lane.events.map((e) => (e.kind === 'next' ? e : { frame: e.frame })));
  consider([...diagram.drops].sort((a, b) => a.frame - b.frame));
  const needed = Number.isFinite(minGap) && minGap > 0 ? (widest + 6) / minGap : 0;
  const comfortable = Math.min(30, 600 / Math.max(diagram.frames, 1));
  // A long run with events close together cannot have both: past 2400 pixels, marbles may overlap.
  return Math.min(Math.max(needed, comfortable), 2400 / Math.max(diagram.frames, 1));
}

/** Rows for the reason labels of the drops: a label goes in the first row where it fits. */
function placeReasons(
  drops: readonly MarbleDrop[],
  x: (frame: number) => number,
): { row: number; stack: number }[] {
  const rowEnds: number[] = [];
  const stackAt = new Map<number, number>();
  return drops.map((drop) => {
    const stack = stackAt.get(drop.frame) ?? 0;
    stackAt.set(drop.frame, stack + 1);
    const w = drop.reason.length * SMALL_CHAR_W;
    const left = x(drop.frame) - w / 2;
    let row = rowEnds.findIndex((end) => end + 6 <= left);
    if (row === -1) {
      row = rowEnds.length;
      rowEnds.push(0);
    }
    rowEnds[row] = left + w;
    return { row, stack };
  });
}

// ---- drawing ----

function marble(x: number, y: number, label: string, stroke?: string, dashed = false): string {
  const i = colourIndex(label);
  const w = marbleWidth(label);
  const text = escapeXml(shortLabel(label));
  const strokeColour = stroke ?? STROKES[i];
  const dash = dashed ? ' stroke-dasharray="3 2"' : '';
  const shape =
    w === 2 * R
      ? `<circle cx="${n(x)}" cy="${n(y)}" r="${R}" fill="${FILLS[i] as string}" stroke="${strokeColour}" stroke-width="1.5"${dash}/>`
      : `<rect x="${n(x - w / 2)}" y="${n(y - R)}" width="${n(w)}" height="${2 * R}" rx="${R}" fill="${FILLS[i] as string}" stroke="${strokeColour}" stroke-width="1.5"${dash}/>`;
  const title = shortLabel(label) === label ? '' : `<title>${escapeXml(label)}</title>`;
  return `<g>${title}${shape}<text x="${n(x)}" y="${n(y + 4)}" text-anchor="middle" font-size="12" fill="${INK}">${text}</text></g>`;
}

/** The frame around a synchronous group: values emitted in the same frame, stacked. */
function groupBox(x: number, y: number, labels: readonly string[]): string {
  const w = Math.max(...labels.map(marbleWidth)) + 8;
  const h = (labels.length - 1) * ROW + 2 * R + 8;
  return `<rect x="${n(x - w / 2)}" y="${n(y - R - 4)}" width="${n(w)}" height="${n(h)}" rx="${R + 4}" fill="${BOX_FILL}" stroke="${CARD_STROKE}"/>`;
}

function laneLine(x0: number, x1: number, y: number): string {
  return (
    `<line x1="${n(x0)}" y1="${n(y)}" x2="${n(x1)}" y2="${n(y)}" stroke="${LINE}" stroke-width="1.5"/>` +
    `<path d="M${n(x1 + 7)} ${n(y)}L${n(x1)} ${n(y - 4)}V${n(y + 4)}Z" fill="${LINE}"/>`
  );
}

function laneName(name: string, y: number, colour = MUTED): string {
  return `<text x="${PAD}" y="${n(y + 4)}" font-size="12" fill="${colour}">${escapeXml(name)}</text>`;
}

function drawLane(
  lane: MarbleLane,
  top: number,
  x: (frame: number) => number,
  x0: number,
  x1: number,
): string {
  const rows = laneRows(lane);
  const y = top + ROW / 2;
  const parts = [laneName(lane.name, y), laneLine(x0, x1, y)];
  for (const g of groups(lane.events)) {
    const values = g.items.filter((e): e is Extract<MarbleEvent, { kind: 'next' }> => e.kind === 'next');
    const end = g.items.find((e) => e.kind !== 'next');
    const cx = x(g.frame);
    if (values.length > 1)
      parts.push(
        groupBox(
          cx,
          y,
          values.map((e) => e.label),
        ),
      );
    values.forEach((e, i) => parts.push(marble(cx, y + i * ROW, e.label)));
    if (end === undefined) continue;
    const ex = values.length > 0 ? cx + marbleWidth(values[0]?.label ?? '') / 2 + 5 : cx;
    const bottom = top + rows * ROW - 4;
    if (end.kind === 'complete') {
      parts.push(
        `<line x1="${n(ex)}" y1="${n(top + 3)}" x2="${n(ex)}" y2="${n(bottom)}" stroke="${INK}" stroke-width="2"/>`,
      );
    } else {
      const s = 6;
      parts.push(
        `<path d="M${n(ex - s)} ${n(y - s)}L${n(ex + s)} ${n(y + s)}M${n(ex - s)} ${n(y + s)}L${n(ex + s)} ${n(y - s)}" stroke="${ERROR}" stroke-width="2.5"/>`,
        `<text x="${n(ex + s + 4)}" y="${n(y - 6)}" font-size="10" fill="${ERROR}">${escapeXml(shortError(end.label))}</text>`,
      );
    }
  }
  return parts.join('');
}

function shortError(label: string): string {
  const chars = Array.from(label);
  return chars.length <= 32 ? label : chars.slice(0, 31).join('') + '…';
}

function drawTrack(
  track: MarbleTrack,
  top: number,
  x: (frame: number) => number,
  x0: number,
  x1: number,
): string {
  const max = Math.max(1, ...track.points.map((p) => p.value));
  const min = Math.min(0, ...track.points.map((p) => p.value));
  const y = (v: number): number => top + TRACK_H - ((v - min) / (max - min)) * TRACK_H;
  const parts = [
    laneName(track.name, top + TRACK_H / 2),
    `<line x1="${n(x0)}" y1="${n(y(min))}" x2="${n(x1)}" y2="${n(y(min))}" stroke="${CARD_STROKE}"/>`,
    `<line x1="${n(x0)}" y1="${n(y(max))}" x2="${n(x1)}" y2="${n(y(max))}" stroke="${CARD_STROKE}" stroke-dasharray="2 3"/>`,
    `<text x="${n(x0 - 4)}" y="${n(y(max) + 4)}" text-anchor="end" font-size="10" fill="${MUTED}">${n(max)}</text>`,
    `<text x="${n(x0 - 4)}" y="${n(y(min) + 3)}" text-anchor="end" font-size="10" fill="${MUTED}">${n(min)}</text>`,
  ];
  const pts = simplify(track.points);
  if (pts.length > 0) {
    const first = pts[0] as { frame: number; value: number };
    const last = pts[pts.length - 1] as { frame: number; value: number };
    const line = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(x(p.frame))} ${n(y(p.value))}`).join('');
    parts.push(
      `<path d="${line}L${n(x(last.frame))} ${n(y(min))}L${n(x(first.frame))} ${n(y(min))}Z" fill="#a5d8ff" fill-opacity="0.45"/>`,
      `<path d="${line}" fill="none" stroke="#1864ab" stroke-width="1.5"/>`,
    );
  }
  return parts.join('');
}

/** Drops points that lie on the line between their neighbours (same bytes, fewer of them). */
function simplify(points: MarbleTrack['points']): MarbleTrack['points'] {
  const out: { frame: number; value: number }[] = [];
  for (const p of points) {
    while (out.length >= 2) {
      const a = out[out.length - 2] as { frame: number; value: number };
      const b = out[out.length - 1] as { frame: number; value: number };
      const cross = (b.frame - a.frame) * (p.value - a.value) - (b.value - a.value) * (p.frame - a.frame);
      const between = a.frame <= b.frame && b.frame <= p.frame && a.frame < p.frame;
      if (Math.abs(cross) < 1e-9 && between) out.pop();
      else break;
    }
    out.push({ frame: p.frame, value: p.value });
  }
  return out;
}

/** Frames between two ticks of the axis: 1, 2, 5, 10, 20, 50, ... at least 30 pixels apart. */
function tickStep(px: number): number {
  for (let step = 1; ; step *= 10) {
    for (const m of [1, 2, 5]) if (step * m * px >= 30) return step * m;
  }
}

/**
 * Draws a {@link MarbleDiagram} as a small, self-contained SVG document: the input lanes, the call in
 * a box, the output lanes, the drops lane (each discarded value at the frame it was dropped, its
 * reason under it), the tracks (tokens, queue length) and a time axis in frames. Completion is a
 * vertical bar and an error a red cross, as on rxjs.dev; the values of a synchronous group are
 * stacked.
 *
 * Deterministic (the same diagram gives the same bytes), plain (no script, no external font or
 * image, no `id`, so several can share a page), and drawn on its own white card so that it reads on
 * light and dark pages. Pure and browser-safe: insert the string into the DOM, or write it to a file.
 *
 * ## Example
 * ```ts
 * import { recordMarbles, renderMarbleSvg } from 'rxjs-backpressure/testing';
 *
 * const svg = renderMarbleSvg(
 *   recordMarbles({ title: 'identity', inputs: { source: '-a-b-|' }, run: ({ source }) => source }),
 * );
 * document.querySelector('#diagram')!.innerHTML = svg; // in a browser
 * ```
 *
 * @param diagram What to draw, usually from `recordMarbles`.
 * @param options `frameWidth`: pixels per frame (default: chosen from the diagram).
 * @return The SVG document, as a string.
 * @throws TypeError or RangeError naming the offending field (`lanes[1].events[0].frame`) when the
 *   diagram is not well formed: events out of `[0, frames]` or out of time order, an unknown drop
 *   reason, a label that is not a string, ...
 */
export function renderMarbleSvg(diagram: MarbleDiagram, options?: RenderMarbleSvgOptions): string {
  check.options(NAME, options, ['frameWidth']);
  const d = validate(diagram);
  const px =
    options?.frameWidth === undefined
      ? frameWidthFor(d)
      : check.finitePositive(NAME, 'frameWidth', options.frameWidth);
  const longestName = Math.max(
    6,
    ...d.lanes.map((l) => l.name.length),
    ...d.tracks.map((t) => t.name.length),
    d.drops.length > 0 || d.showDrops === true ? 'dropped'.length : 0,
  );
  const plotLeft = PAD + Math.ceil(longestName * CHAR_W) + 14 + R;
  const x = (frame: number): number => plotLeft + frame * px;
  const x0 = plotLeft - R - 4;
  const x1 = x(d.frames) + R + 10;
  const titleWidth = Array.from(d.title).length * 7.8 + 24;
  const notes = [...(d.notes ?? [])];
  if (d.truncated === true) notes.push(`(the run was cut at frame ${n(d.frames)})`);
  const notesWidth = Math.max(0, ...notes.map((t) => Array.from(t).length * 6.8));
  const width = Math.ceil(Math.max(x1 + 8 + PAD, x0 + titleWidth + PAD, PAD * 2 + notesWidth));

  const body: string[] = [];
  let top = PAD;
  const above = d.lanes.filter((l) => l.role !== 'output');
  const below = d.lanes.filter((l) => l.role === 'output');
  for (const lane of above) {
    body.push(drawLane(lane, top, x, x0, x1));
    top += laneRows(lane) * ROW + LANE_GAP;
  }
  // The operator's box.
  const boxRight = Math.max(x1 + 8, x0 + titleWidth);
  body.push(
    `<rect x="${n(x0)}" y="${n(top)}" width="${n(boxRight - x0)}" height="${BOX_H}" rx="4" fill="${BOX_FILL}" stroke="${CARD_STROKE}"/>`,
    `<text x="${n((x0 + boxRight) / 2)}" y="${n(top + BOX_H / 2 + 4.5)}" text-anchor="middle" font-size="13" fill="${INK}">${escapeXml(d.title)}</text>`,
  );
  top += BOX_H + LANE_GAP;
  for (const lane of below) {
    body.push(drawLane(lane, top, x, x0, x1));
    top += laneRows(lane) * ROW + LANE_GAP;
  }
  if (d.drops.length > 0 || d.showDrops === true) {
    const sorted = [...d.drops].sort((a, b) => a.frame - b.frame);
    const places = placeReasons(sorted, x);
    const stacks = Math.max(1, ...places.map((p) => p.stack + 1));
    const reasonRows = Math.max(0, ...places.map((p) => p.row + 1));
    const y = top + ROW / 2;
    body.push(
      laneName('dropped', y),
      `<line x1="${n(x0)}" y1="${n(y)}" x2="${n(x1)}" y2="${n(y)}" stroke="${LINE}" stroke-dasharray="4 3"/>`,
    );
    for (const g of groups(sorted)) {
      if (g.items.length > 1)
        body.push(
          groupBox(
            x(g.frame),
            y,
            g.items.map((drop) => drop.label),
          ),
        );
    }
    sorted.forEach((drop, i) => {
      const place = places[i] as { row: number; stack: number };
      const colour = REASON_COLOR[drop.reason];
      body.push(marble(x(drop.frame), y + place.stack * ROW, drop.label, colour, true));
      const ty = top + stacks * ROW + place.row * REASON_ROW + 6;
      body.push(
        `<text x="${n(x(drop.frame))}" y="${n(ty)}" text-anchor="middle" font-size="10" fill="${colour}">${drop.reason}</text>`,
      );
    });
    top += stacks * ROW + reasonRows * REASON_ROW + LANE_GAP;
  }
  for (const track of d.tracks) {
    top += 4;
    body.push(drawTrack(track, top, x, x0, x1));
    top += TRACK_H + LANE_GAP + 4;
  }
  // Time axis, in frames.
  const step = tickStep(px);
  const ay = top + 4;
  body.push(`<line x1="${n(x0)}" y1="${n(ay)}" x2="${n(x1)}" y2="${n(ay)}" stroke="${CARD_STROKE}"/>`);
  body.push(`<text x="${PAD}" y="${n(ay + 14)}" font-size="10" fill="${MUTED}">frame</text>`);
  for (let f = 0; f <= d.frames; f += step) {
    body.push(
      `<line x1="${n(x(f))}" y1="${n(ay)}" x2="${n(x(f))}" y2="${n(ay + 4)}" stroke="${LINE}"/>`,
      `<text x="${n(x(f))}" y="${n(ay + 15)}" text-anchor="middle" font-size="10" fill="${MUTED}">${f}</text>`,
    );
  }
  top += AXIS_H;
  for (const note of notes) {
    body.push(`<text x="${PAD}" y="${n(top + 10)}" font-size="11" fill="${MUTED}">${escapeXml(note)}</text>`);
    top += NOTE_ROW;
  }
  const height = Math.ceil(top + PAD - 4);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(`Marble diagram: ${d.title}`)}" font-family="ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace">` +
    `<title>${escapeXml(`Marble diagram: ${d.title}`)}</title>` +
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="8" fill="#ffffff" stroke="${CARD_STROKE}"/>` +
    body.join('') +
    `</svg>\n`
  );
}
