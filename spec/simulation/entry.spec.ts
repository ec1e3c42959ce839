import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as viaPackageName from 'rxjs-backpressure/simulation';
import * as simulation from '../../src/simulation/index';

const root = resolve(__dirname, '../..');
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the rxjs-backpressure/simulation entry', () => {
  it('exports the simulator, the generators, the distributions and the downstream', () => {
    expect(Object.keys(simulation).sort()).toEqual([
      'DownstreamOverloadError',
      'DownstreamTimeoutError',
      'bursts',
      'compare',
      'constant',
      'downstream',
      'exponential',
      'fixed',
      'isDownstreamOverloadError',
      'isDownstreamTimeoutError',
      'lognormal',
      'meanServiceTime',
      'poisson',
      'ramp',
      'simulate',
      'trace',
    ]);
    expect(viaPackageName.simulate).toBe(simulation.simulate);
  });

  it('is listed in package.json exports for import and require, with types first', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(pkg.exports['./simulation']).toEqual({
      import: { types: './dist/esm/simulation/index.d.ts', default: './dist/esm/simulation/index.js' },
      require: { types: './dist/cjs/simulation/index.d.ts', default: './dist/cjs/simulation/index.js' },
    });
  });

  it('is never imported from outside src/simulation, and imports nothing but rxjs', () => {
    for (const file of sourceFiles(src)) {
      const text = readFileSync(file, 'utf8');
      const inside = relative(src, file).startsWith('simulation');
      if (!inside)
        expect([relative(src, file), /from '[./]*simulation\//.test(text)]).toEqual([
          relative(src, file),
          false,
        ]);
      if (inside) {
        // Code lines only: the JSDoc examples import the package as users do.
        const code = text
          .split('\n')
          .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
          .join('\n');
        const packages = [...code.matchAll(/from '([^.'][^']*)'/g)].map((m) => m[1]);
        for (const name of packages) expect(name).toBe('rxjs');
      }
    }
  });
});
