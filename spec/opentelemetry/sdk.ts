import type { Attributes, Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';

/**
 * A reader with no timer and no exporter: metrics are read only when a test calls `collect()`, so
 * the values are exactly what the flow meters' snapshots say at that instant.
 */
export class TestMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One collected metric, in a shape that reads well in `toEqual`. */
export interface CollectedMetric {
  /** `counter` (monotonic sum), `updowncounter` (non-monotonic sum) or `gauge`. */
  kind: 'counter' | 'updowncounter' | 'gauge';
  unit: string;
  description: string;
  /** `ValueType`: 0 for INT, 1 for DOUBLE. */
  valueType: number;
  points: { attributes: Attributes; value: number }[];
}

function kindOf(metric: MetricData): CollectedMetric['kind'] {
  if (metric.dataPointType === DataPointType.GAUGE) return 'gauge';
  if (metric.dataPointType === DataPointType.SUM) return metric.isMonotonic ? 'counter' : 'updowncounter';
  throw new Error(`unexpected data point type ${metric.dataPointType} for ${metric.descriptor.name}`);
}

/** An SDK meter provider with one {@link TestMetricReader}, and a meter from it. */
export function setUpSdk(temporality: 'cumulative' | 'delta' = 'cumulative'): {
  provider: MeterProvider;
  reader: TestMetricReader;
  meter: Meter;
  collect: () => Promise<Record<string, CollectedMetric>>;
} {
  const reader = new TestMetricReader(
    temporality === 'delta' ? { aggregationTemporalitySelector: () => AggregationTemporality.DELTA } : {},
  );
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('rxjs-backpressure-spec');
  /** Collects once: every metric by name, its points sorted by their attributes. */
  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'collection reported errors');
    const out: Record<string, CollectedMetric> = {};
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.dataPointType !== DataPointType.GAUGE && metric.dataPointType !== DataPointType.SUM) {
          throw new Error(`unexpected metric ${metric.descriptor.name}`);
        }
        const points = metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));
        points.sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
        out[metric.descriptor.name] = {
          kind: kindOf(metric),
          unit: metric.descriptor.unit,
          description: metric.descriptor.description,
          valueType: metric.descriptor.valueType,
          points,
        };
      }
    }
    return out;
  };
  return { provider, reader, meter, collect };
}
