#!/usr/bin/env bash
# Packs the package and loads it from a separate consumer project, the way users will:
# require() (CommonJS), import (ESM), the ./testing entry point, and TypeScript type checking
# under nodenext and bundler resolution. Needs a prior `npm run build`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
# The tarball must carry the build and nothing from the source tree.
tar -tzf "$work/$tarball" > "$work/files.txt"
for f in dist/cjs/index.js dist/esm/index.js dist/types/index.d.ts dist/cjs/testing/index.js dist/esm/testing/index.js; do
  grep -qx "package/$f" "$work/files.txt" || { echo "tarball lacks $f" >&2; exit 1; }
done
if grep -qE '^package/(src|spec|bench|demo|node_modules)/' "$work/files.txt"; then
  echo "tarball contains source or test files" >&2
  exit 1
fi

mkdir -p "$work/consumer"
cd "$work/consumer"
cat > package.json <<'JSON'
{ "name": "consumer", "version": "1.0.0", "private": true }
JSON
rxjs_version=$(node -p "require('$root/node_modules/rxjs/package.json').version")
npm install --silent --no-audit --no-fund --prefer-offline "$work/$tarball" "rxjs@$rxjs_version" >/dev/null

cat > check.cjs <<'JS'
const assert = require('node:assert');
const { of } = require('rxjs');
const bp = require('rxjs-backpressure');
const testing = require('rxjs-backpressure/testing');
assert.strictEqual(typeof bp.bufferFixed, 'function');
assert.strictEqual(typeof testing, 'object');
const out = [];
of(1, 2, 3).pipe(bp.bufferFixed(Infinity, (x) => of(x * 10))).subscribe((v) => out.push(v));
assert.deepStrictEqual(out, [10, 20, 30]);
console.log('require: ok (' + Object.keys(bp).length + ' exports)');
JS
node check.cjs

cat > check.mjs <<'JS'
import assert from 'node:assert';
import { of } from 'rxjs';
import * as bp from 'rxjs-backpressure';
import * as testing from 'rxjs-backpressure/testing';
assert.strictEqual(typeof bp.bufferSliding, 'function');
assert.strictEqual(typeof testing, 'object');
const out = [];
of(1, 2, 3).pipe(bp.bufferSliding(1, (x) => of(x))).subscribe((v) => out.push(v));
assert.deepStrictEqual(out, [1, 2, 3]);
console.log('import: ok (' + Object.keys(bp).length + ' exports)');
JS
node check.mjs

# The main entry must not pull in the testing entry.
if grep -Eq "(from|require\()[[:space:]]*['\"]\./testing" node_modules/rxjs-backpressure/dist/esm/index.js node_modules/rxjs-backpressure/dist/cjs/index.js; then
  echo "main entry refers to the testing entry" >&2
  exit 1
fi

cat > use.ts <<'TS'
import { of, type OperatorFunction } from 'rxjs';
import { bufferBounded, type OverflowStrategy, type DropReason } from 'rxjs-backpressure';
import * as testing from 'rxjs-backpressure/testing';
const strategy: OverflowStrategy = 'drop-oldest';
const op: OperatorFunction<number, string> = bufferBounded(1, (x: number) => of(String(x)), {
  overflow: strategy,
  onDrop: (_v: number, _r: DropReason) => undefined,
});
void op;
void testing;
TS
for resolution in nodenext bundler; do
  module=$([ "$resolution" = nodenext ] && echo nodenext || echo esnext)
  node "$root/node_modules/typescript/bin/tsc" --noEmit --strict --skipLibCheck false \
    --module "$module" --moduleResolution "$resolution" --types node --typeRoots "$root/node_modules/@types" use.ts
  echo "types ($resolution): ok"
done
