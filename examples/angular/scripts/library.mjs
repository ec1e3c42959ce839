// The example installs rxjs-backpressure from the repository root as a *copy* of what `npm pack`
// would publish (`"rxjs-backpressure": "file:../.."` with `install-links=true` in .npmrc), so it
// depends on the built package (dist/), never on ../../src, and resolves a single rxjs: its own.
//
//   node scripts/library.mjs           check that the installed copy is the root's current build
//   node scripts/library.mjs --refresh reinstall the copy after `npm run build` at the root
//
// The check runs before the tests (`pretest:unit`), so a stale or missing copy fails with the
// command that fixes it, rather than with a confusing error from the app.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const example = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(example, '..', '..');
const installed = join(example, 'node_modules', 'rxjs-backpressure');

function digest(dir) {
  const hash = createHash('sha256');
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .forEach((e) => {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else hash.update(relative(dir, p)).update('\0').update(readFileSync(p)).update('\0');
      });
  walk(dir);
  return hash.digest('hex');
}

function fail(message) {
  console.error(`rxjs-backpressure: ${message}`);
  process.exit(1);
}

if (!existsSync(join(root, 'dist', 'esm', 'index.js'))) {
  fail('the library is not built: run `npm ci && npm run build` at the repository root first');
}

if (process.argv.includes('--refresh')) {
  rmSync(installed, { recursive: true, force: true });
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: example, stdio: 'inherit' });
  if (npm.status !== 0) process.exit(npm.status ?? 1);
}

if (!existsSync(join(installed, 'dist', 'esm', 'index.js'))) {
  fail('not installed here (or installed before the root was built): run `npm run lib:refresh`');
}
if (digest(join(installed, 'dist')) !== digest(join(root, 'dist'))) {
  fail("the installed copy is not the root's current build (dist/): run `npm run lib:refresh`");
}
// One rxjs only: the package must not bring its own copy.
if (existsSync(join(installed, 'node_modules', 'rxjs')))
  fail('a second rxjs was installed inside the package');
const version = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version;
console.log(`rxjs-backpressure ${version}: the installed copy matches the root's dist/`);
