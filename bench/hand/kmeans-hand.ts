/**
 * K-MEANS, hand-written single-threaded baseline for bench/workloads.ts `kmeans`: parse the points
 * once into two Float64Arrays, then run the same passes (k=8, same start, ties to the lower index,
 * empty clusters keep their center) and print the same answer line. Reports pass times on stderr
 * and as `BENCH_METRICS {json}` on stdout.
 * usage: node build/bench/hand/kmeans-hand.js <kvdir> [passes=10]
 */
import { initialCenters, kmeansAnswer } from '../workloads.js';
import { eachLine } from './lines.js';

const dir = process.argv[2];
const passes = Number(process.argv[3] ?? 10);
if (!dir) {
  process.stderr.write('usage: kmeans-hand.js <kvdir> [passes]\n');
  process.exit(2);
}
const t0 = performance.now();
let xs = new Float64Array(1 << 20);
let ys = new Float64Array(1 << 20);
let n = 0;
await eachLine(dir, (line) => {
  if (n === xs.length) {
    const nx = new Float64Array(n * 2);
    nx.set(xs);
    xs = nx;
    const ny = new Float64Array(n * 2);
    ny.set(ys);
    ys = ny;
  }
  const i = line.indexOf(',');
  xs[n] = Number(line.slice(1, i)) % 10000;
  ys[n] = Number(line.slice(i + 1));
  n++;
});
const tLoad = performance.now();
let centers = initialCenters();
let counts: number[] = [];
const times: number[] = [];
for (let pass = 0; pass < passes; pass++) {
  const t = performance.now();
  const k = centers.length;
  const sx = new Float64Array(k);
  const sy = new Float64Array(k);
  const cnt = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      const dx = x - centers[j]![0];
      const dy = y - centers[j]![1];
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    }
    sx[best]! += x;
    sy[best]! += y;
    cnt[best]!++;
  }
  counts = Array.from(cnt);
  centers = centers.map((c, j) => (cnt[j]! > 0 ? [sx[j]! / cnt[j]!, sy[j]! / cnt[j]!] : c) as [number, number]);
  times.push((performance.now() - t) / 1000);
}
console.log(kmeansAnswer(centers, counts));
const later = times.slice(1).sort((a, b) => a - b);
const laterMedian = later[Math.floor(later.length / 2)] ?? Number.NaN;
const firstPass = (tLoad - t0) / 1000 + times[0]!;
console.log(
  `BENCH_METRICS ${JSON.stringify({ jobSeconds: (performance.now() - t0) / 1000, firstPass, laterMedian, speedup: firstPass / laterMedian })}`,
);
