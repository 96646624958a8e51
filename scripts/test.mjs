// Runs every build/test/**/*.test.js with node's built-in test runner.
// Usage: node scripts/test.mjs [filter-substring...]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const files = [];
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js')) files.push(p);
  }
}
walk('build/test');
const filters = process.argv.slice(2);
const chosen = files.sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
// applications started by tests write their event logs here, not to the user's ~/.cinder/event-logs
const eventLogs = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-test-event-logs-'));
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-reporter=spec', ...chosen], {
  stdio: 'inherit',
  env: { ...process.env, CINDER_TEST: '1', CINDER_EVENT_LOG_DIR: eventLogs },
});
fs.rmSync(eventLogs, { recursive: true, force: true });
process.exit(r.status ?? 1);
