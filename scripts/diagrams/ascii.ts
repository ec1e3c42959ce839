/**
 * Checks the ASCII marble diagrams of the operators' pages (docs/operators/*.md) and JSDoc against
 * runs of the same examples (scripts/diagrams/examples.ts): every lane line (`source:`, `output:`,
 * `demand$:`, ...) must show the values, completion and error the run records, at the same frames,
 * and every `onDrop:` claim must be a drop of the run (value, reason, and frame when given), and
 * every drop of the run claimed. A lane line that no example checks is a problem too, so a new
 * diagram cannot go unchecked.
 */
import { TestScheduler } from 'rxjs/testing';
import type { MarbleDiagram, MarbleEvent } from '../../src/testing/index.js';
import { EXAMPLES, OPERATORS, type DocExample, type OperatorName } from './examples.js';

/** Labels of lines that are lanes: each such line of a block must be checked by an example. */
const LANE_LABELS = new Set([
  'source',
  'output',
  'shape',
  'police',
  'demand$',
  'rate$',
  'interval$',
  'calls',
  'protect',
  'state$',
  'written',
  'drain',
]);
const REASONS = 'overflow|rejected|expired|shed|cleared';

/** A fenced block of text: a ```text block of a page, or a fenced block of a JSDoc comment. */
export interface TextBlock {
  readonly file: string;
  /** 1-based line of each of the block's lines. */
  readonly lineNumbers: readonly number[];
  readonly lines: readonly string[];
}

/** The ```text blocks of a markdown page. */
export function markdownBlocks(file: string, text: string): TextBlock[] {
  return fencedBlocks(file, text.split(/\r?\n/), (fence) => fence === 'text');
}

/** The fenced blocks of the JSDoc comments of a source file, other than code (```ts). */
export function jsdocBlocks(file: string, text: string): TextBlock[] {
  const lines = text.split(/\r?\n/).map((line) => {
    const m = /^\s*\*(?: |$)(.*)$/.exec(line);
    return m ? (m[1] ?? '') : '\u0000';
  });
  return fencedBlocks(file, lines, (fence) => fence === '' || fence === 'text');
}

function fencedBlocks(
  file: string,
  lines: readonly string[],
  wanted: (fence: string) => boolean,
): TextBlock[] {
  const blocks: TextBlock[] = [];
  let open: { take: boolean; lineNumbers: number[]; lines: string[] } | undefined;
  lines.forEach((line, i) => {
    const fence = /^\s{0,3}```\s*(\S*)\s*$/.exec(line);
    if (open === undefined) {
      if (fence) open = { take: wanted((fence[1] ?? '').toLowerCase()), lineNumbers: [], lines: [] };
    } else if (fence || line === '\u0000') {
      if (open.take) blocks.push({ file, lineNumbers: open.lineNumbers, lines: open.lines });
      open = undefined;
    } else {
      open.lineNumbers.push(i + 1);
      open.lines.push(line);
    }
  });
  return blocks;
}

/** A line `label:  marbles  comment` of a block. */
interface LaneLine {
  readonly label: string;
  readonly marbles: string;
  readonly index: number;
}

function laneLines(block: TextBlock): LaneLine[] {
  const out: LaneLine[] = [];
  block.lines.forEach((line, index) => {
    const m = /^\s*([A-Za-z][\w$]*):\s+(\S+)/.exec(line);
    if (m && LANE_LABELS.has(m[1] ?? '')) out.push({ label: m[1] ?? '', marbles: m[2] ?? '', index });
  });
  return out;
}

/** One lane as `frame:kind:label` strings, for comparison and messages. */
function describeEvents(
  events: readonly Pick<MarbleEvent, 'frame' | 'kind'>[],
  labels: readonly string[],
): string {
  return events
    .map((e, i) =>
      e.kind === 'next' ? `${labels[i] ?? ''}@${e.frame}` : `${e.kind === 'complete' ? '|' : '#'}@${e.frame}`,
    )
    .join(' ');
}

function labelOf(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** The events of an ASCII lane, read as TestScheduler.run reads a marble string. */
function parseLane(marbles: string, values: Readonly<Record<string, unknown>> | undefined): string {
  const complete: Record<string, unknown> = {};
  for (const ch of marbles) complete[ch] = ch;
  Object.assign(complete, values);
  const scheduler = new TestScheduler(() => undefined);
  const messages = scheduler.run(() => TestScheduler.parseMarbles(marbles, complete, 'error', false, true));
  const events = messages.map(({ frame, notification }) => ({
    frame,
    kind:
      notification.kind === 'N'
        ? ('next' as const)
        : notification.kind === 'C'
          ? ('complete' as const)
          : ('error' as const),
  }));
  const labels = messages.map(({ notification }) =>
    notification.kind === 'N' ? labelOf(notification.value) : '',
  );
  return describeEvents(events, labels);
}

/**
 * The events of a recorded lane, up to `end`: an ASCII lane without `|` or `#` is drawn only as far
 * as its last character, and shows nothing of what comes later.
 */
function recordedLane(diagram: MarbleDiagram, name: string, end: number): string | undefined {
  const lane = diagram.lanes.find((l) => l.name === name);
  if (lane === undefined) return undefined;
  const events = lane.events.filter((e) => e.frame <= end);
  return describeEvents(
    events,
    events.map((e) => (e.kind === 'next' ? e.label : '')),
  );
}

/** The last frame an ASCII lane shows: Infinity when it ends (`|`, `#`), else its last character's. */
function laneEnd(marbles: string): number {
  if (/[|#]/.test(marbles)) return Infinity;
  return marbles.replace(/\s/g, '').length - 1;
}

interface Claim {
  readonly label: string;
  readonly reason: string;
  readonly frame?: number;
}

/** `c 'overflow'`, `b 'expired' at frame 8`, `c 'expired' at 15` after `onDrop:` on the given lines. */
function claims(lines: readonly string[]): Claim[] {
  const out: Claim[] = [];
  for (const line of lines) {
    const at = line.indexOf('onDrop:');
    if (at === -1) continue;
    const text = line.slice(at + 'onDrop:'.length).split(';')[0] ?? '';
    for (const m of text.matchAll(new RegExp(`(\\S+) '(${REASONS})'(?: at (?:frame )?(\\d+))?`, 'g'))) {
      out.push({
        label: m[1] ?? '',
        reason: m[2] ?? '',
        ...(m[3] === undefined ? {} : { frame: Number(m[3]) }),
      });
    }
  }
  return out;
}

/** The lines of a block that carry the `onDrop:` claims of an example. */
function claimLines(block: TextBlock, example: DocExample): string[] {
  if (example.onDropLine === undefined) return [...block.lines];
  const lines = block.lines;
  const start = lines.findIndex((l) => new RegExp(`^\\s*${escapeRegExp(example.onDropLine ?? '')}:`).test(l));
  if (start === -1) return [];
  const out = [lines[start] ?? ''];
  for (let i = start + 1; i < lines.length && /^\s+onDrop:/.test(lines[i] ?? ''); i++)
    out.push(lines[i] ?? '');
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function where(block: TextBlock, index = 0): string {
  return `${block.file}:${block.lineNumbers[index] ?? 0}`;
}

/** Compares one block with one example's run; returns the problems, and marks the lines checked. */
function checkBlock(
  block: TextBlock,
  example: DocExample,
  diagram: MarbleDiagram,
  checked: Set<number>,
): string[] {
  const problems: string[] = [];
  const lines = laneLines(block);
  for (const [key, laneName] of Object.entries(example.ascii)) {
    const optional = key.endsWith('?');
    const [label, nth = '1'] = key.replace(/\?$/, '').split('#');
    const line = lines.filter((l) => l.label === label)[Number(nth) - 1];
    if (line === undefined) {
      if (optional) continue;
      problems.push(`${where(block)}: the diagram of ${example.name} has no line '${key}:'`);
      continue;
    }
    checked.add(line.index);
    const recorded = recordedLane(diagram, laneName, laneEnd(line.marbles));
    if (recorded === undefined) {
      problems.push(`${where(block, line.index)}: the run of ${example.name} has no lane ${laneName}`);
      continue;
    }
    let documented: string;
    try {
      documented = parseLane(line.marbles, example.values);
    } catch (e) {
      problems.push(`${where(block, line.index)}: '${line.marbles}' is not a marble string: ${String(e)}`);
      continue;
    }
    if (documented !== recorded) {
      problems.push(
        `${where(block, line.index)}: ${label}: ${line.marbles} disagrees with the run of ${example.name}:\n` +
          `    documented: ${documented}\n    run:        ${recorded}`,
      );
    }
  }
  const said = claims(claimLines(block, example));
  const unclaimed = [...diagram.drops];
  for (const claim of said) {
    const i = unclaimed.findIndex(
      (d) =>
        d.label === claim.label &&
        d.reason === claim.reason &&
        (claim.frame === undefined || d.frame === claim.frame),
    );
    if (i === -1) {
      const frame = claim.frame === undefined ? '' : ` at ${claim.frame}`;
      problems.push(
        `${where(block)}: onDrop claims ${claim.label} '${claim.reason}'${frame}, which the run of ${example.name} does not drop`,
      );
    } else unclaimed.splice(i, 1);
  }
  for (const d of unclaimed) {
    problems.push(
      `${where(block)}: the run of ${example.name} drops ${d.label} '${d.reason}' at ${d.frame}, and the diagram does not say so`,
    );
  }
  return problems;
}

/** Where an operator's JSDoc is. */
export function sourceFileOf(operator: OperatorName): string {
  return operator === 'circuitBreaker' ? 'src/breaker/CircuitBreaker.ts' : `src/operators/${operator}.ts`;
}

/**
 * Every problem found, as `file:line: message`. Runs every example once.
 *
 * @param read Reads a file of the repository by its relative path (`docs/operators/pullMap.md`).
 * @param diagrams The runs, by example name, when already recorded (filled in as examples run).
 */
export function checkAsciiDiagrams(
  read: (file: string) => string,
  diagrams = new Map<string, MarbleDiagram>(),
): string[] {
  const problems: string[] = [];
  const run = (example: DocExample): MarbleDiagram => {
    let diagram = diagrams.get(example.name);
    if (diagram === undefined) diagrams.set(example.name, (diagram = example.record()));
    return diagram;
  };
  for (const operator of OPERATORS) {
    const page = `docs/operators/${operator}.md`;
    const source = sourceFileOf(operator);
    const files = [
      { file: page, blocks: markdownBlocks(page, read(page)) },
      { file: source, blocks: jsdocBlocks(source, read(source)) },
    ];
    const examples = EXAMPLES.filter((e) => e.operator === operator);
    for (const { file, blocks } of files) {
      const checked = new Map<TextBlock, Set<number>>(blocks.map((b) => [b, new Set<number>()]));
      for (const example of examples) {
        const found = blocks.filter((b) => b.lines.some((l) => l.includes(example.match)));
        const expected = file === page ? example.page : example.jsdoc;
        if (found.length === 0 && expected) {
          problems.push(
            `${file}: no diagram shows the example ${example.name} (a block with "${example.match}")`,
          );
        }
        for (const block of found) {
          problems.push(...checkBlock(block, example, run(example), checked.get(block) ?? new Set()));
        }
      }
      // circuitBreaker.md has diagrams of its own, run by spec/docs/circuitBreaker.spec.ts.
      if (file === 'docs/operators/circuitBreaker.md') continue;
      for (const block of blocks) {
        const seen = checked.get(block) ?? new Set<number>();
        for (const line of laneLines(block)) {
          if (!seen.has(line.index)) {
            problems.push(
              `${where(block, line.index)}: '${line.label}:' is checked by no example of scripts/diagrams/examples.ts`,
            );
          }
        }
      }
    }
  }
  return problems;
}
