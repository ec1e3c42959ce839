// Type-checks every ```ts block of README.md and docs/**/*.md against the current source.
//
// Each block becomes a module of its own in a temporary folder (a block whose first line is a
// `// name.ts` comment is written under that name, so a later block of the same page can import it
// as `./name.js`). All blocks are checked in one TypeScript program, in strict mode, with
// `rxjs-backpressure` and its `/testing`, `/opentelemetry` and `/simulation` entries mapped to `src/`, the jest and
// Node.js types, and the free names examples use (`files$`, `upload`, ...) declared in
// scripts/docs-env.d.mts.
//
// A top-level `declare function`, `declare class`, `type` or `interface` named after an export of the
// package documents that export's signature: it is checked against the source, so the two cannot
// drift apart. Fenced blocks must name their language (```text for diagrams and output), and
// relative links must point to a file that exists (and, for a page, to a heading it has).
//
// Usage: node scripts/check-docs.mjs [--keep]   (--keep leaves the generated modules in place)
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const started = performance.now();
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rel = (file) => relative(root, file).split(sep).join('/');
const keep = process.argv.includes('--keep');

/** README.md and every page under docs/, in a stable order. */
function markdownFiles() {
  const found = [join(root, 'README.md')];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk(join(root, 'docs'));
  return found;
}

const TS_LANGUAGES = new Set(['ts', 'typescript']);

/**
 * The fenced blocks of a page: `{ lang, line, lines }`, `line` being the 1-based line of the opening
 * fence. Follows CommonMark: up to 3 spaces of indent, ``` or ~~~, closed by a fence of the same
 * character at least as long.
 */
function fencedBlocks(text) {
  const blocks = [];
  const lines = text.split(/\r?\n/);
  let open;
  lines.forEach((content, i) => {
    if (open === undefined) {
      const m = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(content);
      if (m) open = { indent: m[1].length, fence: m[2], lang: m[3].toLowerCase(), line: i + 1, lines: [] };
    } else if (new RegExp(`^ {0,3}${open.fence[0]}{${open.fence.length},}\\s*$`).test(content)) {
      blocks.push(open);
      open = undefined;
    } else {
      open.lines.push(content.slice(Math.min(open.indent, /^ */.exec(content)[0].length)));
    }
  });
  if (open) blocks.push({ ...open, unclosed: true });
  return blocks;
}

/** The page's lines with fenced blocks blanked out (line numbers kept), and inline code removed. */
function proseLines(text) {
  const lines = text.split(/\r?\n/);
  for (const block of fencedBlocks(text)) {
    const last = block.unclosed ? lines.length : block.line + block.lines.length + 1;
    for (let i = block.line - 1; i < last; i++) lines[i] = '';
  }
  return lines.map((line) => line.replace(/`+[^`]*`+/g, ''));
}

/** GitHub's anchors for a page's headings: lowercased, punctuation dropped, spaces to hyphens. */
const anchorCache = new Map();
function anchorsOf(file) {
  let anchors = anchorCache.get(file);
  if (anchors) return anchors;
  anchors = new Set();
  const seen = new Map();
  for (const line of proseLines(readFileSync(file, 'utf8').replace(/`/g, ''))) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

/** Relative links of a page that lead nowhere: a missing file, or a heading the page does not have. */
function brokenLinks(page, text) {
  const broken = [];
  proseLines(text).forEach((line, i) => {
    for (const [, link] of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:, ...
      const [path, hash] = link.split('#');
      const target = path ? resolve(dirname(page), decodeURI(path)) : page;
      if (!existsSync(target)) broken.push(`${rel(page)}:${i + 1}: broken link ${link} (no such file)`);
      else if (hash && target.endsWith('.md') && !anchorsOf(target).has(hash)) {
        broken.push(`${rel(page)}:${i + 1}: broken link ${link} (no such heading)`);
      }
    }
  });
  return broken;
}

/** Names exported by an entry point of the package, split into values and types. */
function exportsOf(entry) {
  const file = ts.createSourceFile(entry, readFileSync(entry, 'utf8'), ts.ScriptTarget.Latest);
  const values = new Set();
  const types = new Set();
  for (const statement of file.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.exportClause) continue;
    if (!ts.isNamedExports(statement.exportClause)) continue;
    for (const element of statement.exportClause.elements) {
      const name = element.name.text;
      types.add(name);
      if (!statement.isTypeOnly && !element.isTypeOnly) values.add(name);
    }
  }
  return { values, types };
}

const entries = {
  main: exportsOf(join(root, 'src/index.ts')),
  testing: exportsOf(join(root, 'src/testing/index.ts')),
  opentelemetry: exportsOf(join(root, 'src/opentelemetry/index.ts')),
  simulation: exportsOf(join(root, 'src/simulation/index.ts')),
};

const hasModifier = (node, kind) => (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);

/**
 * Assertions appended to a block: each top-level declaration named after an export documents that
 * export, so the source must fit it. Functions are compared both ways, and the keys of each
 * parameter's type too (an options type with a key missing would still be assignable). A class of
 * the docs must be satisfied by the real one (the docs may show fewer members). Types are compared
 * both ways, keys included.
 */
function signatureChecks(fileName, source) {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest);
  const checks = [];
  const ns = (name, kind) => {
    if (entries.main[kind].has(name)) return '__docsCheckMain';
    if (entries.testing[kind].has(name)) return '__docsCheckTesting';
    if (entries.opentelemetry[kind].has(name)) return '__docsCheckOpentelemetry';
    if (entries.simulation[kind].has(name)) return '__docsCheckSimulation';
    return undefined;
  };
  const sameKeys = (docs, src) =>
    `{ const keys: [never, never] = null as unknown as __DocsCheckKeys<${docs}, ${src}>; }`;
  for (const statement of file.statements) {
    const name = statement.name?.text;
    if (name === undefined) continue;
    const declared = hasModifier(statement, ts.SyntaxKind.DeclareKeyword);
    if (ts.isFunctionDeclaration(statement) && declared && ns(name, 'values')) {
      if (checks.some((c) => c.name === name)) continue; // overloads: one check for all of them
      const real = `${ns(name, 'values')}.${name}`;
      const code = [`{ const docs: typeof ${name} = ${real}; const src: typeof ${real} = ${name}; }`];
      statement.parameters.forEach((_, i) => {
        const param = (f) => `NonNullable<Parameters<typeof ${f}>[${i}]>`;
        code.push(sameKeys(param(name), param(real)));
      });
      checks.push({ name, code: code.join('\n') });
    } else if (ts.isClassDeclaration(statement) && declared && ns(name, 'values')) {
      checks.push({ name, code: `{ const docs: typeof ${name} = ${ns(name, 'values')}.${name}; }` });
    } else if (
      (ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement)) &&
      ns(name, 'types')
    ) {
      const args = statement.typeParameters
        ? `<${statement.typeParameters.map(() => 'any').join(', ')}>`
        : '';
      const docs = `${name}${args}`;
      const real = `${ns(name, 'types')}.${name}${args}`;
      checks.push({
        name,
        code: [
          `{ const docs: ${docs} = null as unknown as ${real}; const src: ${real} = null as unknown as ${docs}; }`,
          sameKeys(docs, real),
        ].join('\n'),
      });
    }
  }
  if (checks.length === 0) return { text: '', checkLines: [] };
  const lines = [
    '',
    '// check-docs: the declarations above must match the source.',
    "import * as __docsCheckMain from 'rxjs-backpressure';",
    "import * as __docsCheckTesting from 'rxjs-backpressure/testing';",
    "import * as __docsCheckOpentelemetry from 'rxjs-backpressure/opentelemetry';",
    "import * as __docsCheckSimulation from 'rxjs-backpressure/simulation';",
    'type __DocsCheckKeys<D, S> = [onlyInDocs: Exclude<keyof D, keyof S>, onlyInSrc: Exclude<keyof S, keyof D>];',
  ];
  /** For each appended line, the name it checks (the block's own lines come first). */
  const checkLines = lines.map(() => undefined);
  for (const check of checks) {
    for (const line of check.code.split('\n')) {
      lines.push(line);
      checkLines.push(check.name);
    }
  }
  return { text: lines.join('\n') + '\n', checkLines };
}

// ---- Collect the blocks and write them out ----

const problems = [];
const cacheDir = join(root, 'node_modules', '.cache');
mkdirSync(cacheDir, { recursive: true });
const workDir = mkdtempSync(join(cacheDir, 'check-docs-'));
// Blocks are ES modules, as users of a "type": "module" package write them: relative imports need `.js`.
writeFileSync(join(workDir, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');

/** Generated file → where its lines came from. */
const origins = new Map();
let blockCount = 0;
let pageCount = 0;

for (const page of markdownFiles()) {
  const pageName = rel(page);
  const dir = join(workDir, pageName.replace(/\.md$/, ''));
  const taken = new Set();
  let pageHasBlocks = false;
  const text = readFileSync(page, 'utf8');
  problems.push(...brokenLinks(page, text));
  for (const block of fencedBlocks(text)) {
    if (block.unclosed) {
      problems.push(`${pageName}:${block.line}: code fence never closed`);
      continue;
    }
    if (block.lang === '') {
      problems.push(
        `${pageName}:${block.line}: code fence without a language (use \`\`\`text for diagrams and output)`,
      );
      continue;
    }
    if (!TS_LANGUAGES.has(block.lang)) continue;
    const named = /^\/\/\s*([\w.-]+\.ts)\s*$/.exec(block.lines[0] ?? '');
    const baseName = named ? named[1] : `block-line-${block.line}.ts`;
    if (taken.has(baseName)) {
      problems.push(`${pageName}:${block.line}: a second block named ${baseName} on this page`);
      continue;
    }
    taken.add(baseName);
    const source = block.lines.join('\n') + '\n';
    const checks = signatureChecks(baseName, source);
    const file = join(dir, baseName);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, source + checks.text);
    origins.set(file, {
      page: pageName,
      fence: block.line,
      lineCount: block.lines.length,
      checkLines: checks.checkLines,
    });
    blockCount++;
    pageHasBlocks = true;
  }
  if (pageHasBlocks) pageCount++;
}

// ---- One program for all blocks ----

const envFile = join(root, 'scripts', 'docs-env.d.mts');
const options = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noFallthroughCasesInSwitch: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['jest', 'node'],
  typeRoots: [join(root, 'node_modules', '@types')],
  paths: {
    'rxjs-backpressure': [join(root, 'src', 'index.ts')],
    'rxjs-backpressure/testing': [join(root, 'src', 'testing', 'index.ts')],
    'rxjs-backpressure/opentelemetry': [join(root, 'src', 'opentelemetry', 'index.ts')],
    'rxjs-backpressure/redis': [join(root, 'src', 'redis', 'index.ts')],
    'rxjs-backpressure/simulation': [join(root, 'src', 'simulation', 'index.ts')],
  },
};

let diagnostics = [];
if (origins.size > 0) {
  const program = ts.createProgram({ rootNames: [envFile, ...origins.keys()], options });
  diagnostics = ts.getPreEmitDiagnostics(program);
}

function describeDiagnostic(d) {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  const code = `TS${d.code}`;
  if (!d.file || d.start === undefined) return `${code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const origin = origins.get(resolve(d.file.fileName));
  if (!origin) return `${rel(d.file.fileName)}:${line + 1}:${character + 1} ${code}: ${message}`;
  if (line < origin.lineCount) {
    return `${origin.page}:${origin.fence + 1 + line}:${character + 1} (block at line ${origin.fence}) ${code}: ${message}`;
  }
  // The appended text starts on the line after the block's last line.
  const name = origin.checkLines[line - origin.lineCount] ?? 'something';
  return `${origin.page}:${origin.fence} (block at line ${origin.fence}) declares ${name} differently from src/: ${code}: ${message}`;
}

for (const d of diagnostics) problems.push(describeDiagnostic(d));
// In page order, then line order.
const pageOrder = new Map(markdownFiles().map((page, i) => [rel(page), i]));
const sortKey = (p) => {
  const m = /^([^:]+):(\d+)/.exec(p);
  return m ? [pageOrder.get(m[1]) ?? pageOrder.size, Number(m[2])] : [pageOrder.size + 1, 0];
};
problems.sort((a, b) => {
  const [pa, la] = sortKey(a);
  const [pb, lb] = sortKey(b);
  return pa - pb || la - lb;
});

if (!keep) rmSync(workDir, { recursive: true, force: true });
else console.log(`generated modules kept in ${rel(workDir)}`);

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(
    `\ncheck-docs: ${problems.length} problem(s) in ${blockCount} TypeScript blocks of ${pageCount} pages (${seconds} s)`,
  );
  process.exitCode = 1;
} else {
  console.log(
    `check-docs: ${blockCount} TypeScript blocks of ${pageCount} pages compile, and every relative link resolves (${seconds} s)`,
  );
}
