/**
 * What the UI and event log say about a job's stages (Spark's StageInfo / RDDInfo, small): for each
 * stage its RDDs (id, name, narrow parents, partitions, storage level) and its parent stages, walked
 * from the lineage once per job, only when a listener wants it. The user's call site of the action
 * (the first stack frame outside the engine) names the job, as Spark's callSite does.
 */
import { fileURLToPath } from 'node:url';
import type { LineageNode } from '../plan/lineage.js';
import type { PlanNode } from '../plan/plan.js';

export interface RddInfo {
  id: number;
  name: string;
  parentIds: number[];
  numPartitions: number;
  storageLevel: string | undefined;
  /** the user code line that created it, when known */
  callSite?: string | undefined;
}

export interface StageDescription {
  stageId: number;
  name: string;
  numTasks: number;
  parentIds: number[];
  rddInfos: RddInfo[];
  /** a shuffle map stage's shuffle id */
  shuffleId?: number | undefined;
}

function label(n: PlanNode, name: string | undefined): string {
  if (name) return name;
  switch (n.kind) {
    case 'narrow':
      return n.ops.map((o) => (o.op === 'builtin' ? o.name : o.op)).join(' → ') || 'narrow';
    case 'shuffled':
      return n.sort ? 'ShuffledRDD (sorted)' : 'ShuffledRDD';
    case 'text':
      return `textFile (${n.splits.length} splits)`;
    default:
      return n.kind;
  }
}

/** The name the user gave an RDD (setName; `name()` in the PySpark-style API), if any. */
function givenName(r: LineageNode): string | undefined {
  const n = (r as { name?: unknown }).name;
  const v = typeof n === 'function' ? (n as () => unknown).call(r) : n;
  return typeof v === 'string' && v ? v : undefined;
}

/** The RDDs computed inside one stage, from its last RDD back to its inputs and shuffle reads. */
export function stageRdds(rdd: LineageNode): RddInfo[] {
  const out: RddInfo[] = [];
  const seen = new Set<number>();
  const visit = (r: LineageNode) => {
    if (seen.has(r.id)) return;
    seen.add(r.id);
    const narrow = r.narrowParents();
    const shuffles = r.shuffleDeps();
    out.push({
      id: r.id,
      name: label(r.planNode(), givenName(r)),
      parentIds: [...narrow.map((p) => p.id), ...shuffles.map((d) => d.rdd.id)],
      numPartitions: r.numPartitions,
      storageLevel: r.storageLevel,
    });
    for (const p of narrow) visit(p);
  };
  visit(rdd);
  return out.sort((a, b) => a.id - b.id);
}

// the engine's modules: build/src/ and, when stacks are source-mapped, src/ beside it
const ENGINE_DIR = fileURLToPath(new URL('../', import.meta.url));
const ENGINE_DIRS = [ENGINE_DIR, fileURLToPath(new URL('../../../src/', import.meta.url))];

/** "file:line" of the first frame of `stack` outside the engine and Node's internals. */
export function userCallSite(stack: string | undefined): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?\s*$/.exec(line.trim());
    if (!m) continue;
    let file = m[1] as string;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || ENGINE_DIRS.some((d) => file.startsWith(d)) || file.includes('/node_modules/'))
      continue;
    const fn = /^at (?:async )?([^\s(]+) \(/.exec(line.trim())?.[1];
    return `${fn ? `${fn} at ` : ''}${file}:${m[2]}`;
  }
  return undefined;
}
