// metrics-in-virtual-time.spec.ts
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { map, Subject, timer } from 'rxjs';
import { bufferDropping, FlowMeter, ManualTimeScheduler } from 'rxjs-backpressure';
import { registerFlowMetrics } from 'rxjs-backpressure/opentelemetry';

/** A reader without timer or exporter: the metrics are read when the test calls `collect()`. */
class TestReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

it('reports the uploads queue', async () => {
  const scheduler = new ManualTimeScheduler(0);
  const uploads = new FlowMeter({ name: 'uploads', scheduler });
  const reader = new TestReader();
  registerFlowMetrics(new MeterProvider({ readers: [reader] }).getMeter('test'), [uploads]);

  const files = new Subject<string>();
  const upload = (file: string) => timer(1_000, scheduler).pipe(map(() => file));
  files.pipe(bufferDropping(2, upload, { meter: uploads, scheduler })).subscribe();
  ['a', 'b', 'c', 'd'].forEach((file) => files.next(file)); // a starts, b and c wait, d is dropped
  scheduler.advanceBy(1_500); // a is done at 1 s, then b starts: it waited 1 s

  const { resourceMetrics } = await reader.collect();
  const points = (name: string) =>
    resourceMetrics.scopeMetrics[0]?.metrics
      .find((metric) => metric.descriptor.name === name)
      ?.dataPoints.map(({ attributes, value }) => ({ ...attributes, value }));
  expect(points('backpressure.queue.size')).toEqual([{ 'backpressure.flow': 'uploads', value: 1 }]);
  expect(points('backpressure.items.dropped')).toContainEqual({
    'backpressure.flow': 'uploads',
    'backpressure.drop.reason': 'overflow',
    value: 1,
  });
  // Waits of 0 and 1000 ms: the median is 0, p90 and p99 are 1 s.
  expect(points('backpressure.queue.wait_time')).toEqual([
    { 'backpressure.flow': 'uploads', quantile: '0.5', value: 0 },
    { 'backpressure.flow': 'uploads', quantile: '0.9', value: 1 },
    { 'backpressure.flow': 'uploads', quantile: '0.99', value: 1 },
  ]);
});
