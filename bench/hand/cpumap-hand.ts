/**
 * CPUMAP, hand-written single-threaded baseline of bench/workloads.ts `cpumap`: each kv row's key id +
 * value + 1 run through the Collatz iteration, step counts summed and maxed. Prints the same answer
 * line: rows=N steps=S max=M.
 * usage: node build/bench/hand/cpumap-hand.js <kvdir>
 */
import { eachLine } from './lines.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: cpumap-hand.js <kvdir>\n');
  process.exit(2);
}
let rows = 0;
let steps = 0;
let max = 0;
await eachLine(dir, (line) => {
  const i = line.indexOf(',');
  let n = (Number(line.slice(1, i)) % 100000) + Number(line.slice(i + 1)) + 1;
  let k = 0;
  while (n !== 1) {
    n = (n & 1) === 0 ? n >>> 1 : 3 * n + 1; // stays below 2^31 for n <= 110000
    k++;
  }
  rows++;
  steps += k;
  if (k > max) max = k;
});
process.stdout.write(`rows=${rows} steps=${steps} max=${max}\n`);
