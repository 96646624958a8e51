/**
 * Registered classes on executors (decision 0028): the modules that called registerClass, each bundled
 * for its side effects, so that every task's executor loads them (and so registers the classes) before
 * it decodes anything. Driver side; the stage plan carries the bundle ids (StageBody.classBundles).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { logger } from '../common/log.js';
import { registeredClassFiles } from '../common/serde.js';
import { buildModuleBundle, isEngineFile } from './imports-bundle.js';

const log = logger('class-bundles');
let ids: string[] = [];
let seen = -1;
const warned = new Set<string>();

/**
 * Ids of the bundles of the modules that registered classes, except the app's main file (running it on
 * executors would run the app) and the engine's own files. Rebuilt only when a class was registered since.
 */
export function classBundleIds(): string[] {
  const files = registeredClassFiles();
  if (files.size === seen) return ids;
  seen = files.size;
  const main = process.argv[1] ? path.resolve(process.argv[1]) : undefined;
  const out = new Set<string>();
  for (const [name, where] of files) {
    const file = where.startsWith('file:') ? fileURLToPath(where) : where;
    if (file === main || isEngineFile(file) || !fs.existsSync(file)) continue;
    try {
      out.add(buildModuleBundle(file));
    } catch (e) {
      if (warned.has(file)) continue;
      warned.add(file);
      const why = (e as { errors?: Array<{ text: string }> }).errors?.[0]?.text ?? (e as Error).message;
      log.warn(
        { file, err: why },
        `registerClass(${name}): its module cannot be bundled for the executors; its instances keep their class only where a shipped function imports it`,
      );
    }
  }
  ids = [...out];
  return ids;
}
