// End to end, in a real browser: the production build (`ng build`) served on 127.0.0.1 and driven by
// playwright-core in Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH). After every test, passed
// or failed, a screenshot named after it goes to e2e/screenshots/ for reviewers (emptied at the start of
// a run). The server and the browser are stopped in `after`, also when a test fails.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, '..', 'dist', 'backpressure-example', 'browser');
const shots = join(here, 'screenshots');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the example app in Chromium', () => {
  let server;
  let context;
  let profile;
  let page;
  const errors = [];

  before(async () => {
    assert.ok(existsSync(join(app, 'index.html')), `no build in ${app}: run \`npm run build\` first`);
    assert.ok(existsSync(executablePath), `no browser at ${executablePath}: apt-get install -y chromium`);
    await rm(shots, { recursive: true, force: true }); // no screenshot left from an earlier run
    await mkdir(shots, { recursive: true });
    server = await serve(app);
    profile = await mkdtemp(join(tmpdir(), 'angular-e2e-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      viewport: { width: 1100, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => errors.push(err));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(new Error(msg.text()));
    });
  });

  // In afterEach rather than at the end of each test, so that a failed test leaves its screenshot too.
  afterEach(async (t) => {
    if (!page || page.isClosed()) return;
    const file = join(shots, `${screenshotName(t.name)}.png`);
    await page
      .screenshot({ path: file, fullPage: true, timeout: 5_000 })
      .catch((err) => t.diagnostic(`no screenshot ${file}: ${err.message}`));
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await server?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('search as you type ends on the latest query, with no request cancelled', async () => {
    await page.goto(`${server.url}/search`);
    const box = page.getByTestId('query');
    // Faster than the backend (800 ms per search): most queries wait and are replaced.
    await box.pressSequentially('buffer', { delay: 120 });
    await page.getByTestId('results-for').filter({ hasText: 'Results for "buffer"' }).waitFor();
    await page.getByTestId('status').filter({ hasText: 'latest query' }).waitFor();
    const hits = await page.getByTestId('hits').locator('li').allTextContents();
    assert.ok(hits.includes('bufferSliding'), `hits: ${hits.join(', ')}`);
    assert.ok(
      hits.every((hit) => hit.toLowerCase().includes('buffer')),
      `hits: ${hits.join(', ')}`,
    );
    const counts = await page.getByTestId('counts').textContent();
    const [sent, completed, cancelled, replaced] = (counts?.match(/\d+/g) ?? []).map(Number);
    assert.equal(cancelled, 0, counts ?? '');
    assert.equal(completed, sent, counts ?? '');
    assert.ok(sent >= 2 && sent < 6, `requests sent: ${counts}`); // not one per keystroke
    assert.equal(sent + replaced, 6, counts ?? ''); // every query either sent or reported replaced
    const requests = await page.getByTestId('requests').locator('li').allTextContents();
    assert.match(requests.at(-1) ?? '', /^\s*buffer\s+done/);
  });

  it('the upload queue shows an error when it is full, and every file stays listed', async () => {
    await page.goto(`${server.url}/uploads`);
    const files = Array.from({ length: 9 }, (_, i) => ({
      name: `photo-${i + 1}.jpg`,
      mimeType: 'image/jpeg',
      buffer: Buffer.alloc(2000 * (i + 1), 1),
    }));
    await page.getByTestId('files').setInputFiles(files);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(
      (await alert.textContent()) ?? '',
      /Upload queue full: "photo-9\.jpg" arrived while 5 files were waiting \(BufferOverflowError\)/,
    );
    const rows = page.getByTestId('uploads').locator('tr');
    assert.equal(await rows.count(), 9);
    assert.equal(await rows.nth(8).getAttribute('data-state'), 'refused');
    // Retry: a new queue takes the first 8 again, 3 at a time, with progress.
    await page.getByTestId('retry').click();
    await page.locator('[data-testid=uploads] tr[data-state=done]').first().waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    assert.equal(await rows.nth(8).getAttribute('data-state'), 'refused'); // kept for the next retry
  });

  it('the rate-limited API sends a burst of 5 at once, then 1 call per second', async () => {
    await page.goto(`${server.url}/rate-limit`);
    const tokens = page.getByTestId('tokens');
    assert.equal(await tokens.textContent(), '5');
    // Every state of the table as drawn, in order, so that no state is missed however slow this run
    // is (the backend answers in 150 ms: a call can be done before the test reads it).
    await page.getByTestId('calls').evaluate((tbody) => {
      const drawn = (window.drawnCallStates = []);
      new MutationObserver(() => drawn.push(Array.from(tbody.rows, (tr) => tr.dataset.state))).observe(
        tbody,
        {
          subtree: true,
          childList: true,
          attributeFilter: ['data-state'],
        },
      );
    });
    await page.getByTestId('burst').click();
    await tokens.filter({ hasText: /^0$/ }).waitFor(); // the meter, read every 100 ms
    await page.locator('[data-testid=calls] tr:nth-child(6)[data-state=done]').waitFor();
    const drawn = await page.evaluate(() => window.drawnCallStates);
    // Right after the burst (first drawn with its 10 rows): the 5 that found a token in the bucket of
    // 5 are in flight, the other 5 wait; none is refused (up to 20 may wait).
    assert.deepEqual(
      drawn.find((states) => states.length === 10),
      [...Array(5).fill('in-flight'), ...Array(5).fill('waiting')],
    );
    // The states each call went through: the first 5 sent at once, the 6th after waiting for the
    // next token; the others still wait.
    const path = (i) => drawn.map((states) => states[i]).filter((s, j, all) => s && s !== all[j - 1]);
    const paths = Array.from({ length: 10 }, (_, i) => path(i));
    assert.deepEqual(paths.slice(0, 6), [
      ...Array(5).fill(['in-flight', 'done']),
      ['waiting', 'in-flight', 'done'],
    ]);
    assert.ok(
      paths.slice(6).every((p) => p[0] === 'waiting'),
      JSON.stringify(paths),
    );
    // The table as it is now: the 6th sent about a second after the burst, with the first new token.
    const table = await page
      .getByTestId('calls')
      .locator('tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.cells, (td) => td.textContent?.trim() ?? '')));
    const [state, sentAfter, answeredAfter] = [1, 2, 3].map((column) => table.map((row) => row[column]));
    assert.deepEqual(state.slice(0, 6), Array(6).fill('done'));
    assert.equal(state[9], 'waiting for a token'); // its token comes 5 s after the burst
    const ms = (text) => Number.parseInt(text ?? '', 10);
    assert.ok(
      sentAfter.slice(0, 5).every((t) => ms(t) < 100),
      `sent after: ${sentAfter.join(', ')}`,
    );
    assert.ok(ms(sentAfter[5]) >= 900, `6th sent after ${sentAfter[5]}`);
    assert.ok(
      ms(answeredAfter[5]) >= ms(sentAfter[5]),
      `6th sent after ${sentAfter[5]}, answered after ${answeredAfter[5]}`,
    );
  });

  it('the playground draws bufferSliding(1) on abcd with the docs renderer', async () => {
    await page.goto(`${server.url}/playground`);
    await page.getByTestId('operator').selectOption('bufferSliding');
    await page.getByTestId('capacity').fill('1');
    const source = page.getByTestId('source');
    await source.fill('');
    await source.pressSequentially('abcd', { delay: 50 });
    await page.getByTestId('output-text').filter({ hasText: 'output: A@4 D@8' }).waitFor();
    // Read the lanes off the SVG itself: the marbles on the line of the lane named "output", and
    // the frame of each from the time axis' tick under it.
    const lanes = await page
      .getByTestId('diagram')
      .locator('svg')
      .evaluate((svg) => {
        const texts = Array.from(svg.querySelectorAll('text'));
        const laneY = (name) => {
          const label = texts.find((t) => t.textContent === name && !t.closest('g'));
          return label ? Number(label.getAttribute('y')) - 4 : NaN;
        };
        const ticks = new Map(
          texts
            .filter(
              (t) =>
                /^\d+$/.test(t.textContent ?? '') &&
                !t.closest('g') &&
                t.getAttribute('text-anchor') === 'middle',
            )
            .map((t) => [Number(t.getAttribute('x')), Number(t.textContent)]),
        );
        const marbles = (name) => {
          const y = laneY(name);
          return Array.from(svg.querySelectorAll('g'))
            .map((g) => g.querySelector(':scope > text'))
            .filter((t) => t && Math.abs(Number(t.getAttribute('y')) - 4 - y) < 0.5)
            .map((t) => `${t.textContent}@${ticks.get(Number(t.getAttribute('x'))) ?? '?'}`);
        };
        return {
          title: svg.getAttribute('aria-label'),
          source: marbles('source'),
          output: marbles('output'),
          dropped: marbles('dropped'),
        };
      });
    assert.deepEqual(lanes, {
      title: 'Marble diagram: bufferSliding(1, project)',
      source: ['a@0', 'b@1', 'c@2', 'd@3'],
      output: ['A@4', 'D@8'],
      dropped: ['b@2', 'c@3'],
    });
    const reasons = await page.getByTestId('diagram').locator('svg > text').allTextContents();
    assert.equal(reasons.filter((t) => t === 'overflow').length, 2);
  });

  it('no error in the browser console', () => {
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    );
  });
});

/** A file name for a test's screenshot: its name in lower case, words joined by dashes. */
function screenshotName(test) {
  return test
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
