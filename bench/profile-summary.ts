/**
 * Summarizes V8 .cpuprofile files (from `node --cpu-prof`, or NODE_OPTIONS="--cpu-prof
 * --cpu-prof-dir=DIR" for executors): self time per function and per category (user code,
 * serialization, shuffle, I/O, GC, idle, ...) for each profile.
 *   node build/bench/profile-summary.js DIR_OR_FILE... [--top 25]
 *
 * Owns: reading profiles. Must not: run benchmarks.
 */
import fs from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const CATEGORIES: [string, RegExp][] = [
  ['idle', /^\(idle\)$/],
  ['gc', /^\(garbage collector\)$/],
  ['program/native', /^\(program\)$/],
  ['serde (msgpackr)', /msgpackr/],
  ['shuffle', /\/src\/shuffle\//],
  ['storage', /\/src\/storage\//],
  ['io (text reader, output)', /\/src\/io\//],
  ['executor engine', /\/src\/executor\//],
  ['scheduler', /\/src\/scheduler\//],
  ['rpc', /\/src\/(rpc|protocol)\//],
  ['api/closure', /\/src\/api\//],
  ['user code (shipped fns)', /^(data:|cinder-fn)|\/code\/|evalmachine/],
  ['node internals', /^node:/],
  ['zod', /zod/],
  ['pino', /pino/],
];

function category(url: string, fn: string): string {
  if (fn === 'dispatch' && !url) return 'profiler checkpoints (cpu-prof.ts)';
  if (fn.startsWith('(')) {
    for (const [c, re] of CATEGORIES) if (re.test(fn)) return c;
  }
  for (const [c, re] of CATEGORIES) if (!c.startsWith('idle') && re.test(url)) return c;
  return url
    ? `other: ${url.replace(/^.*node_modules\//, '').split('/')[0]}`
    : 'native (syscalls, postMessage, builtins)';
}

/** Self time per function and category over one or more profiles of the same thread. */
export function summarize(files: string[], top = 25, title = path.basename(files[0] ?? '')): string {
  const fns = new Map<string, number>();
  const cats = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    for (let i = 0; i < p.samples.length; i++)
      self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
    for (const [id, us] of self) {
      total += us;
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      const key = `${functionName || '(anonymous)'} ${url.replace(/^file:\/\/.*\/(build|node_modules)\//, '$1/')}:${lineNumber + 1}`;
      fns.set(key, (fns.get(key) ?? 0) + us);
      const c = category(url, functionName);
      cats.set(c, (cats.get(c) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`== ${title} (${files.length} file(s)): ${(total / 1e6).toFixed(2)} s sampled`];
  lines.push('  by category:');
  for (const [c, us] of [...cats].sort((a, b) => b[1] - a[1]).slice(0, 14))
    lines.push(`   ${pct(us)} ${(us / 1e6).toFixed(2).padStart(7)} s  ${c}`);
  lines.push('  top functions (self time):');
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`   ${pct(us)} ${k}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 25;
  const files = args.flatMap((a) =>
    fs.statSync(a).isDirectory()
      ? fs
          .readdirSync(a)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => path.join(a, f))
      : [a],
  );
  // files of one thread (<pid>-<thread>-<n>.cpuprofile from cpu-prof.ts) are summed
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const m = /^(\d+-(?:main|t\d+))-\d+\.cpuprofile$/.exec(path.basename(f));
    const k = m ? m[1]! : path.basename(f);
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  for (const [k, fs_] of groups) console.log(summarize(fs_, top, k));
}
