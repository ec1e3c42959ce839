import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as opentelemetry from 'rxjs-backpressure/opentelemetry';

const root = resolve(__dirname, '../..');
const src = join(root, 'src');

/** Every source file reachable from `entry` through relative imports. */
function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const todo = [entry];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const base = resolve(dirname(file), specifier!.replace(/\.js$/, ''));
      const next = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
      if (next === undefined) throw new Error(`${relative(root, file)}: cannot resolve '${specifier!}'`);
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

describe('the rxjs-backpressure/opentelemetry entry', () => {
  it('exports registerFlowMetrics and the attribute names', () => {
    expect(Object.keys(opentelemetry).sort()).toEqual([
      'DROP_REASON_ATTRIBUTE',
      'FLOW_ATTRIBUTE',
      'QUANTILE_ATTRIBUTE',
      'registerFlowMetrics',
    ]);
    expect(opentelemetry.FLOW_ATTRIBUTE).toBe('backpressure.flow');
    expect(opentelemetry.DROP_REASON_ATTRIBUTE).toBe('backpressure.drop.reason');
    expect(opentelemetry.QUANTILE_ATTRIBUTE).toBe('quantile');
  });

  it('is never pulled in by the main entry, which never names @opentelemetry', () => {
    const reachable = [...reachableFrom(join(src, 'index.ts'))];
    expect(
      reachable.map((file) => relative(src, file)).filter((file) => file.startsWith('opentelemetry')),
    ).toEqual([]);
    for (const file of reachable) expect(readFileSync(file, 'utf8')).not.toMatch(/@opentelemetry/);
  });

  it('loads nothing of @opentelemetry/api at run time: its imports of it are type-only', () => {
    const dir = join(src, 'opentelemetry');
    let found = 0;
    for (const name of readdirSync(dir)) {
      const text = readFileSync(join(dir, name), 'utf8');
      const imports = [...text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'(@opentelemetry\/[^']+)'/gms)];
      for (const [statement, typeOnly] of imports)
        expect({ name, statement, typeOnly }).toEqual({ name, statement, typeOnly: 'type ' });
      expect(text).not.toMatch(/require\(\s*'@opentelemetry|import\(\s*'@opentelemetry/);
      found += imports.length;
    }
    expect(found).toBeGreaterThan(0);
  });

  it('is an entry of the exports map, with @opentelemetry/api as an optional peer', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['./opentelemetry']).toEqual({
      import: { types: './dist/esm/opentelemetry/index.d.ts', default: './dist/esm/opentelemetry/index.js' },
      require: { types: './dist/cjs/opentelemetry/index.d.ts', default: './dist/cjs/opentelemetry/index.js' },
    });
    expect(pkg.peerDependencies['@opentelemetry/api']).toBe('>=1.9.0 <2');
    expect(pkg.peerDependenciesMeta['@opentelemetry/api']).toEqual({ optional: true });
    expect(pkg.dependencies?.['@opentelemetry/api']).toBeUndefined();
  });
});
