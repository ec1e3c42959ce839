/**
 * The diagrams of the docs are the runs: docs/diagrams/*.svg are what `npm run docs` draws now, and
 * every ASCII diagram of the operators' pages and JSDoc agrees with a run of the same example
 * (scripts/diagrams/ascii.ts), so a change of behaviour cannot leave a diagram behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderMarbleSvg, type MarbleDiagram } from '../../src/testing/index';
import { checkAsciiDiagrams, jsdocBlocks, markdownBlocks } from '../../scripts/diagrams/ascii';
import { EXAMPLES, OPERATORS } from '../../scripts/diagrams/examples';

const root = resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
const runs = new Map<string, MarbleDiagram>();
const runOf = (name: string): MarbleDiagram => {
  let run = runs.get(name);
  if (run === undefined) {
    const example = EXAMPLES.find((e) => e.name === name);
    if (example === undefined) throw new Error(`no example ${name}`);
    runs.set(name, (run = example.record()));
  }
  return run;
};

describe('docs/diagrams', () => {
  it.each(EXAMPLES.map((e) => [e.name]))('%s.svg is what a run draws now (else: npm run docs)', (name) => {
    const file = join(root, 'docs', 'diagrams', `${name}.svg`);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(renderMarbleSvg(runOf(name)));
  });

  it('holds nothing else, and every file is small and plain', () => {
    const files = readdirSync(join(root, 'docs', 'diagrams')).sort();
    expect(files).toEqual(EXAMPLES.map((e) => `${e.name}.svg`).sort());
    for (const file of files) {
      const svg = read(`docs/diagrams/${file}`);
      expect(Buffer.byteLength(svg)).toBeLessThan(20_000);
      expect(svg).not.toMatch(/<script|href|url\(|@import|@font-face/i);
    }
  });

  it('has a diagram named after every operator, embedded in its page and in the README table', () => {
    const readme = read('README.md');
    for (const operator of OPERATORS) {
      expect(EXAMPLES.some((e) => e.name === operator && e.operator === operator)).toBe(true);
      expect(read(`docs/operators/${operator}.md`)).toContain(`](../diagrams/${operator}.svg)`);
      expect(readme).toContain(`src="docs/diagrams/${operator}.svg"`);
    }
  });

  it('ships with the package (docs/ is in "files")', () => {
    const pkg = JSON.parse(read('package.json')) as { files: string[] };
    expect(pkg.files).toContain('docs');
  });
});

describe('the ASCII diagrams of the operators', () => {
  it('agree with the runs, in every page and JSDoc', () => {
    expect(checkAsciiDiagrams(read, runs)).toEqual([]);
  });

  it('a lane that disagrees is found, with the file, the line and both readings', () => {
    const broken = (file: string): string =>
      file === 'docs/operators/bufferSliding.md'
        ? read(file).replace('output:   -----A---C---(D|)', 'output:   -----A---B---(D|)')
        : read(file);
    const problems = checkAsciiDiagrams(broken, runs);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^docs\/operators\/bufferSliding\.md:\d+: output: -----A---B---\(D\|\) disagrees/,
    );
    expect(problems[0]).toContain('documented: A@5 B@9 D@13 |@13');
    expect(problems[0]).toContain('run:        A@5 C@9 D@13 |@13');
  });

  it('an onDrop claim that the run does not make, or a drop not claimed, is found', () => {
    const wrongReason = (file: string): string =>
      file === 'src/operators/bufferSliding.ts'
        ? read(file).replace("onDrop: b 'overflow'", "onDrop: b 'expired'")
        : read(file);
    expect(checkAsciiDiagrams(wrongReason, runs)).toEqual([
      expect.stringMatching(
        /^src\/operators\/bufferSliding\.ts:\d+: onDrop claims b 'expired', which the run of bufferSliding does not drop$/,
      ),
      expect.stringMatching(
        /^src\/operators\/bufferSliding\.ts:\d+: the run of bufferSliding drops b 'overflow' at 5, and the diagram does not say so$/,
      ),
    ]);
  });

  it('a lane line that no example checks is found', () => {
    const extra = (file: string): string =>
      file === 'docs/operators/pullFrom.md'
        ? `${read(file)}\n\`\`\`text\nsource:  -a-|\noutput:  -a-|\n\`\`\`\n`
        : read(file);
    expect(checkAsciiDiagrams(extra, runs)).toEqual([
      expect.stringMatching(/pullFrom\.md:\d+: 'source:' is checked by no example/),
      expect.stringMatching(/pullFrom\.md:\d+: 'output:' is checked by no example/),
    ]);
  });

  it('reads ```text blocks of pages and the fenced blocks of JSDoc, not code', () => {
    expect(markdownBlocks('p.md', '```text\nsource: a|\n```\n```ts\nsource: b|\n```\n')).toEqual([
      { file: 'p.md', lineNumbers: [2], lines: ['source: a|'] },
    ]);
    const ts = '/**\n * ```\n * source: a|\n * ```\n * ```ts\n * code\n * ```\n */\nconst x = 1;\n';
    expect(jsdocBlocks('f.ts', ts)).toEqual([{ file: 'f.ts', lineNumbers: [3], lines: ['source: a|'] }]);
  });
});
