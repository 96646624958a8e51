/**
 * Where the Application Master's main lives (the same engine install is expected on every node, like
 * SPARK_HOME): the entry that runs its CommonJS bundle from a V8 code cache (scripts/build.mjs, decision
 * 0033), or the per-file module when the bundle is absent (a partial build).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('./application-master.entry.cjs', import.meta.url));

export const AM_MAIN = fs.existsSync(entry)
  ? entry
  : fileURLToPath(new URL('./application-master.js', import.meta.url));
