/**
 * The single-threaded hand baseline of one user-function case: its loop over every part file of a
 * directory, one process, the answer line on stdout.
 *
 * Owns: the command line of the `<case>-hand.js` scripts. Must not: use Cinder.
 */
import { listParts } from './lines.js';
import { LOOPS, type LoopName } from './user-fn-loops.js';

export async function handMain(name: LoopName): Promise<void> {
  const [dir] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write(`usage: ${name}-hand.js <dir>\n`);
    process.exit(2);
  }
  const loop = LOOPS[name] as (typeof LOOPS)['jsongroup'];
  process.stdout.write(`${loop.answer(await loop.run(listParts(dir)))}\n`);
}
