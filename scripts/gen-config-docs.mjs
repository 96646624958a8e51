// Writes docs/configuration.md from the configuration key registry (run after `node scripts/build.mjs`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { configurationMarkdown } = await import(path.join(root, 'build/src/common/conf-docs.js'));
fs.writeFileSync(path.join(root, 'docs/configuration.md'), configurationMarkdown());
console.log('wrote docs/configuration.md');
