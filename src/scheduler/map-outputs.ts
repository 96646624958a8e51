/**
 * The map-output registry: for every shuffle, which map outputs exist and on which executor. It is the
 * one place that decides what is missing: a shuffle map stage is available when its registry entry is
 * complete, and a stage may launch only when every shuffle it reads is complete (dag-machine.ts).
 * Pure data, no I/O; the DAG machine updates it in place inside its transitions.
 */

export interface MapStatus {
  executorId: string;
  host: string;
  port: number;
  /** bytes per reduce partition */
  sizes: number[];
}

export interface MapLocation {
  mapIndex: number;
  executorId: string;
  host: string;
  port: number;
}

interface ShuffleOutputs {
  readonly outputs: Array<MapStatus | undefined>;
  present: number;
}

export class MapOutputRegistry {
  private readonly shuffles = new Map<number, ShuffleOutputs>();

  /** Starts tracking a shuffle with `numMaps` map outputs, none present. */
  add(shuffleId: number, numMaps: number): void {
    if (!this.shuffles.has(shuffleId))
      this.shuffles.set(shuffleId, { outputs: new Array<MapStatus | undefined>(numMaps).fill(undefined), present: 0 });
  }

  has(shuffleId: number): boolean {
    return this.shuffles.has(shuffleId);
  }

  remove(shuffleId: number): void {
    this.shuffles.delete(shuffleId);
  }

  shuffleIds(): IterableIterator<number> {
    return this.shuffles.keys();
  }

  register(shuffleId: number, mapIndex: number, status: MapStatus): void {
    const s = this.shuffles.get(shuffleId);
    if (!s || mapIndex < 0 || mapIndex >= s.outputs.length) return;
    if (!s.outputs[mapIndex]) s.present++;
    s.outputs[mapIndex] = status;
  }

  /** Forgets one output (only if it is on `executorId`, when given: a newer copy elsewhere stays); true if it was present. */
  unregister(shuffleId: number, mapIndex: number, executorId?: string): boolean {
    const s = this.shuffles.get(shuffleId);
    const o = s?.outputs[mapIndex];
    if (!s || !o || (executorId !== undefined && o.executorId !== executorId)) return false;
    s.outputs[mapIndex] = undefined;
    s.present--;
    return true;
  }

  /** Forgets every output stored on `executorId`; returns the shuffles that lost at least one. */
  removeExecutor(executorId: string): number[] {
    const hit: number[] = [];
    for (const [id, s] of this.shuffles) {
      let lost = false;
      for (let i = 0; i < s.outputs.length; i++)
        if (s.outputs[i]?.executorId === executorId) {
          s.outputs[i] = undefined;
          s.present--;
          lost = true;
        }
      if (lost) hit.push(id);
    }
    return hit;
  }

  /** True when every map output of the shuffle is present (false for an unknown shuffle). */
  isComplete(shuffleId: number): boolean {
    const s = this.shuffles.get(shuffleId);
    return s !== undefined && s.present === s.outputs.length;
  }

  /** Map indexes without an output, ascending. */
  missing(shuffleId: number): number[] {
    const s = this.shuffles.get(shuffleId);
    if (!s) return [];
    const m: number[] = [];
    for (let i = 0; i < s.outputs.length; i++) if (!s.outputs[i]) m.push(i);
    return m;
  }

  get(shuffleId: number, mapIndex: number): MapStatus | undefined {
    return this.shuffles.get(shuffleId)?.outputs[mapIndex];
  }

  /** Where a reducer fetches each map output. Only called for complete shuffles: a gap is a scheduler bug. */
  locations(shuffleId: number): MapLocation[] {
    const s = this.shuffles.get(shuffleId);
    if (!s || s.present !== s.outputs.length)
      throw new Error(`internal: locations of incomplete shuffle ${shuffleId} asked for (a stage launched too early)`);
    return s.outputs.map((o, i) => ({ mapIndex: i, executorId: o!.executorId, host: o!.host, port: o!.port }));
  }
}
