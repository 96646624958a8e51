/**
 * The lineage graph as the schedulers see it: what the DAG scheduler needs from an RDD (implemented by
 * src/api/rdd.ts), and the one walk over it that every caller uses.
 */
import type { PlanNode, ShuffleDepSpec } from './plan.js';

/** What the schedulers need from an RDD (an engine interface, not in the API reference). */
export interface LineageNode {
  readonly id: number;
  readonly numPartitions: number;
  readonly storageLevel: string | undefined;
  /** true when the partitions exist only as cached blocks (localCheckpoint cut the lineage): a task that
   * reads one must run where it is */
  readonly cachedOnly?: boolean;
  planNode(): PlanNode;
  /** RDDs read through narrow dependencies, with the parent partitions partition p reads */
  narrowInputs(p: number): Array<[LineageNode, number]>;
  narrowParents(): LineageNode[];
  shuffleDeps(): Array<{ spec: ShuffleDepSpec; rdd: LineageNode }>;
  /** parallelize() data of partition p, if this is a parallel collection */
  slice(p: number): unknown[] | undefined;
}

/**
 * Every node reachable from root through parentsOf, each once, root first (depth-first pre-order).
 * Iterative, so a lineage thousands of transformations deep does not overflow the stack.
 */
export function walkLineage<N extends { readonly id: number }>(root: N, parentsOf: (n: N) => Iterable<N>): N[] {
  const out: N[] = [];
  const seen = new Set<number>();
  const stack: N[] = [root];
  while (stack.length > 0) {
    const n = stack.pop() as N;
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    out.push(n);
    const ps = [...parentsOf(n)];
    for (let i = ps.length - 1; i >= 0; i--) stack.push(ps[i] as N);
  }
  return out;
}
