// The figures docs/adaptive.md gives for Netflix's published Gradient2 settings where ours differ,
// measured on the scenario of spec/adaptive/proof.spec.ts (30 workers, 1 from 60 s to 120 s, 30
// again; 10 ms per call; 2,000 values/s with fixed gaps; bufferDropping(0, call, { concurrency })).
// Each run sets one setting back to Netflix's value (queueSize; or the floor, initial and min) and
// leaves the rest at our defaults. The other difference, the slower entry of queued samples into the
// long-term average, has no parameter, so it is not run and docs/adaptive.md gives no figure for it.
import { runStep, settling, STEP_ARRIVALS, TARGETS } from '../../scripts/loadtest/adaptive';

const fixedGaps = STEP_ARRIVALS[0] as (typeof STEP_ARRIVALS)[number];

describe("Gradient2 with one of Netflix's published settings", () => {
  it('ours, for comparison: the limit settles at 4 within a second of the step down (a median of 40 ms) and grows back within a second of the recovery', () => {
    const { figures, limits } = runStep({}, fixedGaps);
    const incident = settling(limits, 60_000, 120_000);
    expect(incident).toMatchObject({ level: 4, settledAfter: 1000 });
    expect(figures.incidentMedian).toBe(40);
    expect(settling(limits, 120_000, 180_000).settledAfter).toBeLessThanOrEqual(1000);
  });

  it('queueSize 4 (Netflix): the limit settles at 2 x 4 = 8 in the incident, a median of 80 ms', () => {
    const { figures, limits } = runStep({ gradient: { queueSize: 4 } }, fixedGaps);
    expect(settling(limits, 60_000, 120_000).level).toBe(8);
    expect(figures.incidentMedian).toBe(80);
    expect(figures.incidentMedian).toBeLessThanOrEqual(TARGETS.incidentMedian);
  });

  it("Netflix's floor (initial 20, min 20): 20 calls queued at the one worker, a median of 200 ms", () => {
    const { figures, limits } = runStep({ initial: 20, min: 20 }, fixedGaps);
    expect(settling(limits, 60_000, 120_000).level).toBe(20);
    expect(figures.incidentMedian).toBe(200);
    expect(figures.incidentMedian).toBeGreaterThan(TARGETS.incidentMedian);
  });
});
