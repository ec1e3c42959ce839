import {
  DEFAULT_SETTINGS,
  laneValues,
  OPERATORS,
  runPlayground,
  type PlaygroundSettings,
} from './playground';

const run = (change: Partial<PlaygroundSettings>) => runPlayground({ ...DEFAULT_SETTINGS, ...change });

describe('runPlayground', () => {
  it('bufferSliding(1) on abcd: a runs, b and c are replaced, d runs next', () => {
    const result = run({ operator: 'bufferSliding', source: 'abcd', capacity: 1, work: 4 });
    expect(result.error).toBeUndefined();
    expect(result.title).toBe('bufferSliding(1, project)');
    const diagram = result.diagram!;
    expect(laneValues(diagram, 'source')).toEqual(['a@0', 'b@1', 'c@2', 'd@3']);
    expect(laneValues(diagram, 'output')).toEqual(['A@4', 'D@8']);
    expect(diagram.drops.map((d) => `${d.label}@${d.frame} ${d.reason}`)).toEqual([
      'b@2 overflow',
      'c@3 overflow',
    ]);
    expect(result.svg).toMatch(/^<svg /);
    expect(result.svg).toContain('bufferSliding(1, project)');
  });

  it('bufferFixed errors when the queue is full', () => {
    const diagram = run({ operator: 'bufferFixed', source: 'abc', capacity: 1 }).diagram!;
    const output = diagram.lanes.find((l) => l.name === 'output')!;
    expect(output.events.at(-1)).toMatchObject({ kind: 'error', frame: 2, label: 'BufferOverflowError' });
    // c, the arrival that found the queue full, and b, still waiting when the stream errored.
    expect(diagram.drops.map((d) => `${d.label} ${d.reason}`)).toEqual(['c overflow', 'b cleared']);
  });

  it('tokenBucket draws its tokens and, in police mode, rejects', () => {
    const result = run({
      operator: 'tokenBucket',
      source: '(abc)---d|',
      capacity: 2,
      interval: 4,
      mode: 'police',
    });
    const diagram = result.diagram!;
    expect(laneValues(diagram, 'output')).toEqual(['a@0', 'b@0', 'd@8']);
    expect(diagram.drops.map((d) => `${d.label} ${d.reason}`)).toEqual(['c rejected']);
    expect(diagram.tracks.map((t) => t.name)).toEqual(['tokens']);
  });

  it('every operator runs with the defaults', () => {
    for (const operator of OPERATORS) {
      const result = run({ operator });
      expect(result.error).toBeUndefined();
      expect(result.diagram!.lanes.find((l) => l.name === 'output')!.events.length).toBeGreaterThan(0);
    }
  });

  it('reports a bad marble string or option instead of throwing', () => {
    expect(run({ source: 'a^b' }).error).toMatch(/.+/);
    expect(run({ capacity: -1 }).error).toMatch(/bufferSliding/);
    expect(run({ operator: 'tokenBucket', tokensPerInterval: 0 }).error).toMatch(/tokenBucket/);
  });
});
