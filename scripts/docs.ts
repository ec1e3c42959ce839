// Draws the documented example of every operator from a run in virtual time, as
// docs/diagrams/<name>.svg (scripts/diagrams/examples.ts lists them), and checks the ASCII diagrams
// of the operators' pages and JSDoc against the same runs (scripts/diagrams/ascii.ts).
//
// Usage: npm run docs               writes the SVGs (and removes SVGs no example draws any more)
//        npm run docs -- --check    writes nothing; fails if an SVG differs or an ASCII diagram disagrees
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { renderMarbleSvg, type MarbleDiagram } from '../src/testing/index.js';
import { checkAsciiDiagrams } from './diagrams/ascii.js';
import { EXAMPLES } from './diagrams/examples.js';

// The repository root, from this file's path in argv (the spec type check compiles scripts as
// CommonJS, where import.meta does not exist).
const root = resolve(dirname(resolve(process.argv[1] ?? 'scripts/docs.ts')), '..');
const outDir = join(root, 'docs', 'diagrams');
const check = process.argv.includes('--check');
const MAX_BYTES = 20_000;

const problems: string[] = [];
const wanted = new Map<string, string>();
const runs = new Map<string, MarbleDiagram>();
for (const example of EXAMPLES) {
  const run = example.record();
  runs.set(example.name, run);
  const svg = renderMarbleSvg(run);
  const file = `${example.name}.svg`;
  if (wanted.has(file)) problems.push(`two examples are named ${example.name}`);
  if (svg.length > MAX_BYTES) problems.push(`${file}: ${svg.length} bytes, more than ${MAX_BYTES}`);
  wanted.set(file, svg);
}

const existing = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.svg')) : [];
if (check) {
  for (const [file, svg] of wanted) {
    const path = join(outDir, file);
    if (!existsSync(path)) problems.push(`docs/diagrams/${file} is missing (run npm run docs)`);
    else if (readFileSync(path, 'utf8') !== svg)
      problems.push(`docs/diagrams/${file} is out of date (run npm run docs)`);
  }
  for (const file of existing) {
    if (!wanted.has(file)) problems.push(`docs/diagrams/${file} is drawn by no example (run npm run docs)`);
  }
} else {
  mkdirSync(outDir, { recursive: true });
  for (const [file, svg] of wanted) {
    const path = join(outDir, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== svg) writeFileSync(path, svg);
  }
  for (const file of existing) if (!wanted.has(file)) rmSync(join(outDir, file));
}

problems.push(...checkAsciiDiagrams((file) => readFileSync(join(root, file), 'utf8'), runs));

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`\ndocs: ${problems.length} problem(s)`);
  process.exitCode = 1;
} else {
  console.log(
    `docs: ${wanted.size} diagrams ${check ? 'are current' : 'written to docs/diagrams'}; the ASCII diagrams agree with the runs`,
  );
}
