#!/usr/bin/env bash
# Packs the package and checks it the way users get it. Needs a prior `npm run build`.
#  1. The tarball: every file package.json points at, LICENSE, README, docs and src are in it;
#     spec/bench/demo files are not.
#  2. It stands on its own: every relative link in README.md and docs/**/*.md resolves to a file in
#     the tarball, and every source map's `sources` resolve inside the installed package.
#  3. A separate consumer project loads it: require() and import of every entry point in "exports"
#     (read from the packed package.json, so entry points added later are covered), and TypeScript
#     type checks of every entry point under node16 from CommonJS (the .ts compiles to require) and
#     from ESM, nodenext from both, bundler and node10.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-consumer: $*" >&2; exit 1; }

cd "$root"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
mkdir "$work/pkg"
tar -xzf "$work/$tarball" -C "$work/pkg"
pkg="$work/pkg/package"

# --- 1. Tarball contents --------------------------------------------------------------------------
(cd "$pkg" && find . -type f | sed 's|^\./||' | sort) > "$work/files.txt"
for f in LICENSE README.md package.json src/index.ts dist/esm/package.json dist/cjs/package.json; do
  grep -qx "$f" "$work/files.txt" || fail "tarball lacks $f"
done
grep -q '^docs/.*\.md$' "$work/files.txt" || fail "tarball lacks docs/"
if grep -E '^(spec|bench|demo|node_modules|coverage)/|\.(spec|test)\.[cm]?[jt]sx?$' "$work/files.txt"; then
  fail "tarball contains spec, bench, demo or test files (listed above)"
fi
# Entry points, from the packed package.json: "." and every subpath except JSON files.
node - "$pkg" > "$work/entries.txt" <<'JS'
const { existsSync } = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
const pkg = require(path.join(dir, 'package.json'));
const problems = [];
const targets = [];
const collect = (where, t) => {
  if (typeof t === 'string') targets.push([where, t]);
  else if (Array.isArray(t)) t.forEach((x, i) => collect(`${where}[${i}]`, x));
  else if (t && typeof t === 'object') for (const [k, v] of Object.entries(t)) collect(`${where}.${k}`, v);
};
for (const field of ['main', 'module', 'types']) if (pkg[field]) collect(field, pkg[field]);
let exp = pkg.exports;
if (typeof exp === 'string' || Array.isArray(exp) || !Object.keys(exp ?? {}).every((k) => k.startsWith('.'))) exp = { '.': exp };
const entries = [];
for (const [subpath, target] of Object.entries(exp)) {
  collect(`exports[${subpath}]`, target);
  if (subpath.endsWith('.json')) continue;
  if (subpath.includes('*')) { problems.push(`exports[${subpath}]: patterns are not checked by this script`); continue; }
  entries.push(subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
}
for (const [where, t] of targets) if (!existsSync(path.join(dir, t))) problems.push(`${where} -> ${t} is not in the tarball`);
if (entries.length === 0) problems.push('no entry points in exports');
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
console.log(entries.join('\n'));
JS
mapfile -t entries < "$work/entries.txt"
echo "entry points: ${entries[*]}"

# --- 2a. Links in the packed README.md and docs/**/*.md --------------------------------------------
node - "$pkg" <<'JS'
const { readFileSync, existsSync, statSync, readdirSync } = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
const mdFiles = [path.join(dir, 'README.md'),
  ...(existsSync(path.join(dir, 'docs')) ? walk(path.join(dir, 'docs')).filter((f) => f.endsWith('.md')) : [])];
const broken = [];
let checked = 0;
for (const file of mdFiles) {
  const rel = path.relative(dir, file);
  // Drop fenced code blocks (keeping line numbers), HTML comments and inline code spans.
  let fence = null;
  const lines = readFileSync(file, 'utf8').split('\n').map((line) => {
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) { if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = null; return ''; }
    if (m) { fence = m[1]; return ''; }
    return line;
  });
  const text = lines.join('\n').replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(`+)[^`][\s\S]*?\1/g, (c) => c.replace(/[^\n]/g, ' '));
  const targets = [];
  const add = (index, raw) => targets.push({ line: text.slice(0, index).split('\n').length, raw });
  for (const m of text.matchAll(/\]\(\s*(<[^>\n]*>|[^\s)]+)/g)) add(m.index, m[1]);           // [t](x), ![a](x)
  for (const m of text.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)/gm)) add(m.index, m[1]); // [ref]: x
  for (const m of text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)) add(m.index, m[1]);  // HTML
  for (const { line, raw } of targets) {
    checked++;
    const target = raw.replace(/^<|>$/g, '');
    const where = `${rel}:${line}: ${target}`;
    if (/^(https?|mailto):/i.test(target) || target.startsWith('#')) continue;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('/')) { broken.push(`${where} (not relative, http(s) or mailto)`); continue; }
    let p = target.replace(/[?#].*$/, '');
    try { p = decodeURIComponent(p); } catch { broken.push(`${where} (bad URL encoding)`); continue; }
    const resolved = path.resolve(path.dirname(file), p);
    if (resolved !== dir && !resolved.startsWith(dir + path.sep)) { broken.push(`${where} (points outside the package)`); continue; }
    // A file, or a folder of the tarball (tarballs hold no empty folders).
    if (!existsSync(resolved)) broken.push(`${where} (not in the tarball)`);
    else if (statSync(resolved).isDirectory() && walk(resolved).length === 0) broken.push(`${where} (empty folder)`);
  }
}
if (broken.length) {
  console.error(`links that do not resolve inside the tarball:\n  ${broken.join('\n  ')}`);
  console.error('Link to files the package ships (see "files" in package.json), or use an absolute URL.');
  process.exit(1);
}
console.log(`links: ok (${checked} in ${mdFiles.length} markdown files)`);
JS

# --- Consumer project ------------------------------------------------------------------------------
mkdir -p "$work/consumer"
cd "$work/consumer"
# No "type" field: the project is CommonJS, so .ts files compile to require() under node16/nodenext.
cat > package.json <<'JSON'
{ "name": "consumer", "version": "1.0.0", "private": true }
JSON
# Every peer dependency, at the version installed here: rxjs, and the optional peers that extra
# entries need for their types (@opentelemetry/api for rxjs-backpressure/opentelemetry), so that
# every entry can be loaded and type-checked. npm does not install optional peers by itself.
mapfile -t peers < <(node -e '
  const [root] = process.argv.slice(1);
  const pkg = require(root + "/package.json");
  for (const name of Object.keys(pkg.peerDependencies ?? {})) {
    console.log(name + "@" + require(root + "/node_modules/" + name + "/package.json").version);
  }' "$root")
echo "peers: ${peers[*]}"
npm install --silent --no-audit --no-fund --prefer-offline "$work/$tarball" "${peers[@]}" >/dev/null
installed="$work/consumer/node_modules/rxjs-backpressure"

# --- 2b. Source maps resolve in the installed package ---------------------------------------------
node - "$installed" <<'JS'
const { readFileSync, existsSync, readdirSync } = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
const problems = [];
const files = walk(path.join(dir, 'dist'));
for (const required of ['dist/esm/index.js.map', 'dist/cjs/index.js.map']) {
  if (!existsSync(path.join(dir, required))) problems.push(`${required} is missing`);
}
let sources = 0;
for (const file of files) {
  const rel = path.relative(dir, file);
  if (file.endsWith('.map')) {
    const map = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(map.sources) || map.sources.length === 0) problems.push(`${rel}: no sources`);
    for (const s of map.sources ?? []) {
      sources++;
      const resolved = path.resolve(path.dirname(file), map.sourceRoot ?? '', s);
      if (!resolved.startsWith(dir + path.sep) || !existsSync(resolved)) problems.push(`${rel}: source ${s} does not resolve`);
    }
  } else if (/\.(js|d\.ts)$/.test(file)) {
    const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, 'utf8'));
    if (m && !m[1].startsWith('data:') && !existsSync(path.resolve(path.dirname(file), m[1]))) {
      problems.push(`${rel}: sourceMappingURL ${m[1]} does not resolve`);
    }
  }
}
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
console.log(`source maps: ok (${files.filter((f) => f.endsWith('.map')).length} maps, ${sources} sources)`);
JS

# --- 3a. Runtime: require() and import ---------------------------------------------------------------
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
for (const entry of process.argv.slice(2)) {
  assert.ok(Object.keys(require(entry)).length > 0, `require('${entry}') has no exports`);
}
console.log('require: ok (' + Object.keys(bp).length + ' exports)');
JS
node check.cjs "${entries[@]}"

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
for (const entry of process.argv.slice(2)) {
  assert.ok(Object.keys(await import(entry)).length > 0, `import('${entry}') has no exports`);
}
console.log('import: ok (' + Object.keys(bp).length + ' exports)');
JS
node check.mjs "${entries[@]}"

# The main entry must not pull in the testing or opentelemetry entries, nor anything of
# @opentelemetry; the opentelemetry entry uses @opentelemetry/api for its types only.
if grep -Eq "(from|require\()[[:space:]]*['\"]\./(testing|opentelemetry)" "$installed/dist/esm/index.js" "$installed/dist/cjs/index.js"; then
  fail "main entry refers to the testing or opentelemetry entry"
fi
if cat "$installed/dist/esm/index.js" "$installed/dist/cjs/index.js" \
  $(find "$installed/dist" -path '*/opentelemetry/*.js') | grep -Ev '^[[:space:]]*(\*|/\*|//)' |
  grep -Eq "(from|require\(|import\()[[:space:]]*['\"]@opentelemetry"; then
  fail "the main entry, or the opentelemetry entry's JavaScript, loads @opentelemetry at run time"
fi
# The redis entry uses the client it is given: no JavaScript of the package loads ioredis or redis,
# and the main entry does not refer to the redis entry.
if grep -Eq "(from|require\()[[:space:]]*['\"]\./redis" "$installed/dist/esm/index.js" "$installed/dist/cjs/index.js"; then
  fail "main entry refers to the redis entry"
fi
if find "$installed/dist" -name '*.js' -exec cat {} + | grep -Ev '^[[:space:]]*(\*|/\*|//)' |
  grep -Eq "(from|require\(|import\()[[:space:]]*['\"](ioredis|redis|@redis/[a-z-]+)['\"]"; then
  fail "the package's JavaScript loads ioredis or redis at run time"
fi

# --- 3b. Types --------------------------------------------------------------------------------------
# use.ts is CommonJS in this project (no "type" field); use.mts is ESM everywhere. Both import every entry.
{
  cat <<'TS'
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
  i=0
  for entry in "${entries[@]}"; do
    printf "import * as entry%d from '%s';\nvoid entry%d;\n" "$i" "$entry" "$i"
    i=$((i + 1))
  done
} > use.ts
cp use.ts use.mts
# --skipLibCheck false checks the package's .d.ts files too. No @types packages: the declarations must
# not need Node's types (rxjs's own need setTimeout, which the DOM lib gives them).
cat > tsconfig.base.json <<'JSON'
{
  "compilerOptions": {
    "strict": true, "skipLibCheck": false, "skipDefaultLibCheck": true,
    "lib": ["es2022", "dom"], "types": [], "noEmit": true
  }
}
JSON
echo '{ "extends": "./tsconfig.base.json", "files": ["use.ts"] }' > tsconfig.cjs.json
echo '{ "extends": "./tsconfig.base.json", "files": ["use.mts"] }' > tsconfig.esm.json
echo '{ "extends": "./tsconfig.base.json", "files": ["use.ts", "use.mts"] }' > tsconfig.both.json
tsc() { node "$root/node_modules/typescript/bin/tsc" "$@"; }
# CommonJS consumer under node16: emit, and make sure the imports really became require() calls.
tsc -p tsconfig.cjs.json --module node16 --moduleResolution node16 --noEmit false --outDir out-node16
grep -q "require(\"rxjs-backpressure\")" out-node16/use.js || fail "use.ts did not compile to require() under node16"
echo "types (node16, CommonJS consumer): ok"
tsc -p tsconfig.esm.json --module node16 --moduleResolution node16
echo "types (node16, ESM consumer): ok"
tsc -p tsconfig.both.json --module nodenext --moduleResolution nodenext
echo "types (nodenext, CommonJS and ESM consumers): ok"
tsc -p tsconfig.cjs.json --module esnext --moduleResolution bundler
echo "types (bundler): ok"
# node10 is deprecated in TypeScript 6 (TS5107) and removed in 7; 6.x still runs it with
# --ignoreDeprecations 6.0, and node10 consumers use "main", "types" and "typesVersions".
ts_major=$(node -p "require('$root/node_modules/typescript/package.json').version.split('.')[0]")
if [ "$ts_major" -le 5 ]; then
  tsc -p tsconfig.cjs.json --module commonjs --moduleResolution node10
elif [ "$ts_major" -eq 6 ]; then
  tsc -p tsconfig.cjs.json --module commonjs --moduleResolution node10 --ignoreDeprecations 6.0
else
  fail "TypeScript $ts_major has no node10 resolution: check node10 with TypeScript 6, or drop this case"
fi
echo "types (node10): ok"
