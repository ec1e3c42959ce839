// Runs the browser tests with node's test runner (`node --test`), against the production build.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', join(here, 'app.e2e.mjs')], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
