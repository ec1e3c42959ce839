import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

/** The library's public API, typed from the sources. */
export type Library = typeof import('../../src/index.js');

export interface LoadedLibrary {
  lib: Library;
  /** How the code was loaded, for the report. */
  description: string;
}

const ROOT = resolve(dirname(resolve(process.argv[1] ?? '.')), '..');
/** One directory per process, so that benchmarks running side by side do not overwrite each other. */
const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'rxjs-backpressure-bench', `run-${process.pid}`);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Loads the library for benchmarking.
 *
 * By default `src/` is compiled by the TypeScript compiler (transpile only, the project's target and
 * options, ES modules) into `node_modules/.cache/rxjs-backpressure-bench/run-<pid>/` (removed when the
 * process exits) and imported from there, so the code measured is what `tsc` ships. Importing `src/` through tsx instead (`viaTsx`) measures
 * esbuild's output with `keepNames`, which wraps every function expression in a `__name(...)` call
 * (an `Object.defineProperty` per closure created): operators that allocate closures per value then
 * look several times slower than they are.
 */
export async function loadLibrary(viaTsx: boolean): Promise<LoadedLibrary> {
  if (viaTsx) {
    return { lib: await import('../../src/index.js'), description: '`src/` loaded through tsx (esbuild)' };
  }
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.convertCompilerOptionsFromJson(config.config?.compilerOptions ?? {}, ROOT);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    sourceMap: false,
    declaration: false,
    declarationMap: false,
  };
  const srcDir = join(ROOT, 'src');
  rmSync(OUT_DIR, { recursive: true, force: true });
  process.on('exit', () => rmSync(OUT_DIR, { recursive: true, force: true }));
  for (const file of sourceFiles(srcDir)) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions,
      fileName: file,
    });
    const target = join(OUT_DIR, relative(srcDir, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(OUT_DIR, 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
  const lib = (await import(pathToFileURL(join(OUT_DIR, 'index.js')).href)) as Library;
  return {
    lib,
    description: `\`src/\` compiled by TypeScript ${ts.version} (transpile only, target ${ts.ScriptTarget[compilerOptions.target ?? ts.ScriptTarget.ES2020]}, ES modules)`,
  };
}

/**
 * Another entry of the package (`'simulation'`: `src/simulation/index.ts`), loaded the way
 * {@link loadLibrary} loaded the main one: from its compiled copy when it compiled `src/`, else
 * through tsx. Call it after `loadLibrary`.
 */
export async function loadEntry<T>(name: string): Promise<T> {
  const compiled = join(OUT_DIR, name, 'index.js');
  if (existsSync(compiled)) return (await import(pathToFileURL(compiled).href)) as T;
  return (await import(pathToFileURL(join(ROOT, 'src', name, 'index.ts')).href)) as T;
}
