/**
 * JSONGROUP, hand-written single-threaded baseline of bench/workloads.ts `jsongroup`: every line
 * JSON.parse'd, purchases kept, amounts summed per user in a Map; prints the same answer line as the
 * GROUPBY checksum: keys=K total=T sumsq_mod=S.
 * usage: node build/bench/hand/jsongroup-hand.js <jsondir>
 */
import { eachLine } from './lines.js';

const P = 1000000007;
const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: jsongroup-hand.js <jsondir>\n');
  process.exit(2);
}
const sums = new Map<string, number>();
await eachLine(dir, (line) => {
  const o = JSON.parse(line) as { user: string; event: string; amount: number };
  if (o.event === 'purchase') sums.set(o.user, (sums.get(o.user) ?? 0) + o.amount);
});
let total = 0;
let sq = 0;
for (const s of sums.values()) {
  total += s;
  sq = (sq + ((s * s) % P)) % P;
}
process.stdout.write(`keys=${sums.size} total=${total} sumsq_mod=${sq}\n`);
