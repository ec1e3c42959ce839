import { simulate } from '../../src/simulation/index';
import { POLICIES, SCENARIOS } from '../../scripts/loadtest/scenarios';
import { accounted } from './helpers';

// Conservation on every policy of `npm run loadtest`, on each of its scenarios, shortened to 30 s of
// traffic (the incident scenario's outage, 20 s to 40 s, still starts in it).
describe('the load-test policies', () => {
  describe.each(SCENARIOS.map((s) => [s.title, s] as const))('%s', (_, load) => {
    it.each(POLICIES.map((p) => [p.name, p] as const))('%s accounts for every value', (_name, { policy }) => {
      const report = simulate({ ...load.scenario, duration: 30_000, drainTimeout: 10_000, policy });
      const { summary } = report;
      expect(summary.offered).toBeGreaterThan(0);
      expect(accounted(summary)).toBe(summary.offered);
      for (const stats of Object.values(summary.classes ?? {})) expect(accounted(stats)).toBe(stats.offered);
    });
  });
});
