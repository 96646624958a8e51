/**
 * The single-threaded loops of the user-function cases (issue 18), each as run / merge / answer so that
 * the hand baseline (`<case>-hand.ts`: one run over every part file) and the two-process floor
 * (`split2.ts`: two runs over half the files each, merged) do exactly the same per-line work.
 *
 * Owns: the per-line work and the answer line of wordfreq, jsongroup and cpumap without Cinder.
 * Must not: use Cinder (baselines are engine-free) or time anything.
 */
import { eachLineOf } from './lines.js';

/** A loop whose state crosses a process boundary as JSON. */
export interface Loop<S> {
  run(files: readonly string[]): Promise<S>;
  /** the state as JSON-able data, and back */
  pack(s: S): unknown;
  unpack(j: unknown): S;
  merge(a: S, b: S): S;
  answer(s: S): string;
}

const P = 1000000007; // GROUPBY checksum modulus of ../shared/bench/common.mjs

function addAll(into: Map<string, number>, from: Map<string, number>): Map<string, number> {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
  return into;
}

/** WORDFREQ: words case-folded and stripped, 3+ characters counted; top 25 by count then word; lines. */
const wordfreq: Loop<{ lines: number; counts: Map<string, number> }> = {
  async run(files) {
    const counts = new Map<string, number>();
    let lines = 0;
    await eachLineOf(files, (line) => {
      lines++;
      for (const raw of line.split(' ')) {
        const w = raw.toLowerCase().replace(/[^a-z0-9]+/g, '');
        if (w.length > 2) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    });
    return { lines, counts };
  },
  pack: (s) => ({ lines: s.lines, counts: [...s.counts] }),
  unpack: (j) => {
    const o = j as { lines: number; counts: [string, number][] };
    return { lines: o.lines, counts: new Map(o.counts) };
  },
  merge: (a, b) => ({ lines: a.lines + b.lines, counts: addAll(a.counts, b.counts) }),
  answer(s) {
    const top = [...s.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, 25);
    return `lines=${s.lines} top25=${top.map(([w, n]) => `${w}:${n}`).join(',')}`;
  },
};

/** JSONGROUP: every line JSON.parse'd, purchase amounts summed per user; the GROUPBY checksum. */
const jsongroup: Loop<Map<string, number>> = {
  async run(files) {
    const sums = new Map<string, number>();
    await eachLineOf(files, (line) => {
      const o = JSON.parse(line) as { user: string; event: string; amount: number };
      if (o.event === 'purchase') sums.set(o.user, (sums.get(o.user) ?? 0) + o.amount);
    });
    return sums;
  },
  pack: (s) => [...s],
  unpack: (j) => new Map(j as [string, number][]),
  merge: addAll,
  answer(sums) {
    let total = 0;
    let sq = 0;
    for (const s of sums.values()) {
      total += s;
      sq = (sq + ((s * s) % P)) % P;
    }
    return `keys=${sums.size} total=${total} sumsq_mod=${sq}`;
  },
};

interface Steps {
  rows: number;
  steps: number;
  max: number;
}

/** CPUMAP: each kv row's key id + value + 1 through the Collatz iteration; steps summed and maxed. */
const cpumap: Loop<Steps> = {
  async run(files) {
    let rows = 0;
    let steps = 0;
    let max = 0;
    await eachLineOf(files, (line) => {
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
    return { rows, steps, max };
  },
  pack: (s) => s,
  unpack: (j) => j as Steps,
  merge: (a, b) => ({ rows: a.rows + b.rows, steps: a.steps + b.steps, max: Math.max(a.max, b.max) }),
  answer: (s) => `rows=${s.rows} steps=${s.steps} max=${s.max}`,
};

export const LOOPS = { wordfreq, jsongroup, cpumap } as const;
export type LoopName = keyof typeof LOOPS;

export function isLoopName(s: string | undefined): s is LoopName {
  return s !== undefined && Object.hasOwn(LOOPS, s);
}
