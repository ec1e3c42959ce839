/**
 * Demand-paced flow control (issue 4): memory and throughput of a lossless pipeline from a Node.js
 * Readable through async work into a slow Writable, next to the naive RxJS pipeline that ignores the
 * writable's backpressure.
 *
 * Each run is one entry in PIPELINES; another pipeline to compare is one more entry.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from, lastValueFrom, mergeMap, type Subscription } from 'rxjs';
import { HeapSampler } from './lib/heapSampler.js';
import type { Library } from './lib/library.js';
import { markdownTable, mb, num } from './lib/markdown.js';
import type { BenchContext, BenchSection, BenchSuite } from './lib/suite.js';

const CONCURRENCY = 4;
/** The writable's buffer, in values: `write()` returns false once this many wait. */
const WRITABLE_HIGH_WATER_MARK = 4;
/** Every this many writes, the write callback waits for a 1 ms timer instead of `setImmediate`. */
const SLOW_WRITE_EVERY = 1_000;
const READABLE_HIGH_WATER_MARK = 16;

const line = (i: number) => `line ${i}`;
const written = (i: number) => `line ${i}\n`;

/** The async work: the result a macrotask later. */
const work = (value: string): Promise<string> =>
  new Promise((resolve) => setImmediate(resolve, `${value}\n`));

/** What one run saw. */
interface Observation {
  /** Lines the Readable's source generator had produced. */
  read: number;
  /** Lines the Writable had accepted (its `_write` called), and whether each was the next expected. */
  written: number;
  inOrder: boolean;
  /** What `writeTo` emitted (lossless runs). */
  reported?: number;
  /** Wall milliseconds from subscribing to the end of the run (finish, or the stop of a naive run). */
  ms: number;
  /** Wall milliseconds until the source generator was exhausted. */
  readMs: number;
  peakGrowth: number;
  /** How much of the peak growth was in V8's young generation. */
  youngAtPeak: number;
  /** At each checkpoint of lines read: lines written then, and heap growth (live after gc if asked). */
  checkpoints: { lines: number; written: number; heap: number }[];
  stoppedEarly: boolean;
}

interface RunOptions {
  lines: number;
  checkpoints: readonly number[];
  /** Collect garbage at each checkpoint and record the live heap (perturbs the peak: separate run). */
  liveAtCheckpoints: boolean;
  /** Naive runs: how long to keep writing after the source is exhausted before stopping. */
  graceMs: number;
}

interface Harness {
  readable: Readable;
  writable: Writable;
  observation: Observation;
  sampler: HeapSampler;
  /** Resolves when the source generator is exhausted. */
  exhausted: Promise<void>;
}

/** Builds the generated Readable, the slow Writable and the heap sampler for one run. */
function harness(options: RunOptions): Harness {
  const observation: Observation = {
    read: 0,
    written: 0,
    inOrder: true,
    ms: 0,
    readMs: 0,
    peakGrowth: 0,
    youngAtPeak: 0,
    checkpoints: [],
    stoppedEarly: false,
  };
  let onExhausted = (): void => {};
  const exhausted = new Promise<void>((resolve) => (onExhausted = resolve));
  let nextCheckpoint = 0;

  function* lines(n: number): Generator<string> {
    for (let i = 0; i < n; i++) {
      if (i % 10_000 === 0) sampler.sample();
      yield line(i);
      observation.read = i + 1;
      if (options.checkpoints[nextCheckpoint] === i + 1) {
        nextCheckpoint++;
        const heap = options.liveAtCheckpoints ? sampler.liveGrowth() : sampler.sample();
        observation.checkpoints.push({ lines: i + 1, written: observation.written, heap });
      }
    }
    onExhausted();
  }

  const readable = Readable.from(lines(options.lines), { highWaterMark: READABLE_HIGH_WATER_MARK });
  const writable = new Writable({
    objectMode: true,
    highWaterMark: WRITABLE_HIGH_WATER_MARK,
    write(chunk: string, _encoding, callback) {
      if (chunk !== written(observation.written)) observation.inOrder = false;
      observation.written++;
      if (observation.written % SLOW_WRITE_EVERY === 0) {
        sampler.sample();
        setTimeout(callback, 1);
      } else {
        setImmediate(callback);
      }
    },
  });
  // Created last: the generator and the writable only call it once the run has started.
  const sampler = new HeapSampler();
  return { readable, writable, observation, sampler, exhausted };
}

interface Pipeline {
  label: string;
  /** Ours: counts towards the targets. */
  lossless: boolean;
  /** Node's own streams doing the same lossless job: the reference for the peak. */
  reference?: boolean;
  run: (lib: Library, options: RunOptions) => Promise<Observation>;
}

const PIPELINES: Pipeline[] = [
  {
    label: `writeTo(writable, demand$ => pullMap(readable, work, { concurrency: ${CONCURRENCY}, ordered: true, demand$ }))`,
    lossless: true,
    run: async (lib, options) => {
      const { readable, writable, observation, sampler, exhausted } = harness(options);
      const start = performance.now();
      void exhausted.then(() => (observation.readMs = performance.now() - start));
      try {
        observation.reported = await lastValueFrom(
          lib.writeTo(writable, (demand$) =>
            lib.pullMap(readable, work, { concurrency: CONCURRENCY, ordered: true, demand$ }),
          ),
        );
      } finally {
        sampler.stop();
      }
      observation.ms = performance.now() - start;
      observation.peakGrowth = sampler.peakGrowth;
      observation.youngAtPeak = sampler.youngGrowthAtPeak;
      return observation;
    },
  },
  {
    label: `Node streams: pipeline(readable.map(work, { concurrency: ${CONCURRENCY} }), writable)`,
    lossless: false,
    reference: true,
    run: async (_lib, options) => {
      const { readable, writable, observation, sampler, exhausted } = harness(options);
      const start = performance.now();
      void exhausted.then(() => (observation.readMs = performance.now() - start));
      try {
        await pipeline(readable.map(work, { concurrency: CONCURRENCY }), writable);
      } finally {
        sampler.stop();
      }
      observation.ms = performance.now() - start;
      observation.peakGrowth = sampler.peakGrowth;
      observation.youngAtPeak = sampler.youngGrowthAtPeak;
      return observation;
    },
  },
  {
    label: `from(readable).pipe(mergeMap(work, ${CONCURRENCY})), writable.write(v) ignoring its result`,
    lossless: false,
    run: async (_lib, options) => {
      const { readable, writable, observation, sampler, exhausted } = harness(options);
      const start = performance.now();
      let subscription: Subscription | undefined;
      const finished = new Promise<void>((resolve, reject) => {
        writable.on('finish', resolve);
        writable.on('error', reject);
        subscription = from(readable)
          .pipe(mergeMap(work, CONCURRENCY))
          .subscribe({
            next: (v) => {
              writable.write(v);
            },
            error: reject,
            complete: () => writable.end(),
          });
      });
      const stopped = exhausted.then(async () => {
        observation.readMs = performance.now() - start;
        await new Promise((resolve) => setTimeout(resolve, options.graceMs));
        return 'stopped' as const;
      });
      const outcome = await Promise.race([finished.then(() => 'finished' as const), stopped]);
      sampler.stop();
      observation.ms = performance.now() - start;
      observation.peakGrowth = sampler.peakGrowth;
      observation.youngAtPeak = sampler.youngGrowthAtPeak;
      if (outcome === 'stopped') {
        observation.stoppedEarly = true;
        subscription?.unsubscribe();
        writable.destroy();
        readable.destroy();
      }
      return observation;
    },
  },
];

async function memory({ lib, quick, log }: BenchContext): Promise<BenchSection> {
  const lines = quick ? 100_000 : 1_000_000;
  const checkpoints = [lines / 4, lines / 2, lines];
  const peakRuns = quick ? 1 : 2;
  const graceMs = quick ? 500 : 2000;
  const lossless = PIPELINES.find((p) => p.lossless)!;
  const naive = PIPELINES.find((p) => !p.lossless && !p.reference)!;
  const reference = PIPELINES.find((p) => p.reference)!;

  // Unmeasured warm-up, so that compiling the code is not in the figures. (Not the naive pipeline:
  // the heap it grows makes V8 collect the old generation later in the runs that follow.)
  log(`pull: warm-up, ${num(lines / 10)} lines through the lossless pipeline`);
  await lossless.run(lib, { lines: lines / 10, checkpoints: [], liveAtCheckpoints: false, graceMs });

  const peakObservations: Observation[] = [];
  for (let r = 0; r < peakRuns; r++) {
    log(`pull: ${num(lines)} lines, lossless pipeline, peak heap (${r + 1} of ${peakRuns})`);
    peakObservations.push(await lossless.run(lib, { lines, checkpoints, liveAtCheckpoints: false, graceMs }));
  }
  log(`pull: ${num(lines)} lines, Node streams reference, peak heap`);
  const referenceRun = await reference.run(lib, { lines, checkpoints, liveAtCheckpoints: false, graceMs });
  log(`pull: ${num(lines)} lines, lossless pipeline, live heap at checkpoints`);
  const liveRun = await lossless.run(lib, { lines, checkpoints, liveAtCheckpoints: true, graceMs });
  log(`pull: ${num(lines)} lines, naive pipeline (stopped ${num(graceMs)} ms after the input is read)`);
  const naiveRun = await naive.run(lib, { lines, checkpoints, liveAtCheckpoints: true, graceMs });

  const complete = (o: Observation) =>
    o.written === lines && o.inOrder && (o.reported === undefined || o.reported === lines);
  for (const o of [...peakObservations, liveRun]) {
    if (!complete(o)) {
      throw new Error(
        `pull: the lossless pipeline wrote ${o.written} of ${lines} lines (writeTo reported ${o.reported})` +
          (o.inOrder ? '' : ', out of order'),
      );
    }
  }
  const live = (o: Observation) => o.checkpoints.map((c) => c.heap);
  const inOrder = (o: Observation) => (o.inOrder ? 'yes' : '**no**');
  const naiveReadWritten = naiveRun.checkpoints.at(-1)?.written ?? 0;
  const naiveWriteRate = (naiveRun.written - naiveReadWritten) / ((naiveRun.ms - naiveRun.readMs) / 1000);
  const blanks = checkpoints.map(() => '');
  const rows = [
    ...peakObservations.map((o, r) => [
      r === 0 ? lossless.label : '',
      `peak ${r + 1}`,
      num(o.written),
      inOrder(o),
      num(lines / (o.ms / 1000), 0),
      mb(o.peakGrowth),
      mb(o.youngAtPeak),
      ...blanks,
    ]),
    [
      '',
      'live',
      num(liveRun.written),
      inOrder(liveRun),
      num(lines / (liveRun.ms / 1000), 0),
      mb(liveRun.peakGrowth),
      mb(liveRun.youngAtPeak),
      ...live(liveRun).map(mb),
    ],
    [
      reference.label,
      'peak',
      num(referenceRun.written),
      inOrder(referenceRun),
      num(lines / (referenceRun.ms / 1000), 0),
      mb(referenceRun.peakGrowth),
      mb(referenceRun.youngAtPeak),
      ...blanks,
    ],
    [
      naive.label,
      'live',
      `${num(naiveRun.written)}${naiveRun.stoppedEarly ? ' (stopped)' : ''}`,
      inOrder(naiveRun),
      `${num(lines / (naiveRun.readMs / 1000), 0)} read, ${num(naiveWriteRate, 0)} written`,
      mb(naiveRun.peakGrowth),
      mb(naiveRun.youngAtPeak),
      ...live(naiveRun).map(mb),
    ],
  ];
  const naiveGrowth = live(naiveRun);
  const growing = naiveGrowth.every((g, i) => i === 0 || g > naiveGrowth[i - 1]!);
  const liveLossless = live(liveRun);
  const worstPeak = Math.max(...peakObservations.map((o) => o.peakGrowth));
  const worst = peakObservations.find((o) => o.peakGrowth === worstPeak)!;
  return {
    title: 'A million lines into a slow Writable',
    body: [
      `${num(lines)} generated lines (\`Readable.from\` over a generator, object mode, highWaterMark ` +
        `${READABLE_HIGH_WATER_MARK}) go through async work (\`work\` resolves its result after ` +
        `\`setImmediate\`), at most ${CONCURRENCY} at a time, into a deliberately slow Writable ` +
        `(object mode, highWaterMark ${WRITABLE_HIGH_WATER_MARK}; each write's callback waits for ` +
        `\`setImmediate\`, every ${num(SLOW_WRITE_EVERY)}th for a 1 ms timer). The writable checks ` +
        `that each line is the next one expected; for the lossless pipeline the benchmark fails unless ` +
        `all ${num(lines)} arrive once, in order, and \`writeTo\` reports the same count.`,
      '',
      `Heap: "peak growth" is the largest \`process.memoryUsage().heapUsed\` sampled during the run ` +
        `(every 5 ms, every 10,000 lines read and every ${num(SLOW_WRITE_EVERY)} lines written) minus ` +
        `the heap after a full gc just before the run. It counts garbage not yet collected: "young ` +
        `generation" is how much of it sat in V8's young generation at that moment, where short-lived ` +
        `objects wait for the next scavenge; the rest is in the old generation (objects that survived ` +
        `scavenges, whether still reachable or not, until the next full collection). The "live" runs ` +
        `are separate runs that force a full gc when ${checkpoints.map((c) => num(c)).join(', ')} ` +
        `lines have been read and record what is still reachable; those collections also lower the ` +
        `peak, which is why the peak runs do without them.`,
      '',
      markdownTable(
        [
          'pipeline',
          'run',
          'lines written',
          'in order',
          'lines/s',
          'peak growth',
          'young generation at peak',
          ...checkpoints.map((c) => `live at ${num(c)} read`),
        ],
        rows,
        [
          'left',
          'left',
          'right',
          'left',
          'right',
          'right',
          'right',
          ...checkpoints.map(() => 'right' as const),
        ],
      ),
      '',
      `What the lossless pipeline keeps reachable does not grow with the input ` +
        `(${liveLossless.map(mb).join(', ')} at the checkpoints): a handful of lines in the Readable's ` +
        `buffer, ${CONCURRENCY} in the work and a few in the writable's buffer. Its peak is garbage ` +
        `between collections, ${mb(worst.youngAtPeak)} of the worst peak in the young generation. ` +
        `For scale, Node's own streams doing the same lossless job (\`readable.map\` with concurrency ` +
        `${CONCURRENCY}, then \`stream.pipeline\` into the same writable) peaked at ` +
        `${mb(referenceRun.peakGrowth)} (${mb(referenceRun.youngAtPeak)} young) in this run: with V8's default ` +
        `heap settings, most of such a peak is the young generation's size, not the pipeline's.`,
      '',
      `The naive pipeline reads the input as fast as the Readable yields it: \`from(readable)\` ` +
        `iterates in a loop of promise callbacks, during which no \`setImmediate\` callback of the work ` +
        `or the writable can run, so all ${num(lines)} lines were read (in ` +
        `${num(naiveRun.readMs / 1000, 1)} s) while ${num(naiveReadWritten)} had been written; they wait in ` +
        `\`mergeMap\`'s buffer and the live heap grows with every line. It loses nothing, but holds the ` +
        `whole input in memory and then drains slowly: \`mergeMap\` takes values from its buffer with ` +
        `\`Array.prototype.shift\`, which copies the rest of a buffer this large each time, so it wrote ` +
        `${num(naiveWriteRate, 0)} lines/s. It was stopped ${num(graceMs / 1000, 0)} s after the input ` +
        `was read, with ${num(naiveRun.written)} of ${num(lines)} lines written; its peak comes from a ` +
        `run with forced collections, so without them it would be higher.`,
    ].join('\n'),
    targets: [
      {
        target: `writeTo + pullMap: ${num(lines)} lines into a slow Writable arrive once, in order, with peak heap growth under 20 MB`,
        measured:
          `${peakObservations.map((o) => mb(o.peakGrowth)).join(', ')} peak ` +
          `(live ${liveLossless.map(mb).join(' → ')}); every line once, in order; Node's own ` +
          `readable.map + pipeline on the same job: ${mb(referenceRun.peakGrowth)} peak`,
        met: worstPeak < 20e6 && peakObservations.every(complete),
      },
      {
        target: `naive from(readable) + mergeMap(work, ${CONCURRENCY}): heap grows with the input`,
        measured: `live ${naiveGrowth.map(mb).join(' → ')}`,
        met: growing,
      },
    ],
  };
}

export const suite: BenchSuite = {
  title: 'Demand-paced flow control',
  sections: [memory],
};
