// Types only: this module calls nothing but the Meter it is given, so it loads without
// @opentelemetry/api installed and works with whichever copy of the API the application uses.
import type {
  Attributes,
  BatchObservableResult,
  Meter,
  MetricOptions,
  Observable as ObservableInstrument,
  ValueType,
} from '@opentelemetry/api';
import { isFlowMeter, type FlowMeter, type FlowSnapshot } from '../monitoring/FlowMeter.js';
import { describe } from '../internal/validate.js';

const NAME = 'registerFlowMetrics';

/** The handle {@link registerFlowMetrics} returns. */
export interface FlowMetricsRegistration {
  /**
   * Stops reading the flow meters: their callback is removed from the OpenTelemetry meter, so no
   * later collection calls `snapshot()`. Calling it again does nothing.
   */
  unregister(): void;
}

/** The attribute naming the flow (the {@link FlowMeter}'s `name`) on every instrument. */
export const FLOW_ATTRIBUTE = 'backpressure.flow';
/** The attribute naming the drop reason on `backpressure.items.dropped`. */
export const DROP_REASON_ATTRIBUTE = 'backpressure.drop.reason';
/** The attribute naming the percentile on the time gauges: `'0.5'`, `'0.9'` or `'0.99'`. */
export const QUANTILE_ATTRIBUTE = 'quantile';

// `ValueType` is an enum of @opentelemetry/api (INT = 0, DOUBLE = 1, stable since API 1.3); spelled
// as literals so that nothing of the API is loaded at run time.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the enum's own value
const INT = 0 as ValueType.INT;
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the enum's own value
const DOUBLE = 1 as ValueType.DOUBLE;

const ITEMS = '{item}';

const QUANTILES = [
  ['p50', '0.5'],
  ['p90', '0.9'],
  ['p99', '0.99'],
] as const;

/** The checks an OpenTelemetry `Meter` must pass: the five methods this entry calls. */
const METER_METHODS = [
  'createObservableCounter',
  'createObservableUpDownCounter',
  'createObservableGauge',
  'addBatchObservableCallback',
  'removeBatchObservableCallback',
] as const;

function checkOtelMeter(value: unknown): asserts value is Meter {
  const missing =
    typeof value === 'object' && value !== null
      ? METER_METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function')
      : METER_METHODS;
  if (missing.length === 0) return;
  const hint =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getMeter?: unknown }).getMeter === 'function'
      ? ' (a MeterProvider? pass `provider.getMeter(name)`)'
      : isFlowMeter(value)
        ? ' (a FlowMeter: the OpenTelemetry Meter comes first, the flow meters second)'
        : '';
  throw new TypeError(
    `${NAME}: \`otelMeter\` must be an OpenTelemetry Meter (from \`metrics.getMeter(name)\` or ` +
      `\`meterProvider.getMeter(name)\`), got ${describe(value)}${hint}`,
  );
}

function checkFlowMeters(value: unknown): asserts value is readonly FlowMeter[] {
  if (!Array.isArray(value)) {
    const hint = isFlowMeter(value) ? ' (a single FlowMeter: pass `[meter]`)' : '';
    throw new TypeError(
      `${NAME}: \`flowMeters\` must be an array of FlowMeter, got ${describe(value)}${hint}`,
    );
  }
  const byName = new Map<string, number>();
  value.forEach((item: unknown, i) => {
    if (!isFlowMeter(item)) {
      throw new TypeError(`${NAME}: \`flowMeters[${i}]\` must be a FlowMeter, got ${describe(item)}`);
    }
    const first = byName.get(item.name);
    if (first !== undefined) {
      const what = value[first] === item ? 'the same FlowMeter' : `both named ${JSON.stringify(item.name)}`;
      throw new TypeError(
        `${NAME}: \`flowMeters[${first}]\` and \`flowMeters[${i}]\` are ${what}; the name is the ` +
          `\`${FLOW_ATTRIBUTE}\` attribute, so each flow meter must appear once and have a name of its own`,
      );
    }
    byName.set(item.name, i);
  });
}

/**
 * Reports what {@link FlowMeter}s see as OpenTelemetry metrics: counts, queue sizes, limits, tokens
 * and wait and run times per flow, read from `snapshot()` when the metrics are collected.
 *
 * Nothing is recorded per value: the instruments are observable (asynchronous), and one batch
 * callback reads each flow meter's snapshot once per collection. Every data point carries the
 * attribute `backpressure.flow` (the flow meter's name).
 *
 * | instrument | name | unit | more attributes |
 * |---|---|---|---|
 * | ObservableCounter | `backpressure.items.received` | `{item}` | |
 * | ObservableCounter | `backpressure.items.released` | `{item}` | |
 * | ObservableCounter | `backpressure.items.dropped` | `{item}` | `backpressure.drop.reason` |
 * | ObservableUpDownCounter | `backpressure.queue.size` | `{item}` | |
 * | ObservableUpDownCounter | `backpressure.queue.capacity` | `{item}` | |
 * | ObservableUpDownCounter | `backpressure.inflight` | `{item}` | |
 * | ObservableGauge | `backpressure.concurrency.limit` | `{item}` | |
 * | ObservableGauge | `backpressure.tokens.available` | `{token}` | |
 * | ObservableGauge | `backpressure.queue.wait_time` | `s` | `quantile` |
 * | ObservableGauge | `backpressure.operation.duration` | `s` | `quantile` |
 *
 * - `dropped` has a data point for every drop reason, 0 included.
 * - A value that is not finite (the capacity of an unbounded queue) has no data point.
 * - The time gauges are the snapshot's `p50`, `p90` and `p99` in seconds (`quantile` `'0.5'`,
 *   `'0.9'`, `'0.99'`), and have no data point while nothing has been sampled.
 * - The flow meters are read from a copy of the array taken now.
 *
 * ## Example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { bufferFixed, FlowMeter } from 'rxjs-backpressure';
 * import { registerFlowMetrics } from 'rxjs-backpressure/opentelemetry';
 *
 * const uploads = new FlowMeter({ name: 'uploads' });
 * files$.pipe(bufferFixed(100, (file) => upload(file), { concurrency: 4, meter: uploads })).subscribe();
 *
 * const registration = registerFlowMetrics(metrics.getMeter('my-service'), [uploads]);
 * // on shutdown:
 * registration.unregister();
 * ```
 *
 * @param otelMeter An OpenTelemetry `Meter` (`@opentelemetry/api` 1.9 or later 1.x), e.g.
 *   `metrics.getMeter('my-service')`.
 * @param flowMeters The flow meters to report, each with a name of its own.
 * @return A registration whose `unregister()` stops reading the flow meters.
 * @throws TypeError when `otelMeter` is not a Meter, `flowMeters` is not an array of FlowMeter, or
 *   two of them share a name (or are the same meter).
 */
export function registerFlowMetrics(
  otelMeter: Meter,
  flowMeters: readonly FlowMeter[],
): FlowMetricsRegistration {
  checkOtelMeter(otelMeter);
  checkFlowMeters(flowMeters);
  const flows = flowMeters.map((meter) => ({ meter, attributes: { [FLOW_ATTRIBUTE]: meter.name } }));

  const counter = (name: string, description: string, unit = ITEMS): ObservableInstrument =>
    otelMeter.createObservableCounter(name, { description, unit, valueType: INT });
  const upDown = (name: string, description: string): ObservableInstrument =>
    otelMeter.createObservableUpDownCounter(name, { description, unit: ITEMS, valueType: INT });
  const gauge = (name: string, description: string, options: MetricOptions): ObservableInstrument =>
    otelMeter.createObservableGauge(name, { description, ...options });

  const received = counter('backpressure.items.received', "Values that reached the flow's operators.");
  const released = counter(
    'backpressure.items.released',
    'Values handed on: to the work (project), emitted by a bucket or pullFeedback, or pulled and passed on.',
  );
  const dropped = counter('backpressure.items.dropped', 'Values dropped (reported to onDrop), by reason.');
  const queueSize = upDown('backpressure.queue.size', 'Values waiting now.');
  const queueCapacity = upDown('backpressure.queue.capacity', 'Values allowed to wait.');
  const inflight = upDown('backpressure.inflight', 'Work (inner subscriptions) in progress now.');
  const concurrency = gauge('backpressure.concurrency.limit', 'Work allowed to run at once.', {
    unit: ITEMS,
    valueType: INT,
  });
  const tokens = gauge('backpressure.tokens.available', "Tokens available now in the flow's buckets.", {
    unit: '{token}',
    valueType: DOUBLE,
  });
  const waitTime = gauge(
    'backpressure.queue.wait_time',
    'Time from arrival to release, percentiles since the flow meter was created.',
    { unit: 's', valueType: DOUBLE },
  );
  const duration = gauge(
    'backpressure.operation.duration',
    'Time from release to the end of the work (completed or failed), percentiles since the flow meter was created.',
    { unit: 's', valueType: DOUBLE },
  );
  const instruments = [
    received,
    released,
    dropped,
    queueSize,
    queueCapacity,
    inflight,
    concurrency,
    tokens,
    waitTime,
    duration,
  ];

  const observeTimes = (
    result: BatchObservableResult,
    instrument: ObservableInstrument,
    distribution: FlowSnapshot['wait'],
    attributes: Attributes,
  ) => {
    if (distribution.count === 0) return;
    for (const [key, quantile] of QUANTILES) {
      result.observe(instrument, distribution[key] / 1000, { ...attributes, [QUANTILE_ATTRIBUTE]: quantile });
    }
  };
  const observeFinite = (
    result: BatchObservableResult,
    instrument: ObservableInstrument,
    value: number,
    attributes: Attributes,
  ) => {
    if (Number.isFinite(value)) result.observe(instrument, value, attributes);
  };

  const callback = (result: BatchObservableResult): void => {
    for (const { meter, attributes } of flows) {
      const s = meter.snapshot();
      result.observe(received, s.received, attributes);
      result.observe(released, s.released, attributes);
      for (const [reason, count] of Object.entries(s.dropped)) {
        result.observe(dropped, count, { ...attributes, [DROP_REASON_ATTRIBUTE]: reason });
      }
      observeFinite(result, queueSize, s.waiting, attributes);
      observeFinite(result, queueCapacity, s.capacity, attributes);
      observeFinite(result, inflight, s.running, attributes);
      observeFinite(result, concurrency, s.concurrency, attributes);
      observeFinite(result, tokens, s.tokens, attributes);
      observeTimes(result, waitTime, s.wait, attributes);
      observeTimes(result, duration, s.duration, attributes);
    }
  };
  otelMeter.addBatchObservableCallback(callback, instruments);

  let registered = true;
  return {
    unregister: () => {
      if (!registered) return;
      registered = false;
      otelMeter.removeBatchObservableCallback(callback, instruments);
    },
  };
}
