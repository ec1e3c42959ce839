/**
 * `npm run bench`: runs every `bench/<area>.bench.ts` module and prints a markdown report.
 *
 *   npm run bench                  print the report
 *   npm run bench -- --write       print it and write docs/benchmarks.md
 *   npm run bench -- buffers       only the areas whose file name contains "buffers" (no --write)
 *   npm run bench -- --quick       small sizes, few runs: checks the harness, figures mean nothing
 *   npm run bench -- --tsx         measure src/ as loaded by tsx instead of compiled by tsc
 *
 * Needs `node --expose-gc --import tsx` (the npm script passes both). Progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { loadLibrary } from './lib/library.js';
import { markdownTable, met } from './lib/markdown.js';
import { requireGc } from './lib/measure.js';
import type { BenchContext, BenchSection, BenchSuite } from './lib/suite.js';

const BENCH_DIR = dirname(resolve(process.argv[1] ?? 'bench/index.ts'));
const REPORT = join(BENCH_DIR, '..', 'docs', 'benchmarks.md');
const COMMAND = 'npm run bench -- --write';

interface Args {
  write: boolean;
  quick: boolean;
  viaTsx: boolean;
  filters: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { write: false, quick: false, viaTsx: false, filters: [] };
  for (const arg of argv) {
    if (arg === '--write') args.write = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--tsx') args.viaTsx = true;
    else if (arg.startsWith('-')) throw new Error(`bench: unknown option ${arg}`);
    else args.filters.push(arg);
  }
  if (args.write && (args.quick || args.viaTsx || args.filters.length > 0)) {
    throw new Error('bench: --write records a full run only (no --quick, --tsx or area filter)');
  }
  return args;
}

function isSuite(value: unknown): value is BenchSuite {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BenchSuite).title === 'string' &&
    Array.isArray((value as BenchSuite).sections)
  );
}

async function loadSuites(filters: readonly string[]): Promise<{ file: string; suite: BenchSuite }[]> {
  const files = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
    .sort();
  if (files.length === 0) throw new Error(`bench: no bench/*.bench.ts matches ${filters.join(', ')}`);
  const suites = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(BENCH_DIR, file)).href)) as { suite?: unknown };
    if (!isSuite(module.suite)) throw new Error(`bench: ${file} does not export a \`suite\``);
    suites.push({ file, suite: module.suite });
  }
  return suites;
}

function machine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim().replace(/\s+/g, ' ') ?? 'unknown CPU';
  const load = loadavg()[0] ?? 0;
  return (
    `${cores.length} cores (${model}), ${platform()} ${release()}, Node ${process.version}, ` +
    `load average ${load.toFixed(1)} when the run started`
  );
}

/**
 * The commit the measured `src/` comes from, and whether it had uncommitted changes (several people
 * work in one tree, so the code measured is not always a commit). Empty outside a git checkout.
 */
function sourceRevision(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: join(BENCH_DIR, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    const changed = git('status', '--porcelain', '--', 'src').length > 0;
    return ` at commit ${commit}${changed ? ' with uncommitted changes in `src/`' : ''}`;
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  requireGc();
  const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
  const { lib, description } = await loadLibrary(args.viaTsx);
  const context: BenchContext = { lib, quick: args.quick, log };
  const suites = await loadSuites(args.filters);

  const machineAtStart = machine();
  const revision = sourceRevision();
  const started = Date.now();
  const parts: string[] = [];
  const targets: { area: string; target: BenchSection['targets'][number] }[] = [];
  for (const { file, suite } of suites) {
    const suiteStarted = Date.now();
    const sections: string[] = [];
    for (const section of suite.sections) {
      const result = await section(context);
      sections.push(`### ${result.title}`, '', result.body, '');
      for (const target of result.targets) targets.push({ area: suite.title, target });
    }
    const suiteSeconds = Math.round((Date.now() - suiteStarted) / 1000);
    log(`${file} done in ${suiteSeconds} s`);
    parts.push(`## ${suite.title}`, '', `From \`bench/${file}\` (${suiteSeconds} s).`, '', ...sections);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`done in ${seconds} s`);

  const draft = [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/index.ts: change the benchmarks and rerun, do not edit by hand. -->',
    '',
    `Reproduce with \`${COMMAND}\`, which prints this report and rewrites \`docs/benchmarks.md\` ` +
      '(`npm run bench` alone only prints it; `npm run bench -- --quick` checks the harness in seconds).',
    '',
    `Run on ${new Date().toISOString().slice(0, 10)} in ${seconds} s: ${machineAtStart}; library code: ${description}${revision}.` +
      (args.quick ? ' **Quick run: sizes and run counts are reduced, figures are not meaningful.**' : ''),
    '',
    'The machine is shared with other work and noisy. Every figure is a median of repeated runs ' +
      '(min–max in brackets where shown), with the compared cases interleaved in one process so that ' +
      'a busy spell hits them alike (each section says when garbage is collected). Compare the ratios ' +
      'within one report rather than absolute times across runs or machines. These are measurements, ' +
      'not tests: nothing fails when a target is missed.',
    '',
    '## Targets',
    '',
    markdownTable(
      ['area', 'target', 'measured', 'met'],
      targets.map(({ area, target }) => [area, target.target, target.measured, met(target.met)]),
    ),
    '',
    ...parts,
  ].join('\n');
  // Formatted as the repository's prettier config wants, so that the format check passes on it.
  const report = await format(draft, { ...(await resolveConfig(REPORT)), parser: 'markdown' });

  process.stdout.write(report);
  if (args.write) {
    writeFileSync(REPORT, report);
    log(`wrote ${REPORT}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
