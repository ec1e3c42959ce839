import { config, Observable, type Subscription } from 'rxjs';
import { BufferOverflowError } from '../../src/errors';
import { GatedQueue, type Gate, type GatedQueueSettings } from '../../src/internal/GatedQueue';

/** A gate of tokens, as a token bucket would be: a value may pass when enough tokens are there. */
class TokenGate implements Gate<string> {
  tokens = 0;
  busyFlag = false;
  onRelease: (value: string) => void = () => undefined;
  constructor(private readonly log: string[]) {}
  cost(value: string): number {
    if (value === 'bad') throw new Error('no cost for bad');
    return value.length;
  }
  canRelease(cost: number): boolean {
    return this.tokens >= cost;
  }
  admit(cost: number): void {
    this.tokens -= cost;
  }
  release(value: string, index: number): undefined {
    this.log.push(`release ${value} #${String(index)}`);
    this.onRelease(value);
    return undefined;
  }
  busy(): boolean {
    return this.busyFlag;
  }
  blocked(cost: number): void {
    this.log.push(`blocked ${String(cost)}`);
  }
  idle(): void {
    this.log.push('idle');
  }
}

interface Harness {
  queue: GatedQueue<string>;
  gate: TokenGate;
  log: string[];
  subscription: Subscription;
}

function setup(settings: Partial<GatedQueueSettings<string>> = {}): Harness {
  const log: string[] = [];
  const gate = new TokenGate(log);
  let queue: GatedQueue<string> | undefined;
  const subscription = new Observable<unknown>((destination) => {
    queue = new GatedQueue<string>(
      destination,
      {
        operator: 'testOp',
        capacity: 2,
        overflow: 'drop-incoming',
        onDrop: (value, reason) => log.push(`drop ${value} ${reason}`),
        ...settings,
      },
      gate,
    );
  }).subscribe({
    error: (err: unknown) => log.push(`error ${(err as Error).message}`),
    complete: () => log.push('complete'),
  });
  return { queue: queue!, gate, log, subscription };
}

describe('GatedQueue', () => {
  it('releases values in arrival order, each with its index, as the gate opens', () => {
    const { queue, gate, log } = setup();
    queue.push('a');
    queue.push('b');
    expect(queue.length).toBe(2);
    gate.tokens = 2;
    queue.drain();
    expect(log).toEqual(['blocked 1', 'blocked 1', 'release a #0', 'release b #1', 'idle']);
    expect(queue.length).toBe(0);
  });

  it('releases at once when nothing waits and the gate is open', () => {
    const { queue, gate, log } = setup();
    gate.tokens = 1;
    queue.push('a');
    expect(log).toEqual(['release a #0', 'idle']);
  });

  it("asks the gate for each value's cost, and tells it the cost at the head when blocked", () => {
    const { queue, gate, log } = setup();
    gate.tokens = 2;
    queue.push('abc');
    queue.push('d');
    expect(log).toEqual(['blocked 3', 'blocked 3']);
    gate.tokens = 3;
    queue.drain();
    expect(log.slice(2)).toEqual(['release abc #0', 'blocked 1']);
  });

  it("reports a value whose cost throws as 'rejected', then the waiting ones 'cleared', then errors", () => {
    const { queue, log } = setup();
    queue.push('a');
    queue.push('bad');
    expect(log).toEqual(['blocked 1', 'drop bad rejected', 'drop a cleared', 'error no cost for bad']);
    expect(queue.isClosed).toBe(true);
  });

  it('applies the overflow strategy with the configured drop reason', () => {
    const { queue, log } = setup({ capacity: 1, overflow: 'drop-oldest', dropReason: 'shed' });
    queue.push('a');
    queue.push('b');
    expect(log).toEqual(['blocked 1', 'drop a shed', 'blocked 1']);
  });

  it("under 'error', sends the configured overflow error, or a BufferOverflowError naming the operator", () => {
    const custom = setup({
      capacity: 0,
      overflow: 'error',
      overflowError: (value, cost) => new Error(`too much: ${value} costs ${String(cost)}`),
    });
    custom.queue.push('a');
    expect(custom.log).toEqual(['drop a overflow', 'error too much: a costs 1']);

    const plain = setup({ capacity: 1, overflow: 'error' });
    plain.queue.push('a');
    plain.queue.push('b');
    expect(plain.log).toEqual([
      'blocked 1',
      'drop b overflow',
      'drop a cleared',
      `error ${new BufferOverflowError(1, 'b', 'testOp').message}`,
    ]);
    expect(plain.log[3]).toBe(
      'error testOp: buffer overflow: a value arrived while the queue was full (`capacity` 1)',
    );
  });

  it('completes once the source has completed, nothing waits and the gate is not busy', () => {
    const { queue, gate, log } = setup();
    queue.push('a');
    queue.complete();
    expect(log).toEqual(['blocked 1', 'blocked 1']);
    gate.tokens = 1;
    gate.busyFlag = true;
    queue.drain();
    expect(log.slice(2)).toEqual(['release a #0', 'idle']);
    gate.busyFlag = false;
    queue.drain();
    expect(log.slice(4)).toEqual(['idle', 'complete']);
    expect(queue.isClosed).toBe(true);
  });

  it('with delayError, holds a source error until the queue is worked off and the gate is not busy', () => {
    const { queue, gate, log } = setup({ delayError: true });
    queue.push('a');
    queue.error(new Error('source failed'));
    expect(log).toEqual(['blocked 1', 'blocked 1']);
    gate.tokens = 1;
    queue.drain();
    expect(log.slice(2)).toEqual(['release a #0', 'idle', 'error source failed']);
  });

  it("without delayError, reports waiting values 'cleared' and sends a source error at once", () => {
    const { queue, log } = setup();
    queue.push('a');
    queue.push('b');
    queue.error(new Error('source failed'));
    expect(log).toEqual([
      'blocked 1',
      'blocked 1',
      'drop a cleared',
      'drop b cleared',
      'error source failed',
    ]);
  });

  it('a drain() from inside a release lets the running loop continue instead of starting another', () => {
    const { queue, gate, log } = setup({ capacity: Infinity });
    let depth = 0;
    let deepest = 0;
    gate.onRelease = () => {
      depth++;
      deepest = Math.max(deepest, depth);
      queue.drain();
      depth--;
    };
    for (const v of ['a', 'b', 'c', 'd']) queue.push(v);
    gate.tokens = 4;
    queue.drain();
    expect(deepest).toBe(1);
    expect(log.filter((line) => line.startsWith('release'))).toEqual([
      'release a #0',
      'release b #1',
      'release c #2',
      'release d #3',
    ]);
  });

  it('with capacity 0, releases a value pushed from inside a release when the gate is open', () => {
    const { queue, gate, log } = setup({ capacity: 0 });
    gate.tokens = 2;
    gate.onRelease = (value) => {
      if (value === 'a') queue.push('b');
    };
    queue.push('a');
    expect(log).toEqual(['release a #0', 'release b #1', 'idle']);
  });

  it("errors when canRelease or release throws, reporting waiting values 'cleared' first", () => {
    const { queue, gate, log } = setup();
    queue.push('a');
    queue.push('b');
    gate.tokens = 2;
    gate.onRelease = () => {
      throw new Error('release failed');
    };
    queue.drain();
    expect(log).toEqual(['blocked 1', 'blocked 1', 'release a #0', 'drop b cleared', 'error release failed']);
  });

  it("reports waiting values 'cleared' on unsubscribe, then ignores everything", () => {
    const { queue, gate, log, subscription } = setup();
    queue.push('a');
    queue.push('b');
    subscription.unsubscribe();
    expect(queue.isClosed).toBe(true);
    expect(log).toEqual(['blocked 1', 'blocked 1', 'drop a cleared', 'drop b cleared']);
    gate.tokens = 10;
    queue.push('c');
    queue.drain();
    queue.complete();
    queue.error(new Error('late'));
    expect(log).toHaveLength(4);
  });

  it('fails only once', () => {
    const { queue, log } = setup();
    queue.push('a');
    queue.fail(new Error('first'));
    queue.fail(new Error('second'));
    expect(log).toEqual(['blocked 1', 'drop a cleared', 'error first']);
  });

  it('sends a throw from onDrop while clearing to config.onUnhandledError, and still sends the error', () => {
    const unhandled: unknown[] = [];
    const previous = config.onUnhandledError;
    config.onUnhandledError = (err) => unhandled.push(err);
    const boom = new Error('onDrop failed');
    try {
      const { queue, log } = setup({
        onDrop: () => {
          throw boom;
        },
      });
      queue.push('a');
      queue.push('b');
      queue.error(new Error('source failed'));
      expect(log).toEqual(['blocked 1', 'blocked 1', 'error source failed']);
    } finally {
      config.onUnhandledError = previous;
    }
    expect(unhandled).toEqual([boom, boom]);
  });
});
