import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as main from '../../src/index';
import * as testing from '../../src/testing/index';
import { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';
import { resetVirtualTime, withVirtualTime } from '../../src/schedulers/withVirtualTime';

const root = resolve(__dirname, '../..');
const src = join(root, 'src');

/** The relative imports and re-exports of a source file, resolved to `.ts` files. */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => {
    const base = resolve(dirname(file), specifier.replace(/\.js$/, ''));
    const candidates = [`${base}.ts`, join(base, 'index.ts')];
    const found = candidates.find((candidate) => existsSync(candidate));
    if (found === undefined) throw new Error(`${relative(root, file)}: cannot resolve '${specifier}'`);
    return found;
  });
}

/** Every source file reachable from `entry` through relative imports. */
function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const todo = [entry];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    for (const next of localImports(file)) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

describe('the rxjs-backpressure/testing entry', () => {
  it('exports the drop recorder and the virtual-time schedulers', () => {
    expect(Object.keys(testing).sort()).toEqual([
      'DropRecorder',
      'ManualTimeScheduler',
      'recordDrops',
      'recordMarbles',
      'renderMarbleSvg',
      'resetVirtualTime',
      'withVirtualTime',
    ]);
    expect(testing.ManualTimeScheduler).toBe(ManualTimeScheduler);
    expect(testing.withVirtualTime).toBe(withVirtualTime);
    expect(testing.resetVirtualTime).toBe(resetVirtualTime);
  });

  it('shares the virtual-time schedulers with the main entry, resetVirtualTime included', () => {
    expect(main.ManualTimeScheduler).toBe(ManualTimeScheduler);
    expect(main.withVirtualTime).toBe(withVirtualTime);
    expect(main.resetVirtualTime).toBe(resetVirtualTime);
  });

  it('is never pulled in by the main entry', () => {
    const reachable = [...reachableFrom(join(src, 'index.ts'))].map((file) => relative(src, file));
    expect(reachable).toEqual(
      expect.arrayContaining(['index.ts', 'types.ts', join('internal', 'GatedQueue.ts')]),
    );
    expect(reachable.filter((file) => file.startsWith('testing'))).toEqual([]);
  });

  it('is a separate entry point in the package exports map', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.exports)).toContain('./testing');
  });
});
