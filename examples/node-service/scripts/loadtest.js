// npm run loadtest:service: the service against a naive version of it, on loopback.
//
//   1. unloaded: 20 events/s for 10 s (every client under its limit): p50/p99 of the answers;
//   2. 3x the downstream's capacity (300 events/s against 100/s) for 30 s, against the service,
//      then against the naive version (--naive: mergeMap instead of the library's operators), each
//      with a fresh downstream;
//   3. prints the table side by side and writes it into README.md between the loadtest markers.
//
// Options: --duration S (default 30), --rate N (default 300), --no-write (print only).
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  EXAMPLE_DIR,
  lostSilently,
  memoryOver,
  runLoad,
  sleep,
  startDownstream,
  startService,
  stopAll,
  stopProcess,
  summarize,
} from './harness.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    rate: { type: 'string', default: '300' },
    'no-write': { type: 'boolean', default: false },
  },
});
const DURATION = Number(args.duration);
const RATE = Number(args.rate);
const CAPACITY = 100; // the downstream: 10 at once, 100 ms each
const MB = 1024 * 1024;

/** Waits until the service has answered everything it received (its samples say so), at most `ms`. */
async function settle(service, ms = 15_000) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const last = service.proc.samples.at(-1);
    if (last && last.inflight === 0 && last.at > start) return true;
    await sleep(100);
  }
  return false;
}

async function measure({ naive }) {
  const downstream = await startDownstream();
  const service = await startService({ downstream: downstream.url, naive });
  const label = naive ? 'naive (mergeMap)' : 'rxjs-backpressure';
  try {
    let unloaded;
    if (!naive) {
      console.error(`${label}: unloaded, 20/s for 10 s`);
      unloaded = summarize(
        await runLoad({ url: service.url, rate: 20, slots: 4, duration: 10, runId: 'unloaded' }),
      );
      await settle(service);
    }
    await sleep(1_000);
    console.error(`${label}: ${RATE}/s for ${DURATION} s`);
    const loadStart = Date.now();
    const raw = await runLoad({
      url: service.url,
      rate: RATE,
      duration: DURATION,
      runId: naive ? 'naive' : 'ours',
    });
    const loadEnd = Date.now();
    const memory = memoryOver(service.proc.samples, loadStart - 500, loadEnd);
    const settled = await settle(service);
    const exit = await stopProcess(service.proc, { timeout: 20_000 });
    const shutdown = service.proc.records.find((r) => r.event === 'shutdown');
    const lost = lostSilently(raw, service.proc.records);
    const reported = service.proc.records.filter((r) => r.event === 'unanswered').length;
    return { label, unloaded, loaded: summarize(raw), raw, memory, lost, reported, settled, exit, shutdown };
  } finally {
    await stopProcess(service.proc);
    await stopProcess(downstream.proc);
  }
}

const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const mb = (bytes) => fmt(bytes / MB, 1);

function table(ours, naive) {
  const statuses = [
    ...new Set([...Object.keys(ours.loaded.byStatus), ...Object.keys(naive.loaded.byStatus)]),
  ].sort();
  const row = (name, a, b) => [name, a, b];
  const lines = [
    row('', 'rxjs-backpressure', 'naive (mergeMap)'),
    row('events sent per second', fmt(ours.loaded.sentPerSecond), fmt(naive.loaded.sentPerSecond)),
    ...statuses.map((s) =>
      row(
        `answered ${s} per second`,
        fmt(ours.loaded.perSecondByStatus[s] ?? 0, 1),
        fmt(naive.loaded.perSecondByStatus[s] ?? 0, 1),
      ),
    ),
    row(
      'no answer within the 1 s client timeout (per second)',
      fmt(ours.loaded.unanswered / ours.raw.elapsed, 1),
      fmt(naive.loaded.unanswered / naive.raw.elapsed, 1),
    ),
    row(
      '2xx latency p50 / p99 (ms)',
      `${fmt(ours.loaded.p50)} / ${fmt(ours.loaded.p99)}`,
      `${fmt(naive.loaded.p50)} / ${fmt(naive.loaded.p99)}`,
    ),
    row(
      'RSS start / peak / end (MB)',
      `${mb(ours.memory.rss.start)} / ${mb(ours.memory.rss.peak)} / ${mb(ours.memory.rss.end)}`,
      `${mb(naive.memory.rss.start)} / ${mb(naive.memory.rss.peak)} / ${mb(naive.memory.rss.end)}`,
    ),
    row(
      'heap used start / peak / end (MB)',
      `${mb(ours.memory.heap.start)} / ${mb(ours.memory.heap.peak)} / ${mb(ours.memory.heap.end)}`,
      `${mb(naive.memory.heap.start)} / ${mb(naive.memory.heap.peak)} / ${mb(naive.memory.heap.end)}`,
    ),
    row('unanswered, fate reported in the service log', String(ours.reported), String(naive.reported)),
    row(
      '**events lost silently** (no answer, no report)',
      `**${ours.lost.length}**`,
      `**${naive.lost.length}**`,
    ),
  ];
  return markdownTable(lines);
}

/** A Markdown table padded as Prettier pads it, so that the README stays formatted. */
function markdownTable([header, ...body]) {
  const widths = header.map((_, c) => Math.max(3, ...[header, ...body].map((r) => r[c].length)));
  const line = (cells) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

try {
  const ours = await measure({ naive: false });
  const naive = await measure({ naive: true });
  const growth = ours.memory.rss.end - ours.memory.rss.start;
  const targets = [
    [
      `p99 of accepted ${fmt(ours.loaded.p99)} ms within 3x the unloaded p99 (${fmt(ours.unloaded.p99)} ms)`,
      ours.loaded.p99 <= 3 * ours.unloaded.p99,
    ],
    [
      `RSS growth over the ${DURATION} s: ${mb(growth)} MB (peak ${mb(ours.memory.rss.peak - ours.memory.rss.start)} MB above the start) < 50 MB`,
      growth < 50 * MB,
    ],
    [`events lost silently: ${ours.lost.length}`, ours.lost.length === 0],
  ];
  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores shared with other work, Node ${process.version}:`,
    `the downstream serves ${CAPACITY} events/s; ${RATE}/s (${fmt(RATE / CAPACITY, 1)}x) for ${DURATION} s, 20 clients limited to 10/s each (bursts of 20).`,
    `Unloaded (20/s for 10 s, ${ours.unloaded.acceptedCount} answers): p50 ${fmt(ours.unloaded.p50)} ms, p99 ${fmt(ours.unloaded.p99)} ms.`,
    '',
    table(ours, naive),
    '',
    ...targets.map(([text, ok]) => `- ${ok ? 'met' : '**missed**'}: ${text}`),
    `- shutdown after the load: ours ${ours.shutdown?.how ?? 'n/a'}, naive ${naive.shutdown?.how ?? 'n/a'}` +
      ` (naive: ${naive.shutdown?.byOutcome?.cancelled ?? 0} calls still queued at its 5 s deadline, cancelled and reported).`,
  ].join('\n');
  console.log(report);
  if (!args['no-write']) {
    const readme = join(EXAMPLE_DIR, 'README.md');
    const text = readFileSync(readme, 'utf8');
    const begin = '<!-- loadtest:begin -->';
    const end = '<!-- loadtest:end -->';
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md has no ${begin} ... ${end} markers`);
    writeFileSync(readme, text.slice(0, from + begin.length) + '\n\n' + report + '\n\n' + text.slice(to));
    console.error('README.md updated');
  }
  process.exitCode = targets.every(([, ok]) => ok) ? 0 : 1;
} finally {
  await stopAll();
}
