/**
 * JOIN, hand-written single-threaded baseline: load table A ("key,value", ~1M keys) into a Map,
 * stream table B (10M rows) and look every row up (an inner hash join), then print the checksum
 * line that bench/workloads.ts `join` prints: pairs=N sumvw=S keymix_mod=M.
 * usage: node build/bench/hand/join-hand.js <kvdirA> <kvdirB>
 */
import { eachLine } from './lines.js';

const P = 1000000007;
const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) {
  process.stderr.write('usage: join-hand.js <kvdirA> <kvdirB>\n');
  process.exit(2);
}
const a = new Map<string, number | number[]>();
await eachLine(dirA, (line) => {
  const i = line.indexOf(',');
  const k = line.slice(0, i);
  const v = Number(line.slice(i + 1));
  const old = a.get(k);
  if (old === undefined) a.set(k, v);
  else if (typeof old === 'number') a.set(k, [old, v]);
  else old.push(v);
});
let pairs = 0;
let sumvw = 0;
let mix = 0;
await eachLine(dirB, (line) => {
  const i = line.indexOf(',');
  const k = line.slice(0, i);
  const hit = a.get(k);
  if (hit === undefined) return;
  const w = Number(line.slice(i + 1));
  const id = Number(k.slice(1));
  for (const v of typeof hit === 'number' ? [hit] : hit) {
    pairs++;
    sumvw += v * w;
    mix = (mix + ((id * (v * 10007 + w)) % P)) % P;
  }
});
console.log(`pairs=${pairs} sumvw=${sumvw} keymix_mod=${mix}`);
