// Dual build of everything under src/, each tree with its own declarations:
//   dist/esm: ES modules + .d.ts (dist/esm/package.json says "type": "module"), for the "import" condition
//   dist/cjs: CommonJS + .d.ts (dist/cjs/package.json says "type": "commonjs"), for "require", main and
//             types (node10). TypeScript reads a .d.ts as CommonJS or ESM from the nearest package.json,
//             so one shared declaration tree would be wrong for one of the two conditions
//             ("Masquerading as ESM", TS1479 under module node16).
// Adding an entry point is one "exports" entry in package.json pointing at dist/{esm,cjs}/<path>; this
// script checks afterwards that every file package.json points at was built.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tscBin = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const tsc = (project) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tscBin, '-p', project], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tsc -p ${project} exited with ${code}`)),
    );
  });

rmSync('dist', { recursive: true, force: true });
// The two compilations are independent: run them side by side.
await Promise.all([tsc('tsconfig.build.esm.json'), tsc('tsconfig.build.cjs.json')]);

// The package is "type": "module"; the CommonJS tree (JS and .d.ts) needs its own marker.
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module', sideEffects: false }) + '\n');

// Every path package.json points into dist must exist now.
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const missing = [];
const visit = (where, target) => {
  if (typeof target === 'string') {
    if (target.startsWith('./dist/') && !existsSync(target)) missing.push(`${where} -> ${target}`);
  } else if (target && typeof target === 'object') {
    for (const [key, value] of Object.entries(target)) visit(`${where}[${JSON.stringify(key)}]`, value);
  }
};
for (const field of ['main', 'module', 'types', 'exports']) visit(field, pkg[field]);
if (missing.length > 0) {
  console.error('package.json points at files the build did not produce (is the source under src/?):');
  for (const m of missing) console.error('  ' + m);
  process.exit(1);
}
