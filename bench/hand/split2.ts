/**
 * The two-process floor of a user-function case (issue 18): what any engine could reach on 2 cores.
 * A parent starts two node children; each runs the hand baseline's own loop (user-fn-loops.ts) over every
 * other part file and sends its state back as JSON; the parent merges the two and prints the same answer
 * line. No scheduling, no shuffle, no serialization beyond the one merge: Cinder's overhead is what its
 * wall time adds to this one's.
 * usage: node build/bench/hand/split2.js <wordfreq|jsongroup|cpumap> <dir>
 *
 * Owns: splitting a loop's files over two processes. Must not: use Cinder.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listParts } from './lines.js';
import { isLoopName, LOOPS } from './user-fn-loops.js';

const [name, dir, half] = process.argv.slice(2);
if (!isLoopName(name) || !dir) {
  process.stderr.write(`usage: split2.js <${Object.keys(LOOPS).join('|')}> <dir>\n`);
  process.exit(2);
}
const loop = LOOPS[name] as (typeof LOOPS)['jsongroup'];

function child(h: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [fileURLToPath(import.meta.url), name!, dir!, String(h)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.on('error', reject);
    c.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(Buffer.concat(out).toString('utf8'))) : reject(new Error(`child ${h}: ${code}`)),
    );
  });
}

if (half === undefined) {
  const [a, b] = await Promise.all([child(0), child(1)]);
  process.stdout.write(`${loop.answer(loop.merge(loop.unpack(a), loop.unpack(b)))}\n`);
} else {
  const files = listParts(dir).filter((_, i) => i % 2 === Number(half));
  process.stdout.write(JSON.stringify(loop.pack(await loop.run(files))));
}
