/**
 * `npm run demo`: one bursty producer and one slow consumer, run through each operator in virtual
 * time, with a table of what each one processed, dropped and kept waiting.
 *
 * The rows come from ./scenarios.ts; the workload is defined there too.
 */
import { runScenario } from './run.js';
import { scenarios, workload } from './scenarios.js';
import { textTable, wrap } from './text.js';

const WIDTH = 100;
const results = scenarios.map((scenario) => ({ scenario, row: runScenario(scenario, workload) }));

const table = textTable(
  ['operator', 'arrived', 'processed', 'dropped', 'peak queue', 'last processed', 'outcome'],
  results.map(({ scenario, row }) => [
    scenario.label,
    String(row.arrived),
    String(row.processed),
    String(row.dropped),
    String(row.peakQueue),
    row.lastProcessed === undefined ? '-' : String(row.lastProcessed),
    row.outcome === 'completed'
      ? `completed at ${row.endedAt} ms`
      : `errored at ${row.endedAt} ms (see below)`,
  ]),
  ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
);

const errors = results
  .filter(({ row }) => row.error !== undefined)
  .map(({ scenario, row }) => `  ${scenario.label}: ${row.error ?? ''}`);

const output = [
  'rxjs-backpressure demo: a bursty producer and a slow consumer, in virtual time',
  '',
  `producer: ${workload.describeProducer}`,
  `          ${workload.producer}`,
  `consumer: ${workload.describeConsumer}`,
  '',
  table,
  '',
  wrap(
    'arrived: values that reached the operator. dropped: reported to onDrop (exhaustMap reports ' +
      'nothing: a value it never started counts as dropped). peak queue: most values waiting at ' +
      'once, i.e. arrived minus started minus dropped, measured the same way for every row.',
    WIDTH,
  ),
  ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
  '',
  wrap(results.map(({ scenario, row }) => scenario.explain(row)).join(' '), WIDTH),
  '',
];
process.stdout.write(output.join('\n'));
