import { mergeMap } from 'rxjs';
import {
  bursts,
  compare,
  constant,
  downstream,
  exponential,
  fixed,
  lognormal,
  poisson,
  ramp,
  simulate,
  trace,
  type SimulateOptions,
} from '../../src/simulation/index';

const valid: SimulateOptions = {
  duration: 1_000,
  arrivals: constant({ rate: 10 }),
  downstream: downstream({ workers: 1, serviceTime: 5 }),
  policy: (call) => mergeMap(call),
};

/** Runs simulate with `options` changed, as a user who bypasses the types would. */
const run = (change: Record<string, unknown>) => () => simulate({ ...valid, ...change });

describe('bad input is a clear error at simulate, naming the function and the option', () => {
  it('negative or zero rates', () => {
    expect(() => simulate({ ...valid, arrivals: poisson({ rate: -5 }) })).toThrow(
      new RangeError('poisson: `rate` must be a finite number > 0 (values per second), got -5 (number)'),
    );
    expect(() => constant({ rate: 0 })).toThrow(RangeError);
    expect(() => ramp({ from: -1, to: 10, over: 1000 })).toThrow(
      'ramp: `from` must be a finite number >= 0 (values per second), got -1 (number)',
    );
    expect(() => ramp({ from: 0, to: 0, over: 1000 })).toThrow('ramp: `from` and `to` cannot both be 0');
    // Plain data made by hand is checked by simulate itself.
    expect(run({ arrivals: { kind: 'poisson', rate: -5 } })).toThrow(
      new RangeError(
        'simulate: `arrivals.rate` must be a finite number > 0 (values per second), got -5 (number)',
      ),
    );
  });

  it('p99 below the median', () => {
    expect(() => lognormal({ median: 50, p99: 20 })).toThrow(
      new RangeError(
        'lognormal: `p99` must be greater than `median` (the 99th percentile cannot be below the median), got p99 20 and median 50',
      ),
    );
    expect(
      run({
        downstream: {
          ...downstream({ workers: 1, serviceTime: 5 }),
          serviceTime: { kind: 'lognormal', median: 50, p99: 20 },
        },
      }),
    ).toThrow('simulate: `downstream.serviceTime.p99` must be greater than `downstream.serviceTime.median`');
    expect(() => exponential({ mean: 0 })).toThrow(
      'exponential: `mean` must be a finite number > 0, got 0 (number)',
    );
    expect(() => fixed(-1)).toThrow('fixed: `ms` must be a finite number >= 0, got -1 (number)');
  });

  it('phases out of order', () => {
    const phases = [
      { at: 20_000, workers: 2 },
      { at: 10_000, workers: 8 },
    ];
    expect(() => downstream({ workers: 8, serviceTime: 5, phases })).toThrow(
      new RangeError(
        'downstream: `phases` must be in increasing order of `at`: phase 1 (at 10000) does not come after phase 0 (at 20000)',
      ),
    );
    expect(run({ downstream: { ...downstream({ workers: 8, serviceTime: 5 }), phases } })).toThrow(
      'simulate: `downstream.phases` must be in increasing order of `at`',
    );
    expect(() => downstream({ workers: 8, serviceTime: 5, phases: [{ at: 1 }] })).toThrow(
      'downstream: `phases[0]` changes nothing: give it `workers`, `serviceTime` or both',
    );
    expect(() => downstream({ workers: 8, serviceTime: 5, phases: [{ at: 1, workers: -1 }] })).toThrow(
      'downstream: `phases[0].workers` must be a non-negative integer, got -1 (number)',
    );
  });

  it('a policy that is not a function, or does not return an operator', () => {
    expect(run({ policy: 'mergeMap' })).toThrow(
      new TypeError(
        'simulate: `policy` must be a function (call, tools) => operator, got "mergeMap" (string)',
      ),
    );
    expect(run({ policy: undefined })).toThrow('simulate: `policy` must be a function');
    expect(run({ policy: () => 42 })).toThrow(
      'simulate: `policy` must return an operator, a function (source) => Observable, got 42 (number)',
    );
    expect(run({ policy: () => () => 'x' })).toThrow(
      'simulate: `policy` returned an operator whose result is not an Observable, got "x" (string)',
    );
    expect(
      run({
        policy: () => {
          throw new Error('boom');
        },
      }),
    ).toThrow('simulate: `policy` threw when called with (call, tools): boom');
    expect(() =>
      compare({ ...valid, policy: undefined, policies: { ok: valid.policy, broken: 1 } } as never),
    ).toThrow('compare: unknown option `policy`');
    expect(() =>
      compare({
        duration: 1,
        arrivals: valid.arrivals,
        downstream: valid.downstream,
        policies: { broken: 1 },
      } as never),
    ).toThrow('compare: `policies.broken` must be a function (call, tools) => operator, got 1 (number)');
    expect(() =>
      compare({ duration: 1, arrivals: valid.arrivals, downstream: valid.downstream, policies: {} }),
    ).toThrow('compare: `policies` must name at least one policy');
  });

  it('unknown keys, with the closest known one suggested', () => {
    expect(run({ sampleEvry: 100 })).toThrow(
      new TypeError(
        'simulate: unknown option `sampleEvry` (did you mean `sampleEvery`?); known: `duration`, `seed`, `arrivals`, `downstream`, `sampleEvery`, `drainTimeout`, `policy`',
      ),
    );
    expect(() => downstream({ workers: 1, serviceTime: 5, timout: 10 } as never)).toThrow(
      'downstream: unknown option `timout` (did you mean `timeout`?)',
    );
    expect(() => poisson({ rate: 1, clases: { a: 1 } } as never)).toThrow(
      'poisson: unknown option `clases` (did you mean `classes`?)',
    );
    expect(() => downstream({ workers: 1, serviceTime: 5, phases: [{ at: 1, worker: 2 }] } as never)).toThrow(
      'downstream: unknown key of `phases[0]` `worker` (did you mean `workers`?)',
    );
  });

  it('other options', () => {
    expect(run({ duration: 0 })).toThrow('simulate: `duration` must be a finite number > 0, got 0 (number)');
    expect(run({ duration: undefined })).toThrow('simulate: `duration` is required');
    expect(run({ seed: 1.5 })).toThrow(
      new RangeError('simulate: `seed` must be a safe integer, got 1.5 (number)'),
    );
    expect(run({ seed: '42' })).toThrow(
      new TypeError('simulate: `seed` must be a safe integer, got "42" (string)'),
    );
    expect(run({ sampleEvery: -1 })).toThrow(
      'simulate: `sampleEvery` must be a finite number > 0, got -1 (number)',
    );
    expect(run({ sampleEvery: 0.001, duration: 10_000 })).toThrow(
      'simulate: `sampleEvery` 0.001 ms makes more than 1000000 windows',
    );
    expect(run({ drainTimeout: Infinity })).toThrow(
      'simulate: `drainTimeout` must be a finite number >= 0, got Infinity (number)',
    );
    expect(run({ arrivals: [0, 1] })).toThrow(
      'simulate: `arrivals` must be arrivals made by constant, poisson, bursts, ramp or trace, got an array',
    );
    expect(run({ downstream: { workers: 1, serviceTime: 5 } })).toThrow(
      'simulate: `downstream` must be a downstream made by downstream(',
    );
    expect(() => downstream({ workers: 0, serviceTime: 5 })).toThrow(
      'downstream: `workers` must be a positive integer, got 0 (number)',
    );
    expect(() => downstream({ workers: 1 } as never)).toThrow('downstream: `serviceTime` is required');
    expect(() => downstream({ workers: 1, serviceTime: 'fast' as never })).toThrow(
      'downstream: `serviceTime` must be a service time',
    );
    expect(() => downstream({ workers: 1, serviceTime: 5, queueLimit: -1 })).toThrow(
      'downstream: `queueLimit` must be a non-negative integer or Infinity',
    );
    expect(() => downstream({ workers: 1, serviceTime: 5, timeout: 0 })).toThrow(
      'downstream: `timeout` must be a finite number > 0 or Infinity, got 0 (number)',
    );
    expect(() => bursts({ size: 10, every: 100, spacing: 20 })).toThrow(
      'bursts: a burst must end before the next one starts',
    );
    expect(() => trace([0, 10, 5])).toThrow(
      'trace: `times` must be in time order: entry 2 (5 ms) comes before entry 1 (10 ms)',
    );
    expect(() => trace([0, -1])).toThrow('trace: `times[1]` must be a finite number >= 0, got -1 (number)');
    expect(() => poisson({ rate: 1, classes: { a: 0 } })).toThrow(
      'poisson: `classes.a` must be a finite number > 0, got 0 (number)',
    );
    expect(() => poisson({ rate: 1, classes: {} })).toThrow(
      'poisson: `classes` must name at least one class',
    );
  });

  it('values the simulator did not offer, handed to call or onDrop', () => {
    expect(
      run({
        policy: (call: (v: unknown) => unknown) => mergeMap(() => call({ index: 0, time: 0 }) as never),
      }),
    ).toThrow('simulate: `call` was given [object Object] (object), not a value the simulator offered');
    expect(
      run({
        policy: (_: unknown, { onDrop }: { onDrop: (v: unknown, r: string) => void }) =>
          mergeMap(() => {
            onDrop('x', 'overflow');
            return [];
          }),
      }),
    ).toThrow('simulate: `onDrop` was told of dropping "x" (string), not a value the simulator offered');
  });
});
