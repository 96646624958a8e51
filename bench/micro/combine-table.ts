/**
 * Micro-benchmark (not a test): reduceByKey's map-side table (src/shuffle/combine-table.ts) folding
 * [string, number] records and draining them, warm (after 20 rounds), as ns per record and per key.
 * The jsongroup shape (18.5k purchases of 100k users per 15 MiB task: most keys new) and the
 * wordcount shape (few keys, many repeats).
 * Usage: node scripts/build.mjs && node build/bench/micro/combine-table.js
 */
import { StringNumberCombineTable } from '../../src/shuffle/combine-table.js';

let seed = 3;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const shapes: Record<string, [string, number][]> = {
  'jsongroup-like (18.5k records of 100k users)': Array.from({ length: 18_500 }, (_, i) => [
    `u${String(Math.floor(rnd() * 100_000)).padStart(7, '0')}`,
    i % 1000,
  ]),
  'wordcount (100k records, 1k keys)': Array.from({ length: 100_000 }, (_, i) => [`w${(i * 7919) % 1000}`, 1]),
};

const add = (a: number, b: number) => a + b;
for (const [name, records] of Object.entries(shapes)) {
  let mergeMs = 0;
  let visitMs = 0;
  let keys = 0;
  const rounds = 60;
  for (let r = 0; r < rounds; r++) {
    const t = new StringNumberCombineTable(add);
    const t0 = performance.now();
    for (const [k, v] of records) t.merge(k, v);
    const t1 = performance.now();
    let n = 0;
    t.visit(() => {
      n++;
    });
    const t2 = performance.now();
    if (r >= 20) {
      mergeMs += t1 - t0;
      visitMs += t2 - t1;
    }
    keys = n;
  }
  const warm = rounds - 20;
  console.log(
    `${name.padEnd(40)} merge ${((mergeMs * 1e6) / warm / records.length).toFixed(0).padStart(4)} ns/record` +
      `  drain ${((visitMs * 1e6) / warm / keys).toFixed(0).padStart(4)} ns/key (${keys} keys)`,
  );
}
