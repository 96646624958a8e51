/**
 * `npm run bench [-- --quick] [-- --peers] ...`: runs the benchmark suite (bench/suite.ts), writes
 * bench/results/<time>-<mode>.json (raw runs) and .md (tables), and prints the tables.
 * See bench/README.md for how to read them.
 *
 * Owns: the command line entry. Must not: hold workload or measurement logic.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from './lib/config.js';
import { markdown } from './lib/report.js';
import { runSuite } from './suite.js';

let cfg: ReturnType<typeof parseArgs>;
try {
  cfg = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
cfg.log(`bench: ${cfg.mode} run, cases ${cfg.cases.join(',')}, data in ${cfg.dataDir}`);
const res = await runSuite(cfg);
const md = markdown(res);
fs.mkdirSync(cfg.resultsDir, { recursive: true });
const stem = path.join(cfg.resultsDir, `${res.started.replace(/[:.]/g, '-')}-${cfg.mode}`);
fs.writeFileSync(`${stem}.json`, `${JSON.stringify(res, null, 1)}\n`);
fs.writeFileSync(`${stem}.md`, md);
process.stdout.write(`${md}\nresults: ${stem}.json, ${stem}.md\n`);
const bad = Object.entries(res.verdicts).filter(([, v]) => !/^(same|ok)/.test(v));
if (bad.length) {
  process.stderr.write(`bench: wrong or failed answers: ${bad.map(([k, v]) => `${k}: ${v}`).join('; ')}\n`);
  process.exit(1);
}
