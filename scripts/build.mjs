// Dual build: ESM (dist/esm), CommonJS (dist/cjs) and declarations (dist/types).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const tsc = (project) => execFileSync('npx', ['tsc', '-p', project], { stdio: 'inherit' });
tsc('tsconfig.build.esm.json');
tsc('tsconfig.build.cjs.json');
tsc('tsconfig.build.types.json');
// The package is "type": "module"; the CommonJS tree needs its own marker.
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module', sideEffects: false }) + '\n');
