/**
 * WORDFREQ, hand-written single-threaded baseline of bench/workloads.ts `wordfreq`: every word
 * case-folded and stripped with the same regex, words of 3+ characters counted in a Map, the top 25 by
 * count (then word), and the line count. Prints the same answer line: lines=N top25=w:n,...
 * usage: node build/bench/hand/wordfreq-hand.js <textdir>
 */
import { eachLine } from './lines.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: wordfreq-hand.js <textdir>\n');
  process.exit(2);
}
const counts = new Map<string, number>();
let lines = 0;
await eachLine(dir, (line) => {
  lines++;
  for (const raw of line.split(' ')) {
    const w = raw.toLowerCase().replace(/[^a-z0-9]+/g, '');
    if (w.length > 2) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
});
const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, 25);
process.stdout.write(`lines=${lines} top25=${top.map(([w, n]) => `${w}:${n}`).join(',')}\n`);
