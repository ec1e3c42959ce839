// The examples of docs/testing.md are specs. Each ```ts block of the page whose first line names a
// file (`// notifier.spec.ts`) is that file of spec/docs/testing/, character for character: this
// spec checks it, and jest runs the *.spec.ts files among them like any other spec. So a guide
// example that stops working fails the suite, and an edit to one side only fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const page = join(root, 'docs', 'testing.md');
const examples = join(__dirname, 'testing');

/** The page's ```ts blocks: their text, and the file each names on its first line (if any). */
function tsBlocks(text: string): { name: string | undefined; body: string }[] {
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(([, body]) => ({
    name: /^\/\/ ([\w.-]+\.ts)\n/.exec(body!)?.[1],
    body: body!,
  }));
}

describe('docs/testing.md', () => {
  const blocks = tsBlocks(readFileSync(page, 'utf8'));

  it('shows each example exactly as the file of spec/docs/testing/ that runs it', () => {
    const named = blocks.filter((b) => b.name !== undefined);
    const files = readdirSync(examples).sort();
    expect(named.map((b) => b.name).sort()).toEqual(files);
    for (const { name, body } of named) {
      expect({ file: name, text: body }).toEqual({
        file: name,
        text: readFileSync(join(examples, name!), 'utf8'),
      });
    }
  });

  it('has a runnable example for each way of testing it describes', () => {
    const specs = blocks.filter((b) => b.name?.endsWith('.spec.ts')).map((b) => b.body);
    const some = (pattern: RegExp) => specs.some((body) => pattern.test(body));
    expect(some(/\.run\(/)).toBe(true); // TestScheduler.run
    expect(some(/from 'rxjs-marbles\/jest'/)).toBe(true); // rxjs-marbles
    expect(some(/new ManualTimeScheduler\(/) && some(/\.advanceTo\(/)).toBe(true); // stepping
    expect(some(/await withVirtualTime\(async/)).toBe(true); // around an async test
  });

  it('has no test in a block that is not one of those files', () => {
    const loose = blocks.filter((b) => b.name === undefined && /\b(it|test|expect)\(/.test(b.body));
    expect(loose.map((b) => b.body.split('\n')[0])).toEqual([]);
  });
});
