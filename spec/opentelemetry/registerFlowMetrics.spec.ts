import { metrics } from '@opentelemetry/api';
import { map, Subject, timer, type Subscription } from 'rxjs';
import {
  bufferDropping,
  bufferFixed,
  FlowMeter,
  ManualTimeScheduler,
  tokenBucket,
  type DropReason,
} from 'rxjs-backpressure';
import { registerFlowMetrics } from 'rxjs-backpressure/opentelemetry';
import { setUpSdk, type CollectedMetric } from './sdk';

const INT = 0;
const DOUBLE = 1;
const REASONS: DropReason[] = ['cleared', 'expired', 'overflow', 'rejected', 'shed'];

const flow = (name: string) => ({ 'backpressure.flow': name });
/** The points of `backpressure.items.dropped` for one flow: every reason, 0 included. */
const droppedPoints = (name: string, counts: Partial<Record<DropReason, number>>) =>
  REASONS.map((reason) => ({
    attributes: { ...flow(name), 'backpressure.drop.reason': reason },
    value: counts[reason] ?? 0,
  }));
/** The points of a time gauge for one flow, from p50, p90 and p99 in ms. */
const quantilePoints = (name: string, [p50, p90, p99]: [number, number, number]) => [
  { attributes: { ...flow(name), quantile: '0.5' }, value: p50 / 1000 },
  { attributes: { ...flow(name), quantile: '0.9' }, value: p90 / 1000 },
  { attributes: { ...flow(name), quantile: '0.99' }, value: p99 / 1000 },
];
const perFlow = (values: Record<string, number>) =>
  Object.entries(values)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ attributes: flow(name), value }));

const metric = (
  kind: CollectedMetric['kind'],
  unit: string,
  valueType: number,
  points: CollectedMetric['points'],
): CollectedMetric => ({ kind, unit, valueType, description: expect.stringMatching(/\w/), points });

/**
 * Two flows in virtual time, read at 25 ms:
 * - `uploads`: bufferDropping(2), one upload at a time, 10 ms each. Five files at 0 ms: 1 starts,
 *   2 and 3 wait, 4 and 5 are dropped. 1 ends at 10 (2 starts after waiting 10 ms), 2 at 20 (3
 *   starts after 20 ms); at 25, 3 is running. Waits 0, 10, 20; durations 10, 10.
 * - `api`: tokenBucket of 2 tokens, one more every 10 ms, one call may wait. Calls 1 and 2 at 0 ms
 *   take the two tokens, 3 waits, 4 (at 1 ms) finds the queue full and is dropped; 3 leaves at 10
 *   after waiting 10 ms. At 25 the bucket has earned 1.5 tokens since. Waits 0, 0, 10.
 */
function twoFlows() {
  const scheduler = new ManualTimeScheduler(0);
  const uploads = new FlowMeter({ name: 'uploads', scheduler });
  const api = new FlowMeter({ name: 'api', scheduler });
  const files = new Subject<number>();
  const calls = new Subject<number>();
  const subscriptions: Subscription[] = [
    files
      .pipe(bufferDropping(2, (n) => timer(10, scheduler).pipe(map(() => n)), { meter: uploads, scheduler }))
      .subscribe(),
    calls
      .pipe(
        tokenBucket({
          capacity: 2,
          tokensPerInterval: 1,
          interval: 10,
          queueCapacity: 1,
          scheduler,
          meter: api,
        }),
      )
      .subscribe(),
  ];
  [1, 2, 3, 4, 5].forEach((n) => files.next(n));
  [1, 2, 3].forEach((n) => calls.next(n));
  scheduler.advanceBy(1);
  calls.next(4);
  scheduler.advanceTo(25);
  return { scheduler, uploads, api, files, calls, subscriptions };
}

describe('registerFlowMetrics', () => {
  it('reports every instrument of the table, with its kind, unit and attributes, exactly after a virtual-time run', async () => {
    const { uploads, api } = twoFlows();
    const sdk = setUpSdk();
    registerFlowMetrics(sdk.meter, [uploads, api]);

    expect(await sdk.collect()).toEqual({
      'backpressure.items.received': metric('counter', '{item}', INT, perFlow({ uploads: 5, api: 4 })),
      'backpressure.items.released': metric('counter', '{item}', INT, perFlow({ uploads: 3, api: 3 })),
      'backpressure.items.dropped': metric('counter', '{item}', INT, [
        ...droppedPoints('api', { overflow: 1 }),
        ...droppedPoints('uploads', { overflow: 2 }),
      ]),
      'backpressure.queue.size': metric('updowncounter', '{item}', INT, perFlow({ uploads: 0, api: 0 })),
      'backpressure.queue.capacity': metric('updowncounter', '{item}', INT, perFlow({ uploads: 2, api: 1 })),
      'backpressure.inflight': metric('updowncounter', '{item}', INT, perFlow({ uploads: 1, api: 0 })),
      'backpressure.concurrency.limit': metric('gauge', '{item}', INT, perFlow({ uploads: 1, api: 0 })),
      'backpressure.tokens.available': metric('gauge', '{token}', DOUBLE, perFlow({ uploads: 0, api: 1.5 })),
      'backpressure.queue.wait_time': metric('gauge', 's', DOUBLE, [
        ...quantilePoints('api', [0, 10, 10]),
        ...quantilePoints('uploads', [10, 20, 20]),
      ]),
      // api has no inner work: no duration was ever sampled, so it has no points.
      'backpressure.operation.duration': metric(
        'gauge',
        's',
        DOUBLE,
        quantilePoints('uploads', [10, 10, 10]),
      ),
    });
  });

  it('reads each snapshot once per collection, never per value, and reports the figures of that instant', async () => {
    const { scheduler, uploads, api, files } = twoFlows();
    const sdk = setUpSdk();
    const uploadsSnapshots = jest.spyOn(uploads, 'snapshot');
    const apiSnapshots = jest.spyOn(api, 'snapshot');
    registerFlowMetrics(sdk.meter, [uploads, api]);
    files.next(6);
    files.next(7);
    expect(uploadsSnapshots).not.toHaveBeenCalled();

    // 25 ms: 3 runs, 6 and 7 wait.
    let collected = await sdk.collect();
    expect(uploadsSnapshots).toHaveBeenCalledTimes(1);
    expect(apiSnapshots).toHaveBeenCalledTimes(1);
    expect(collected['backpressure.queue.size']?.points).toEqual(perFlow({ uploads: 2, api: 0 }));
    expect(collected['backpressure.items.received']?.points).toEqual(perFlow({ uploads: 7, api: 4 }));

    // 30: 3 ends, 6 starts (waited 5 ms); 40: 6 ends, 7 starts (waited 15); 50: 7 ends.
    scheduler.advanceTo(60);
    collected = await sdk.collect();
    expect(uploadsSnapshots).toHaveBeenCalledTimes(2);
    expect(collected['backpressure.items.released']?.points).toEqual(perFlow({ uploads: 5, api: 3 }));
    expect(collected['backpressure.queue.size']?.points).toEqual(perFlow({ uploads: 0, api: 0 }));
    expect(collected['backpressure.inflight']?.points).toEqual(perFlow({ uploads: 0, api: 0 }));
    // Waits 0, 5, 10, 15, 20: nearest rank p50 is the 3rd, p90 and p99 the 5th.
    expect(
      collected['backpressure.queue.wait_time']?.points.filter(
        (p) => p.attributes['backpressure.flow'] === 'uploads',
      ),
    ).toEqual(quantilePoints('uploads', [10, 20, 20]));
    // The bucket is full again: 2 tokens, its capacity.
    expect(collected['backpressure.tokens.available']?.points).toEqual(perFlow({ uploads: 0, api: 2 }));
  });

  it('reports several flow meters, each under its own name, and a shared meter as the sum of its operators', async () => {
    const scheduler = new ManualTimeScheduler(0);
    const names = ['a', 'b', 'c', 'logins'];
    const [a, b, c, logins] = names.map((name) => new FlowMeter({ name, scheduler })) as [
      FlowMeter,
      FlowMeter,
      FlowMeter,
      FlowMeter,
    ];
    const source = new Subject<number>();
    const slow = (n: number) => timer(100, scheduler).pipe(map(() => n));
    // a: one buffer; b: two buffers sharing one meter; c: nothing subscribed.
    source.pipe(bufferDropping(1, slow, { meter: a, concurrency: 2, scheduler })).subscribe();
    source.pipe(bufferFixed(10, slow, { meter: b, scheduler })).subscribe();
    source.pipe(bufferDropping(0, slow, { meter: b, concurrency: 3, scheduler })).subscribe();
    // logins: police mode, 1 token: the second attempt is rejected.
    source
      .pipe(
        tokenBucket({
          capacity: 1,
          tokensPerInterval: 1,
          interval: 1000,
          mode: 'police',
          scheduler,
          meter: logins,
        }),
      )
      .subscribe();
    [1, 2, 3, 4].forEach((n) => source.next(n));

    const sdk = setUpSdk();
    registerFlowMetrics(sdk.meter, [a, b, c, logins]);
    const collected = await sdk.collect();
    expect(collected['backpressure.items.received']?.points).toEqual(
      perFlow({ a: 4, b: 8, c: 0, logins: 4 }),
    );
    expect(collected['backpressure.items.released']?.points).toEqual(
      perFlow({ a: 2, b: 4, c: 0, logins: 1 }),
    );
    expect(collected['backpressure.items.dropped']?.points).toEqual([
      ...droppedPoints('a', { overflow: 1 }),
      ...droppedPoints('b', { overflow: 1 }),
      ...droppedPoints('c', {}),
      ...droppedPoints('logins', { rejected: 3 }),
    ]);
    expect(collected['backpressure.queue.size']?.points).toEqual(perFlow({ a: 1, b: 3, c: 0, logins: 0 }));
    expect(collected['backpressure.queue.capacity']?.points).toEqual(
      perFlow({ a: 1, b: 10, c: 0, logins: 0 }),
    );
    expect(collected['backpressure.inflight']?.points).toEqual(perFlow({ a: 2, b: 4, c: 0, logins: 0 }));
    expect(collected['backpressure.concurrency.limit']?.points).toEqual(
      perFlow({ a: 2, b: 4, c: 0, logins: 0 }),
    );
    expect(collected['backpressure.tokens.available']?.points).toEqual(
      perFlow({ a: 0, b: 0, c: 0, logins: 0 }),
    );
  });

  it('gives no point for an unbounded capacity or concurrency, nor for times before the first sample', async () => {
    const queue = new FlowMeter({ name: 'queue', scheduler: new ManualTimeScheduler(0) });
    const subscription = new Subject<number>()
      .pipe(bufferFixed(Infinity, (n) => [n], { concurrency: Infinity, meter: queue }))
      .subscribe();
    const sdk = setUpSdk();
    registerFlowMetrics(sdk.meter, [queue]);
    const collected = await sdk.collect();
    expect(Object.keys(collected).sort()).toEqual([
      'backpressure.inflight',
      'backpressure.items.dropped',
      'backpressure.items.received',
      'backpressure.items.released',
      'backpressure.queue.size',
      'backpressure.tokens.available',
    ]);
    expect(collected['backpressure.items.dropped']?.points).toEqual(droppedPoints('queue', {}));
    subscription.unsubscribe();
  });

  it('stops reading the flow meters on unregister; other registrations go on', async () => {
    const { scheduler, uploads, api, files } = twoFlows();
    const cumulative = setUpSdk('cumulative');
    const delta = setUpSdk('delta');
    const snapshots = jest.spyOn(uploads, 'snapshot');
    const uploadsOnCumulative = registerFlowMetrics(cumulative.meter, [uploads]);
    const uploadsOnDelta = registerFlowMetrics(delta.meter, [uploads]);
    registerFlowMetrics(delta.meter, [api]);
    await cumulative.collect();
    expect((await delta.collect())['backpressure.items.received']?.points).toEqual(
      perFlow({ uploads: 5, api: 4 }),
    );
    expect(snapshots).toHaveBeenCalledTimes(2);

    uploadsOnCumulative.unregister();
    uploadsOnDelta.unregister();
    uploadsOnDelta.unregister(); // a second call does nothing
    files.next(6);
    scheduler.advanceBy(100);

    // The callback is gone: uploads is not read again.
    const afterCumulative = await cumulative.collect();
    const afterDelta = await delta.collect();
    expect(snapshots).toHaveBeenCalledTimes(2);
    // A delta reader has nothing more for uploads; api, registered apart, still reports.
    expect(afterDelta['backpressure.items.received']?.points).toEqual(perFlow({ api: 0 }));
    expect(afterDelta['backpressure.queue.size']?.points).toEqual(perFlow({ api: 0 }));
    // The SDK's cumulative storage keeps exporting a series' last values after its callback is
    // removed (opentelemetry-js issue #4096): they no longer change.
    expect(afterCumulative['backpressure.items.received']?.points).toEqual(perFlow({ uploads: 5 }));
  });

  it('lets two registrations share one OpenTelemetry meter', async () => {
    const { uploads, api } = twoFlows();
    const sdk = setUpSdk();
    registerFlowMetrics(sdk.meter, [uploads]);
    registerFlowMetrics(sdk.meter, [api]);
    const collected = await sdk.collect();
    expect(collected['backpressure.items.received']?.points).toEqual(perFlow({ uploads: 5, api: 4 }));
    expect(collected['backpressure.tokens.available']?.points).toEqual(perFlow({ uploads: 0, api: 1.5 }));
  });

  it('reads the array it was given once: later changes to it do not matter', async () => {
    const { uploads, api } = twoFlows();
    const sdk = setUpSdk();
    const flows = [uploads];
    registerFlowMetrics(sdk.meter, flows);
    flows.push(api);
    expect((await sdk.collect())['backpressure.items.received']?.points).toEqual(perFlow({ uploads: 5 }));
  });

  it('works with the API’s no-op meter (no SDK installed)', () => {
    const registration = registerFlowMetrics(metrics.getMeter('noop'), [new FlowMeter({ name: 'x' })]);
    expect(() => registration.unregister()).not.toThrow();
  });

  it('accepts no flow meters at all', async () => {
    const sdk = setUpSdk();
    registerFlowMetrics(sdk.meter, []).unregister();
    expect(await sdk.collect()).toEqual({});
  });

  describe('refuses bad arguments with a TypeError that names it', () => {
    const fm = () => new FlowMeter({ name: 'uploads' });
    const meter = () => setUpSdk().meter;
    const call = (otelMeter: unknown, flowMeters: unknown) => () =>
      registerFlowMetrics(otelMeter as never, flowMeters as never);

    it.each([
      ['undefined', undefined, 'got undefined'],
      ['null', null, 'got null'],
      ['a string', 'my-service', 'got "my-service" (string)'],
      [
        'an object without the Meter methods',
        { createObservableCounter: () => undefined },
        'got [object Object]',
      ],
    ])('otelMeter: %s', (_, value, got) => {
      expect(call(value, [fm()])).toThrow(TypeError);
      expect(call(value, [fm()])).toThrow(
        `registerFlowMetrics: \`otelMeter\` must be an OpenTelemetry Meter (from \`metrics.getMeter(name)\` or \`meterProvider.getMeter(name)\`), ${got}`,
      );
    });

    it('otelMeter: a MeterProvider, with a hint', () => {
      expect(call(setUpSdk().provider, [fm()])).toThrow(
        /a MeterProvider\? pass `provider\.getMeter\(name\)`/,
      );
    });

    it('otelMeter: the arguments swapped, with a hint', () => {
      expect(call(fm(), meter())).toThrow(/a FlowMeter: the OpenTelemetry Meter comes first/);
    });

    it('flowMeters: not an array', () => {
      expect(call(meter(), undefined)).toThrow(
        new TypeError('registerFlowMetrics: `flowMeters` must be an array of FlowMeter, got undefined'),
      );
      expect(call(meter(), fm())).toThrow(
        /got \[object Object\] \(object\) \(a single FlowMeter: pass `\[meter\]`\)/,
      );
    });

    it('flowMeters: an item that is not a FlowMeter', () => {
      expect(call(meter(), [fm(), { name: 'api', snapshot: () => ({}) }])).toThrow(
        new TypeError(
          'registerFlowMetrics: `flowMeters[1]` must be a FlowMeter, got [object Object] (object)',
        ),
      );
      expect(call(meter(), [null])).toThrow(
        new TypeError('registerFlowMetrics: `flowMeters[0]` must be a FlowMeter, got null'),
      );
    });

    it('flowMeters: two with one name, or one twice', () => {
      const uploads = fm();
      expect(call(meter(), [uploads, new FlowMeter({ name: 'api' }), fm()])).toThrow(
        new TypeError(
          'registerFlowMetrics: `flowMeters[0]` and `flowMeters[2]` are both named "uploads"; the name is the ' +
            '`backpressure.flow` attribute, so each flow meter must appear once and have a name of its own',
        ),
      );
      expect(call(meter(), [uploads, uploads])).toThrow(
        /`flowMeters\[0\]` and `flowMeters\[1\]` are the same FlowMeter/,
      );
    });

    it('checks before registering anything', async () => {
      const sdk = setUpSdk();
      expect(call(sdk.meter, [fm(), 'x'])).toThrow(TypeError);
      expect(await sdk.collect()).toEqual({});
    });
  });
});
