/**
 * Where `cinder submit` finds its defaults file (Spark's spark-defaults.conf): `$CINDER_CONF_DIR/cinder-defaults.conf`,
 * else `~/.cinder/cinder-defaults.conf`. Node built-ins only (read before the CLI loads, src/cli/submit-flags.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The defaults file's path, when there is one. */
export function defaultsFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.CINDER_CONF_DIR ?? path.join(os.homedir(), '.cinder');
  const f = path.join(dir, 'cinder-defaults.conf');
  return fs.existsSync(f) ? f : undefined;
}
