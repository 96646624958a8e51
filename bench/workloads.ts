/**
 * The benchmark workloads written with Cinder's public API, the way a user would write them. Each
 * returns the same answer line as its baseline (../shared/bench/*-hand.mjs or bench/hand/*), so the
 * suite can check Cinder's result against the baseline's.
 *
 * Owns: the user code of each workload. Must not: time whole processes or read engine internals
 * (bench/job.ts samples executor memory; bench/suite.ts compares answers).
 */
import type { CinderContext, RDD } from '../src/index.js';

export interface WorkloadResult {
  /** one line, identical to the baseline's answer (or self-checked when there is no baseline) */
  answer: string;
  /** extra figures (pass times, tasks/s, ...) */
  extra?: Record<string, number | string | number[]>;
}

export type Workload = (sc: CinderContext, p: Record<string, string>) => Promise<WorkloadResult>;

const P = 1000000007; // GROUPBY checksum modulus of ../shared/bench/common.mjs

function top10(entries: [string, number][]): [string, number][] {
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return entries.slice(0, 10);
}

/** WORDCOUNT: words=N distinct=D top10=w:n,... */
export const wordcount: Workload = async (sc, p) => {
  const counts = await sc
    .textFile(p.input!)
    .flatMap((line) => line.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .collect();
  let total = 0;
  for (const [, n] of counts) total += n;
  const top = top10(counts);
  return { answer: `words=${total} distinct=${counts.length} top10=${top.map(([w, n]) => `${w}:${n}`).join(',')}` };
};

/**
 * WORDFREQ (issue 18): the user's own per-record functions dominate: each word is case-folded and
 * stripped with a regex, short words dropped, counted with reduceByKey, the top 25 taken with takeOrdered,
 * then the lines counted in a second job. lines=N top25=w:n,...
 */
export const wordfreq: Workload = async (sc, p) => {
  const text = sc.textFile(p.input!);
  const top = await text
    .flatMap((line) => line.split(' '))
    .map((w) => w.toLowerCase().replace(/[^a-z0-9]+/g, ''))
    .filter((w) => w.length > 2)
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .takeOrdered(25, (kv) => [-kv[1], kv[0]]);
  const lines = await text.count();
  return { answer: `lines=${lines} top25=${top.map(([w, n]) => `${w}:${n}`).join(',')}` };
};

/**
 * JSONGROUP (issue 18): every line JSON.parse'd, purchases kept, amounts summed per user
 * (reduceByKey), answered with the GROUPBY checksum: keys=K total=T sumsq_mod=S.
 */
export const jsongroup: Workload = async (sc, p) => {
  const sums = sc
    .textFile(p.input!)
    .map((line) => JSON.parse(line) as { user: string; event: string; amount: number })
    .filter((o) => o.event === 'purchase')
    .map((o) => [o.user, o.amount] as [string, number])
    .reduceByKey((a, b) => a + b);
  return { answer: await groupbyAnswer(sums) };
};

/**
 * CPUMAP (issue 18): a CPU-heavy map: each kv row's (key id mod 100000) + value + 1 is run
 * through the Collatz iteration (~108 steps of integer arithmetic per row, ~0.45 µs), and the step counts are summed:
 * rows=N steps=S max=M.
 */
export const cpumap: Workload = async (sc, p) => {
  const [rows, steps, max] = await sc
    .textFile(p.input!)
    .map((line) => {
      const i = line.indexOf(',');
      let n = (Number(line.slice(1, i)) % 100000) + Number(line.slice(i + 1)) + 1;
      let k = 0;
      while (n !== 1) {
        n = (n & 1) === 0 ? n >>> 1 : 3 * n + 1; // stays below 2^31 for n <= 110000
        k++;
      }
      return k;
    })
    .map((k) => [1, k, k] as [number, number, number])
    .fold([0, 0, 0] as [number, number, number], (a, b) => [a[0] + b[0], a[1] + b[1], Math.max(a[2], b[2])]);
  return { answer: `rows=${rows} steps=${steps} max=${max}` };
};

function parseKv(line: string): [string, number] {
  const i = line.indexOf(',');
  return [line.slice(0, i), Number(line.slice(i + 1))];
}

/** Checksum of per-key sums, computed on the executors: keys, total, sum of s^2 mod P. */
async function groupbyAnswer(sums: RDD<[string, number]>): Promise<string> {
  const [keys, total, sq] = await sums
    .map((kv) => [1, kv[1], (kv[1] * kv[1]) % P] as [number, number, number], { P })
    .fold([0, 0, 0], (a, b) => [a[0] + b[0], a[1] + b[1], (a[2] + b[2]) % P], { P });
  return `keys=${keys} total=${total} sumsq_mod=${sq}`;
}

/** GROUPBY: sum of values per key (reduceByKey); keys=K total=T sumsq_mod=S */
export const groupby: Workload = async (sc, p) => {
  const sums = sc
    .textFile(p.input!)
    .map(parseKv)
    .reduceByKey((a, b) => a + b);
  return { answer: await groupbyAnswer(sums) };
};

/** SPILL groupByKey: the same answer as GROUPBY, but every value list is materialized. */
export const groupbykey: Workload = async (sc, p) => {
  const sums = sc
    .textFile(p.input!)
    .map(parseKv)
    .groupByKey()
    .mapValues((vs) => {
      let s = 0;
      for (const v of vs) s += v;
      return s;
    });
  return { answer: await groupbyAnswer(sums) };
};

/** SORT: lines sorted by their 10-char key, written with saveAsTextFile; the suite verifies the files. */
export const sort: Workload = async (sc, p) => {
  await sc
    .textFile(p.input!)
    .sortBy((line) => line.slice(0, 10))
    .saveAsTextFile(p.output!, null, true);
  return { answer: 'saved' };
};

/** JOIN of a 1M-key table with a 10M-row table: pairs=N sumvw=S keymix_mod=M (same as bench/hand/join-hand). */
export const join: Workload = async (sc, p) => {
  const a = sc.textFile(p.inputA!).map(parseKv);
  const b = sc.textFile(p.inputB!).map(parseKv);
  const [pairs, sumvw, mix] = await a
    .join(b)
    .map(
      (kv) => {
        const id = Number(kv[0].slice(1));
        const v = kv[1][0];
        const w = kv[1][1];
        return [1, v * w, (id * (v * 10007 + w)) % P] as [number, number, number];
      },
      { P },
    )
    .fold([0, 0, 0] as [number, number, number], (x, y) => [x[0] + y[0], x[1] + y[1], (x[2] + y[2]) % P], { P });
  return { answer: `pairs=${pairs} sumvw=${sumvw} keymix_mod=${mix}` };
};

/** K-MEANS (k=8, 2-D integer points from kv rows: x = key id mod 10000, y = value), `passes` passes over a cached RDD. */
export const kmeans: Workload = async (sc, p) => {
  const passes = Number(p.passes ?? 10);
  const points = sc
    .textFile(p.input!)
    .map((line) => {
      const i = line.indexOf(',');
      return [Number(line.slice(1, i)) % 10000, Number(line.slice(i + 1))] as [number, number];
    })
    .cache();
  let centers = initialCenters();
  const times: number[] = [];
  let counts: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const t0 = performance.now();
    const stats = await points
      .map(
        (pt) => {
          let best = 0;
          let bestD = Number.POSITIVE_INFINITY;
          for (let j = 0; j < centers.length; j++) {
            const dx = pt[0] - centers[j]![0];
            const dy = pt[1] - centers[j]![1];
            const d = dx * dx + dy * dy;
            if (d < bestD) {
              bestD = d;
              best = j;
            }
          }
          return [best, [pt[0], pt[1], 1]] as [number, [number, number, number]];
        },
        { centers },
      )
      .reduceByKey((a, b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]] as [number, number, number])
      .collect();
    const next = centers.map((c) => [c[0], c[1]] as [number, number]);
    counts = centers.map(() => 0);
    for (const [j, [sx, sy, n]] of stats) {
      next[j] = [sx / n, sy / n];
      counts[j] = n;
    }
    centers = next;
    times.push((performance.now() - t0) / 1000);
  }
  points.unpersist();
  const later = times.slice(1).sort((a, b) => a - b);
  const laterMedian = later.length ? later[Math.floor(later.length / 2)]! : Number.NaN;
  return {
    answer: kmeansAnswer(centers, counts),
    extra: {
      passSeconds: times.map((t) => Number(t.toFixed(3))),
      firstPass: times[0]!,
      laterMedian,
      speedup: times[0]! / laterMedian,
    },
  };
};

/** Shared with bench/hand/kmeans-hand.ts: 8 centers on the diagonal. */
export function initialCenters(): [number, number][] {
  return Array.from({ length: 8 }, (_, i) => [i * 1250 + 625, i * 1250 + 625] as [number, number]);
}
export function kmeansAnswer(centers: [number, number][], counts: number[]): string {
  return `centers=${centers.map((c, i) => `${c[0].toFixed(3)}:${c[1].toFixed(3)}/${counts[i]}`).join(',')}`;
}

/** SCHEDULER: `tasks` near-empty tasks (one element each) in one stage. */
export const schedEmpty: Workload = async (sc, p) => {
  const n = Number(p.tasks ?? 10000);
  const t0 = performance.now();
  const c = await sc.range(0, n, 1, n).count();
  const s = (performance.now() - t0) / 1000;
  return { answer: `count=${c} expected=${n}`, extra: { jobSeconds: s, tasksPerSecond: n / s } };
};

/** SCHEDULER: a chain of `stages` small shuffle stages (2 tasks each) and a final result stage. */
export const schedChain: Workload = async (sc, p) => {
  const stages = Number(p.stages ?? 200);
  let rdd = sc.parallelize(
    Array.from({ length: 1000 }, (_, i) => [i % 10, i] as [number, number]),
    2,
  );
  for (let i = 0; i < stages; i++)
    rdd = rdd.reduceByKey((a, b) => a + b, 2).map((kv) => [(kv[0] + 1) % 10, kv[1]] as [number, number]);
  const t0 = performance.now();
  const total = await rdd.values().sum();
  const s = (performance.now() - t0) / 1000;
  const tasks = 2 * (stages + 1);
  return {
    answer: `sum=${total} expected=499500`,
    extra: { jobSeconds: s, stagesPerSecond: (stages + 1) / s, tasksPerSecond: tasks / s },
  };
};

/**
 * Warm executors (issue 18): one long-lived context runs `jobs` small two-stage jobs in a row
 * (parallelize 1,000 pairs in 2 slices -> reduceByKey into 2 partitions -> collect), after one warm-up
 * job, against a plain loop doing the same work in this process. jobs=N expected=N when every job's
 * answer is right.
 */
export const warmJobs: Workload = async (sc, p) => {
  const jobs = Number(p.jobs ?? 200);
  const data = Array.from({ length: 1000 }, (_, i) => [i % 10, i] as [number, number]);
  const expected = new Map<number, number>();
  for (const [k, v] of data) expected.set(k, (expected.get(k) ?? 0) + v);
  const one = async () => {
    const out = await sc
      .parallelize(data, 2)
      .reduceByKey((a, b) => a + b, 2)
      .collect();
    return out.length === expected.size && out.every(([k, v]) => expected.get(k) === v);
  };
  await one(); // executors' first use of the code
  let good = 0;
  const t0 = performance.now();
  for (let j = 0; j < jobs; j++) if (await one()) good++;
  const s = (performance.now() - t0) / 1000;
  // the same work as a plain loop (group by key, sum), repeated until it has run for 0.2 s
  let loops = 0;
  const l0 = performance.now();
  while (performance.now() - l0 < 200) {
    const m = new Map<number, number>();
    for (const [k, v] of data) m.set(k, (m.get(k) ?? 0) + v);
    if (m.size === expected.size) loops++;
  }
  const loopPerSecond = loops / ((performance.now() - l0) / 1000);
  return {
    answer: `jobs=${good} expected=${jobs}`,
    extra: { jobSeconds: s, jobsPerSecond: jobs / s, msPerJob: (s * 1000) / jobs, loopJobsPerSecond: loopPerSecond },
  };
};

export const WORKLOADS: Record<string, Workload> = {
  warmJobs,
  wordcount,
  wordfreq,
  jsongroup,
  cpumap,
  groupby,
  groupbykey,
  sort,
  join,
  kmeans,
  schedEmpty,
  schedChain,
};
