/**
 * Turns a stage the DAG machine decided to launch into task specs: the stage's plan (its narrow
 * closure of RDDs), encoded once, and per partition the parallelize() slices it reads and the executors
 * that cache its input. Reads lineage objects; decides nothing.
 */

import { encode } from '../common/serde.js';
import { type LineageNode, walkLineage } from '../plan/lineage.js';
import type { ResultOp, ShuffleDepSpec, StageBody, TaskBody } from '../plan/plan.js';
import { PLAN_VERSION } from '../plan/plan-version.js';
import type { MapLocation } from './map-outputs.js';
import type { TaskSpec } from './task-set-machine.js';

export type { LineageNode } from '../plan/lineage.js';

export interface StageLaunch {
  appId: string;
  jobId: number;
  stageId: number;
  attempt: number;
  rdd: LineageNode;
  kind: { resultOp?: ResultOp | undefined; shuffleDep?: ShuffleDepSpec | undefined };
  partitions: number[];
  mapLocations: Record<number, MapLocation[]>;
  /** bundles of the modules that registered classes (executors load them first) */
  classBundles?: string[] | undefined;
}

/** Every RDD computed inside one stage (narrow closure), root first. */
const stageNodes = (rdd: LineageNode): LineageNode[] => walkLineage(rdd, (r) => r.narrowParents());

export function buildTasks(l: StageLaunch, blockLocations: ReadonlyMap<string, ReadonlySet<string>>): TaskSpec[] {
  const body: StageBody = {
    planVersion: PLAN_VERSION,
    appId: l.appId,
    stageId: l.stageId,
    stageAttempt: l.attempt,
    jobId: l.jobId,
    nodes: stageNodes(l.rdd).map((n) => n.planNode()),
    rootId: l.rdd.id,
    shuffleDep: l.kind.shuffleDep,
    resultOp: l.kind.resultOp,
    mapLocations: l.mapLocations,
    ...(l.classBundles?.length ? { classBundles: l.classBundles } : {}),
  };
  const stageBytes = encode(body);
  return l.partitions.map((p) => {
    const { slices, preferred, localOnly } = taskInputs(l.rdd, p, blockLocations);
    const tb: TaskBody = { stage: stageBytes, partition: p, slices };
    return { partition: p, body: encode(tb), preferred, ...(localOnly ? { localOnly } : {}) };
  });
}

/** parallelize() slices and cached-block locations for partition p of a stage rooted at rdd. */
function taskInputs(
  rdd: LineageNode,
  p: number,
  blockLocations: ReadonlyMap<string, ReadonlySet<string>>,
): { slices: TaskBody['slices']; preferred: string[]; localOnly: boolean } {
  let slices: TaskBody['slices'];
  const preferred = new Set<string>();
  let localOnly = false;
  const seen = new Set<string>();
  const visit = (r: LineageNode, q: number) => {
    const key = `${r.id}:${q}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (r.storageLevel) {
      const locs = blockLocations.get(`rdd_${r.id}_${q}`);
      // inputs below are still shipped: the task may land elsewhere and recompute
      if (locs) for (const l of locs) preferred.add(l);
      // a block with no lineage behind it can be read only where it is
      if (r.cachedOnly && locs?.size) localOnly = true;
    }
    const s = r.slice(q);
    if (s) {
      slices ??= {};
      (slices[r.id] ??= {})[q] = s;
    }
    for (const [pr, pq] of r.narrowInputs(q)) visit(pr, pq);
  };
  visit(rdd, p);
  return { slices, preferred: [...preferred], localOnly };
}
