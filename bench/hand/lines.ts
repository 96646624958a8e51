/**
 * Line reading for the hand-written baselines: the part files of a gen-data.mjs directory, read in
 * 1 MiB latin1 chunks and cut at '\n' (the same loop as ../shared/bench/groupby-hand.mjs).
 *
 * Owns: plain single-threaded file reading. Must not: use Cinder (baselines are engine-free).
 */
import fs from 'node:fs';
import path from 'node:path';

export function listParts(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Calls onLine for every line of every part file of dir. */
export async function eachLine(dir: string, onLine: (line: string) => void): Promise<void> {
  await eachLineOf(listParts(dir), onLine);
}

/** Calls onLine for every line of the given files, in order. */
export async function eachLineOf(files: readonly string[], onLine: (line: string) => void): Promise<void> {
  for (const file of files) {
    let tail = '';
    for await (const chunk of fs.createReadStream(file, { encoding: 'latin1', highWaterMark: 1 << 20 })) {
      const lines = (tail + chunk).split('\n');
      tail = lines.pop()!;
      for (const line of lines) onLine(line);
    }
    if (tail) onLine(tail);
  }
}
