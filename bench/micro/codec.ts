/**
 * Micro-benchmark of the record batch codec: msgpack (src/common/serde.ts) against the column format
 * (src/storage/record-codec.ts) on 4096-record batches of the shuffle's common shapes.
 * Run: node build/bench/micro/codec.js
 */
import { decode, encode } from '../../src/common/serde.js';
import { decodeBatch, encodeBatch } from '../../src/storage/record-codec.js';

const N = 4096;
const REPS = 300;
const shapes: Record<string, unknown[]> = {
  'string/int (wordcount, groupby)': Array.from({ length: N }, (_, i) => [`k${(i * 7919) % 1000000}`, (i * 31) % 1000]),
  'string/string (sortBy key, line)': Array.from({ length: N }, (_, i) => [
    `${(i * 7919) % 1000000}`.padStart(10, '0'),
    `${(i * 7919) % 1000000}`.padStart(10, '0') + ',payload-of-some-length-'.repeat(3),
  ]),
};

function nsPerRecord(f: () => unknown): number {
  const t = performance.now();
  for (let i = 0; i < REPS; i++) f();
  return ((performance.now() - t) * 1e6) / (REPS * N);
}

for (const [name, batch] of Object.entries(shapes)) {
  for (let rep = 0; rep < 3; rep++) {
    const m = encode(batch);
    const c = encodeBatch(batch);
    console.log(
      `${name}: msgpack enc ${nsPerRecord(() => encode(batch)).toFixed(0)} / dec ${nsPerRecord(() => decode(m)).toFixed(0)} ns/record, ${m.length} B;` +
        ` columns enc ${nsPerRecord(() => encodeBatch(batch)).toFixed(0)} / dec ${nsPerRecord(() => decodeBatch(c)).toFixed(0)} ns/record, ${c.length} B`,
    );
  }
}
