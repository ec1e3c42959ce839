/**
 * `npm run demo`: one bursty producer run through each operator in virtual time.
 *
 * 1. Flow control: the producer meets a slow consumer; a table of what each operator processed,
 *    dropped and kept waiting, and the same values pulled on demand instead.
 * 2. Rate limits: the producer calls a rate-limited API; a table of what each limiter passed,
 *    dropped and delayed.
 * 3. Degradation: a steady overload of checkouts and analytics pings; a table of what each buffer
 *    kept, shed and let expire, per class, and how long the processed requests waited.
 * 4. Circuit breaker: a downstream that fails for 10 s, with no breaker and with each `whenOpen`
 *    mode of `CircuitBreaker.protect` (./breaker.ts has the rows, the workload and the runner).
 * 5. Monitoring: the first tables' operators with a FlowMeter each; what each meter saw, and a
 *    sparkline of the values waiting over time (./monitoring.ts has the rows and the runner).
 *
 * The rows come from ./scenarios.ts; the workloads and the API limit are defined there too.
 */
import { outageSection } from './breaker.js';
import { monitoringSection } from './monitoring.js';
import { runDegradation, runRateLimit, runScenario } from './run.js';
import {
  apiLimit,
  degradationScenarios,
  degradationWorkload,
  rateLimitScenarios,
  scenarios,
  workload,
  type RequestClass,
} from './scenarios.js';
import { describeTimes, gaps, textTable, wrap } from './text.js';

const WIDTH = 100;

// 1. Flow control: a bursty producer and a slow consumer.

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

const pushed = results.find(({ scenario }) => scenario.kind === 'push');
const pulled = results.find(({ scenario }) => scenario.kind === 'pull');
if (!pushed || !pulled) throw new Error('demo: the first table needs a push row and a pull row');
const pushedGaps = gaps(pushed.row.arrivedAt);
const pulledGaps = gaps(pulled.row.arrivedAt);
const pulledPace =
  pulledGaps.min === pulledGaps.max
    ? `one every ${pulledGaps.min} ms`
    : `${pulledGaps.min} to ${pulledGaps.max} ms apart`;

const pace = textTable(
  ['producer', 'values handed over at (virtual time)'],
  [
    ['pushed (the other rows)', describeTimes(pushed.row.arrivedAt)],
    ['pulled (the pullMap row)', describeTimes(pulled.row.arrivedAt)],
  ],
  ['left', 'left'],
);

// 2. Rate limits: the same producer calling a rate-limited API.

const limits = rateLimitScenarios.map((scenario) => ({
  scenario,
  row: runRateLimit(scenario, workload, apiLimit.limit),
}));

const droppedText = (dropped: Partial<Record<string, number>>): string => {
  const parts = Object.entries(dropped).map(([reason, n]) => `${n ?? 0} ${reason}`);
  return parts.length > 0 ? parts.join(', ') : '0';
};

const limitTable = textTable(
  ['limiter', 'passed', 'dropped', 'delayed', 'worst delay', 'over limit', 'last passed', 'outcome'],
  limits.map(({ scenario, row }) => [
    scenario.label,
    String(row.passed),
    droppedText(row.dropped),
    String(row.delayed),
    `${row.worstDelay} ms`,
    String(row.overLimit),
    row.lastPassed === undefined ? '-' : String(row.lastPassed),
    row.outcome === 'completed'
      ? `completed at ${row.endedAt} ms`
      : `errored at ${row.endedAt} ms: ${row.error ?? ''}`,
  ]),
  ['left', 'right', 'left', 'right', 'right', 'right', 'right', 'left'],
);

const limitCode = textTable(
  ['limiter', 'code'],
  limits.map(({ scenario }) => [scenario.label, scenario.code]),
  ['left', 'left'],
);

// 3. Degradation: more requests than the consumer can handle, some more important than others.

const degradation = degradationScenarios.map((scenario) => ({
  scenario,
  result: runDegradation(scenario, degradationWorkload),
}));

const classes: RequestClass[] = ['checkout', 'analytics'];
const degradationTable = textTable(
  ['operator', 'class', 'arrived', 'processed', 'shed', 'expired', 'overflow', 'worst wait', 'outcome'],
  degradation.flatMap(({ scenario, result }) =>
    classes.map((name, i) => {
      const c = result.byClass[name];
      return [
        i === 0 ? scenario.label : '',
        name,
        String(c.arrived),
        String(c.processed),
        String(c.dropped.shed ?? 0),
        String(c.dropped.expired ?? 0),
        String(c.dropped.overflow ?? 0),
        c.processed > 0 ? `${c.worstWait} ms` : '-',
        i > 0
          ? ''
          : result.outcome === 'completed'
            ? `completed at ${result.endedAt} ms`
            : `errored at ${result.endedAt} ms: ${result.error ?? ''}`,
      ];
    }),
  ),
  ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
);

const degradationCode = textTable(
  ['operator', 'code'],
  degradation.map(({ scenario }) => [scenario.label, scenario.code]),
  ['left', 'left'],
);

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
    'arrived: values that reached the operator (for pullMap: values pulled from the producer). ' +
      'dropped: reported to onDrop (exhaustMap reports nothing: a value it never started counts as ' +
      'dropped). peak queue: most values waiting at once, i.e. arrived minus started minus dropped, ' +
      'measured the same way for every row.',
    WIDTH,
  ),
  ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
  '',
  wrap(results.map(({ scenario, row }) => scenario.explain(row)).join(' '), WIDTH),
  '',
  pace,
  '',
  wrap(
    `Pushed, the producer keeps its own schedule whatever the consumer does (gaps of ` +
      `${pushedGaps.min} to ${pushedGaps.max} ms). Pulled on demand, the same values come ` +
      `${pulledPace}, the consumer's pace: the generator is not bursty any more, and that is the ` +
      `point, the producer follows the consumer. This only works for producers that can wait ` +
      `(iterables, async iterables, Node.js streams, database cursors). Events such as clicks, ` +
      `messages or sensor readings happen when they happen; for them the buffers above decide ` +
      `what is kept.`,
    WIDTH,
  ),
  '',
  '',
  'Rate limits: the same producer calling a rate-limited API, each value let through is one call',
  '',
  `API limit: ${apiLimit.describe}`,
  `           ${apiLimit.code}`,
  '',
  limitTable,
  '',
  limitCode,
  '',
  wrap(
    'passed: calls made. dropped: reported to onDrop, by reason. delayed: values passed later ' +
      'than they arrived; worst delay: the longest such wait. over limit: calls the API would ' +
      'refuse, checked by the demo with its own model of the limit.',
    WIDTH,
  ),
  '',
  wrap(limits.map(({ scenario, row }) => scenario.explain(row)).join(' '), WIDTH),
  '',
  '',
  'Degradation: more requests than the consumer can handle, some of them more important',
  '',
  `producer: ${degradationWorkload.describeProducer}`,
  `          ${degradationWorkload.describeClasses}`,
  `consumer: ${degradationWorkload.describeConsumer}`,
  '',
  degradationTable,
  '',
  degradationCode,
  '',
  wrap(
    'processed: requests the consumer finished. shed, expired, overflow: reported to onDrop with ' +
      'that reason. worst wait: the longest a processed request waited for its work to start.',
    WIDTH,
  ),
  '',
  wrap(degradation.map(({ scenario, result }) => scenario.explain(result)).join(' '), WIDTH),
  '',
  '',
  ...outageSection(WIDTH),
  '',
  '',
  ...monitoringSection(WIDTH),
  '',
  wrap(
    'In short: the buffers decide which values a slow consumer gets, the rate limiters decide ' +
      'when values may go (shape delays, police and a full leaky bucket drop, each drop reported ' +
      'with its reason), a ttl keeps a value from being served after it has stopped mattering, ' +
      'bufferPriority gives what capacity there is to the important work first, and pulling on ' +
      'demand avoids the question for producers that can wait. ' +
      'Every figure above comes from running the operators in virtual time: the run takes no real ' +
      'waiting and gives the same table every time.',
    WIDTH,
  ),
  '',
];
process.stdout.write(output.join('\n'));
