import { meteredScenarios, runMetered, sparkline, droppedByReason } from '../../demo/monitoring';
import { runRateLimit, runScenario } from '../../demo/run';
import { apiLimit, rateLimitScenarios, scenarios, workload } from '../../demo/scenarios';

describe('demo: monitoring section', () => {
  const results = new Map(meteredScenarios.map((s) => [s.label, runMetered(s)]));

  it('each meter agrees with what the first two tables count by hand', () => {
    for (const scenario of scenarios) {
      const metered = results.get(scenario.label);
      if (!metered) continue; // concatMap and exhaustMap take no meter
      const row = runScenario(scenario, workload);
      expect({ label: scenario.label, ...metered.ending }).toEqual({
        label: scenario.label,
        outcome: row.outcome,
        endedAt: row.endedAt,
        ...(row.error === undefined ? {} : { error: expect.any(String) }),
      });
      expect([
        scenario.label,
        metered.final.received,
        metered.final.droppedTotal,
        metered.final.maxWaiting,
      ]).toEqual([scenario.label, row.arrived, row.dropped, row.peakQueue]);
    }
    const labels: Record<string, string> = {
      'tokenBucket shape': 'tokenBucket shape',
      'tokenBucket police': 'tokenBucket police',
      leakyBucket: 'leakyBucket',
    };
    for (const scenario of rateLimitScenarios) {
      const metered = results.get(labels[scenario.label] ?? '');
      if (!metered) continue; // no limiter
      const row = runRateLimit(scenario, workload, apiLimit.limit);
      expect([scenario.label, metered.final.received, metered.final.released, metered.final.dropped]).toEqual(
        [scenario.label, row.arrived, row.passed, expect.objectContaining(row.dropped)],
      );
      expect([scenario.label, metered.final.maxWaiting]).toEqual([scenario.label, row.peakWaiting]);
    }
  });

  it('conserves every value: received = released + dropped, nothing waiting at the end', () => {
    for (const [label, { final }] of results) {
      expect([label, final.received]).toEqual([label, final.released + final.droppedTotal]);
      expect([label, final.waiting, final.subscriptions]).toEqual([label, 0, 0]);
    }
  });

  it('samples waiting every 4 ms until the run ends, the first after 4 ms', () => {
    for (const [label, { waiting, ending }] of results) {
      // A snapshot due at the very instant the run ends may come after the end, and not be taken.
      const due = [Math.floor((ending.endedAt - 1) / 4), Math.floor(ending.endedAt / 4)];
      expect({ label, taken: due.includes(waiting.length) }).toEqual({ label, taken: true });
    }
  });

  it('draws sparklines on one scale, a blank for 0', () => {
    expect(sparkline([0, 1, 2, 4, 8, 16], 8)).toBe(' ▁▂▄██');
    expect(sparkline([], 8)).toBe('');
    expect(droppedByReason({ overflow: 2, rejected: 0, expired: 0, shed: 0, cleared: 3 })).toBe(
      '2 overflow, 3 cleared',
    );
    expect(droppedByReason({ overflow: 0, rejected: 0, expired: 0, shed: 0, cleared: 0 })).toBe('0');
  });
});
