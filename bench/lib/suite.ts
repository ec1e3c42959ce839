/** The shape of a benchmark module: `bench/<area>.bench.ts` exports `suite: BenchSuite`. */

export interface BenchContext {
  /** Smaller sizes and fewer runs, to check that the harness works (figures are not meaningful). */
  quick: boolean;
  /** The library under test (see ./library.ts). */
  lib: import('./library.js').Library;
  /** Progress messages (stderr), so that stdout stays the report. */
  log: (message: string) => void;
}

/** One target from an issue, with what this run measured. */
export interface TargetResult {
  /** The target as stated, e.g. "bufferDropping ≤ 1.1× mergeMap per value". */
  target: string;
  /** What was measured, e.g. "1.04×". */
  measured: string;
  met: boolean;
}

/** A titled part of the report: markdown body (tables and sentences) and the targets it checks. */
export interface BenchSection {
  title: string;
  body: string;
  targets: TargetResult[];
}

export interface BenchSuite {
  /** Report heading for the area, e.g. "Bounded buffers". */
  title: string;
  /** Sections in report order; each measures one scenario side by side. */
  sections: readonly ((context: BenchContext) => BenchSection | Promise<BenchSection>)[];
}
