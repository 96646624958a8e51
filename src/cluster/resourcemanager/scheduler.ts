/**
 * Capacity-scheduler-like placement: hierarchical queues under root with a guaranteed share
 * (capacity %) and an elastic cap (maxCapacity %), FIFO between apps inside a leaf queue, an AM share
 * per queue (apps wait in ACCEPTED with a diagnostic when it is used up), and container sizes rounded
 * up to a multiple of the minimum allocation. Pure bookkeeping: no I/O, no timers, no messages.
 * Vcores are checked against node capacity; memory drives shares (YARN's default calculator).
 */
import { CinderError } from '../../common/errors.js';
import type { Resource, ResourceAsk } from '../../protocol/cluster.js';
import type { QueueConf, RmConfig } from '../common/config.js';

export interface SchedNode {
  nodeId: string;
  host: string;
  capacity: Resource;
  used: Resource;
  labels: string[];
  schedulable: boolean;
}

/** A queue with its configured and absolute shares and the memory in use. */
export interface Queue {
  path: string;
  conf: QueueConf;
  /** absolute guaranteed and max fractions of the cluster */
  absCap: number;
  absMax: number;
  usedMB: number;
  amUsedMB: number;
  leaf: boolean;
}

interface AppSched {
  appId: string;
  queue: string;
  order: number;
  am: { resource: Resource; label: string | undefined } | undefined;
  asks: { resource: Resource; count: number; hosts: string[]; label: string | undefined }[];
  waitReason: string;
}

export interface Allocation {
  appId: string;
  nodeId: string;
  resource: Resource;
  isAm: boolean;
}

type Limits = Pick<
  RmConfig,
  'minAllocationMB' | 'maxAllocationMB' | 'minAllocationVcores' | 'maxAllocationVcores' | 'queues'
> &
  Partial<Pick<RmConfig, 'maxPendingContainersPerApp'>>;

export class CapacityScheduler {
  readonly nodes = new Map<string, SchedNode>();
  private readonly queues = new Map<string, Queue>();
  private readonly apps = new Map<string, AppSched>();
  private order = 0;
  private totalMB: number | undefined;

  constructor(private readonly conf: Limits) {
    const paths = Object.keys(conf.queues);
    for (const p of paths)
      if (!p.startsWith('root.'))
        throw new CinderError('BAD_CONFIG', `queue "${p}" must be a full path under root (e.g. root.${p})`);
    for (const p of paths) {
      let absCap = 1;
      let absMax = 1;
      const parts = p.split('.');
      for (let i = 2; i <= parts.length; i++) {
        const anc = conf.queues[parts.slice(0, i).join('.')];
        if (!anc)
          throw new CinderError(
            'BAD_CONFIG',
            `queue ${p} has no parent ${parts.slice(0, i).join('.')} in the queue config`,
          );
        absCap *= anc.capacity / 100;
        absMax *= anc.maxCapacity / 100;
      }
      const leaf = !paths.some((q) => q.startsWith(`${p}.`));
      this.queues.set(p, { path: p, conf: conf.queues[p]!, absCap, absMax, usedMB: 0, amUsedMB: 0, leaf });
    }
  }

  /** Rounds up to a multiple of the minimum allocation; throws InvalidResourceRequest above the maximum. */
  normalize(r: Resource, what = 'request'): Resource {
    const c = this.conf;
    if (r.memoryMB > c.maxAllocationMB || r.vcores > c.maxAllocationVcores)
      throw new CinderError(
        'INVALID_RESOURCE_REQUEST',
        `${what} of ${r.memoryMB} MB / ${r.vcores} vcores exceeds the maximum allocation of ${c.maxAllocationMB} MB / ${c.maxAllocationVcores} vcores (maxAllocationMB / maxAllocationVcores)`,
        'ask for less memory/cores, or raise the RM maximum allocation',
      );
    const memoryMB = Math.max(c.minAllocationMB, Math.ceil(r.memoryMB / c.minAllocationMB) * c.minAllocationMB);
    return { memoryMB: Math.min(memoryMB, c.maxAllocationMB), vcores: Math.max(c.minAllocationVcores, r.vcores) };
  }

  /** Throws when no registered node could ever hold r (with label), naming the largest node. */
  checkSatisfiable(r: Resource, label: string | undefined, what: string): void {
    const nodes = [...this.nodes.values()].filter((n) => !label || n.labels.includes(label));
    if (this.nodes.size === 0) return; // nothing registered yet: the request waits
    if (label && nodes.length === 0)
      throw new CinderError(
        'INVALID_RESOURCE_REQUEST',
        `${what}: no node has label "${label}"`,
        'drop the label or start a node with it',
      );
    if (!nodes.some((n) => n.capacity.memoryMB >= r.memoryMB && n.capacity.vcores >= r.vcores)) {
      const big = nodes.reduce((a, n) => (n.capacity.memoryMB > a.memoryMB ? n.capacity : a), {
        memoryMB: 0,
        vcores: 0,
      });
      throw new CinderError(
        'INVALID_RESOURCE_REQUEST',
        `${what} of ${r.memoryMB} MB / ${r.vcores} vcores is larger than any node (largest: ${big.memoryMB} MB / ${big.vcores} vcores); no node could ever run it`,
        'ask for a smaller container or add bigger nodes',
      );
    }
  }

  /** Resolves a queue name ("default" or "root.default") to a running leaf queue, or throws why not. */
  leafQueue(name: string): string {
    const path = name.startsWith('root.') ? name : `root.${name}`;
    const q = this.queues.get(path);
    const known = [...this.queues.values()].filter((x) => x.leaf).map((x) => x.path.slice(5));
    if (!q)
      throw new CinderError('UNKNOWN_QUEUE', `queue "${name}" does not exist`, `known queues: ${known.join(', ')}`);
    if (!q.leaf)
      throw new CinderError(
        'UNKNOWN_QUEUE',
        `queue "${name}" is a parent queue; apps go to leaf queues`,
        `leaf queues: ${known.join(', ')}`,
      );
    if (q.conf.state === 'STOPPED')
      throw new CinderError('QUEUE_STOPPED', `queue "${name}" is STOPPED and accepts no apps`);
    return path;
  }

  addNode(n: SchedNode): void {
    this.nodes.set(n.nodeId, n);
    this.totalMB = undefined;
  }

  /** Registers an app (queue already validated); its AM request is added with requestAm. */
  addApp(appId: string, queue: string): void {
    if (!this.apps.has(appId))
      this.apps.set(appId, { appId, queue, order: this.order++, am: undefined, asks: [], waitReason: '' });
  }

  requestAm(appId: string, resource: Resource, label: string | undefined): void {
    const a = this.apps.get(appId);
    if (a) a.am = { resource: this.normalize(resource, 'AM container'), label };
  }

  /**
   * Throws, before anything is applied, when asks cannot be taken: an impossible size or label, or more
   * outstanding containers than maxPendingContainersPerApp.
   */
  checkAsks(appId: string, asks: ResourceAsk[]): void {
    const a = this.apps.get(appId);
    if (!a) return;
    const max = this.conf.maxPendingContainersPerApp ?? Number.POSITIVE_INFINITY;
    const pending = a.asks.reduce((n, x) => n + x.count, 0);
    const more = asks.reduce((n, x) => n + x.count, 0);
    if (pending + more > max)
      throw new CinderError(
        'TOO_MANY_CONTAINERS',
        `application ${appId} asks for ${more} more containers with ${pending} still outstanding: over the limit of ${max} outstanding containers per application (maxPendingContainersPerApp)`,
        'ask for containers as they are needed, or ask the operator to raise the limit',
      );
    for (const ask of asks)
      this.checkSatisfiable(this.normalize(ask.resource, 'container request'), ask.label, 'container request');
  }

  /** Adds container asks for an app (normalized; throws on impossible sizes, applying none). */
  addAsks(appId: string, asks: ResourceAsk[]): void {
    const a = this.apps.get(appId);
    if (!a) return;
    this.checkAsks(appId, asks);
    for (const ask of asks) {
      const resource = this.normalize(ask.resource, 'container request');
      this.checkSatisfiable(resource, ask.label, 'container request');
      const hosts = ask.hosts ?? [];
      // asks for the same size, place and label are one entry with a count (as YARN aggregates them), so a
      // pass costs O(distinct asks), not O(outstanding containers)
      const same = a.asks.find(
        (x) =>
          x.label === ask.label &&
          x.resource.memoryMB === resource.memoryMB &&
          x.resource.vcores === resource.vcores &&
          x.hosts.length === hosts.length &&
          x.hosts.every((h, i) => h === hosts[i]),
      );
      if (same) same.count += ask.count;
      else a.asks.push({ resource, count: ask.count, hosts, label: ask.label });
    }
  }

  /** Drops pending asks (new attempt, app end). */
  clearAsks(appId: string): void {
    const a = this.apps.get(appId);
    if (a) {
      a.asks = [];
      a.am = undefined;
    }
  }

  removeApp(appId: string): void {
    this.apps.delete(appId);
  }

  waitReason(appId: string): string {
    return this.apps.get(appId)?.waitReason ?? '';
  }

  /** Accounts a container that already exists (recovery, or an allocation made here). */
  charge(appId: string, nodeId: string, r: Resource, isAm: boolean, sign: 1 | -1 = 1): void {
    const n = this.nodes.get(nodeId);
    if (n) {
      n.used = { memoryMB: n.used.memoryMB + sign * r.memoryMB, vcores: n.used.vcores + sign * r.vcores };
    }
    const a = this.apps.get(appId);
    const q = a && this.queues.get(a.queue);
    if (q) {
      q.usedMB += sign * r.memoryMB;
      if (isAm) q.amUsedMB += sign * r.memoryMB;
    }
  }

  /** Total memory of schedulable nodes (cached; call nodesChanged() when nodes come, go or turn unschedulable). */
  clusterMB(): number {
    if (this.totalMB === undefined) {
      let t = 0;
      for (const n of this.nodes.values()) if (n.schedulable) t += n.capacity.memoryMB;
      this.totalMB = t;
    }
    return this.totalMB;
  }

  /** Memory used in each leaf queue (for the books' invariant check and reports). */
  queueUsage(): Map<string, number> {
    const out = new Map<string, number>();
    for (const q of this.queues.values()) if (q.leaf) out.set(q.path, q.usedMB);
    return out;
  }

  /** Every queue (parents and leaves) with its configured and absolute shares and memory in use, for reports. */
  queueInfos(): Queue[] {
    return [...this.queues.values()].map((q) => ({ ...q }));
  }

  /** Containers asked for and not yet placed (AMs included), with their memory and vcores. */
  pendingTotals(): { containers: number; mb: number; vcores: number } {
    const t = { containers: 0, mb: 0, vcores: 0 };
    for (const a of this.apps.values()) {
      if (a.am) {
        t.containers++;
        t.mb += a.am.resource.memoryMB;
        t.vcores += a.am.resource.vcores;
      }
      for (const x of a.asks) {
        t.containers += x.count;
        t.mb += x.count * x.resource.memoryMB;
        t.vcores += x.count * x.resource.vcores;
      }
    }
    return t;
  }

  nodesChanged(): void {
    this.totalMB = undefined;
  }

  private hasPending(): boolean {
    for (const a of this.apps.values()) if (a.am || a.asks.length > 0) return true;
    return false;
  }

  /**
   * One scheduling pass: places as many pending AMs and asks as fit; returns what was placed.
   * With `onlyNode` (a node heartbeat, as YARN's CapacityScheduler does on NODE_UPDATE) only that
   * node is considered, so a heartbeat costs O(apps), not O(nodes). Without it, candidate nodes sit in
   * a max-heap by free memory so each placement is O(log nodes).
   */
  schedule(onlyNode?: string): Allocation[] {
    const out: Allocation[] = [];
    if (!this.hasPending()) return out;
    const total = this.clusterMB();
    if (total === 0) return out;
    let candidates: NodeHeap;
    if (onlyNode !== undefined) {
      const n = this.nodes.get(onlyNode);
      if (!n?.schedulable) return out;
      candidates = new NodeHeap([n]);
    } else candidates = new NodeHeap([...this.nodes.values()].filter((n) => n.schedulable));
    if (candidates.size === 0) return out;
    const leaves = [...this.queues.values()].filter((q) => q.leaf);
    // most under-served queue first (used / guaranteed)
    leaves.sort((x, y) => x.usedMB / Math.max(1, x.absCap * total) - y.usedMB / Math.max(1, y.absCap * total));
    const byQueue = new Map<string, AppSched[]>();
    for (const a of this.apps.values()) {
      let l = byQueue.get(a.queue);
      if (!l) byQueue.set(a.queue, (l = []));
      l.push(a);
    }
    for (const q of leaves) {
      const apps = (byQueue.get(q.path) ?? []).sort((x, y) => x.order - y.order);
      const maxMB = q.absMax * total;
      for (const a of apps) {
        if (a.am) {
          const r = a.am.resource;
          const amLimit = (q.conf.maxAmPercent / 100) * maxMB;
          if (q.amUsedMB > 0 && q.amUsedMB + r.memoryMB > amLimit) {
            a.waitReason = `waiting for AM container: queue ${q.path.slice(5)} AM resource limit reached (${q.amUsedMB} MB of ${Math.floor(amLimit)} MB used by AMs, maxAmPercent ${q.conf.maxAmPercent}%)`;
            continue;
          }
          if (q.usedMB + r.memoryMB > maxMB) {
            a.waitReason = `waiting for AM container: queue ${q.path.slice(5)} is at its maximum capacity (${q.usedMB} of ${Math.floor(maxMB)} MB)`;
            continue;
          }
          const n = this.pick(candidates, r, a.am.label, []);
          if (!n) {
            if (onlyNode === undefined)
              a.waitReason = `waiting for AM container of ${r.memoryMB} MB / ${r.vcores} vcores: no node has room`;
            continue;
          }
          a.am = undefined;
          a.waitReason = '';
          this.charge(a.appId, n.nodeId, r, true);
          candidates.update(n);
          out.push({ appId: a.appId, nodeId: n.nodeId, resource: r, isAm: true });
        }
        for (const ask of a.asks) {
          while (ask.count > 0 && q.usedMB + ask.resource.memoryMB <= maxMB) {
            const n = this.pick(candidates, ask.resource, ask.label, ask.hosts);
            if (!n) break;
            ask.count--;
            this.charge(a.appId, n.nodeId, ask.resource, false);
            candidates.update(n);
            out.push({ appId: a.appId, nodeId: n.nodeId, resource: ask.resource, isAm: false });
          }
        }
        a.asks = a.asks.filter((x) => x.count > 0);
      }
    }
    return out;
  }

  /** Preferred hosts first, then the emptiest node that fits (spread); labels need a scan. */
  private pick(c: NodeHeap, r: Resource, label: string | undefined, hosts: string[]): SchedNode | undefined {
    const fits = (n: SchedNode) =>
      n.schedulable &&
      (!label || n.labels.includes(label)) &&
      n.capacity.memoryMB - n.used.memoryMB >= r.memoryMB &&
      n.capacity.vcores - n.used.vcores >= r.vcores;
    if (hosts.length > 0) {
      let best: SchedNode | undefined;
      for (const n of c.items()) if (hosts.includes(n.host) && fits(n) && (!best || freeMB(n) > freeMB(best))) best = n;
      if (best) return best;
    }
    if (label) {
      let best: SchedNode | undefined;
      for (const n of c.items()) if (fits(n) && (!best || freeMB(n) > freeMB(best))) best = n;
      return best;
    }
    // the emptiest node by memory; if it lacks vcores, look further down the heap
    return c.firstMatching(fits);
  }
}

function freeMB(n: SchedNode): number {
  return n.capacity.memoryMB - n.used.memoryMB;
}

/** Max-heap of nodes by free memory, with in-place re-keying after a placement. */
class NodeHeap {
  private readonly h: SchedNode[];
  private readonly pos = new Map<SchedNode, number>();
  constructor(nodes: SchedNode[]) {
    this.h = nodes;
    for (let i = 0; i < this.h.length; i++) this.pos.set(this.h[i]!, i);
    for (let i = (this.h.length >> 1) - 1; i >= 0; i--) this.down(i);
  }
  get size(): number {
    return this.h.length;
  }
  items(): readonly SchedNode[] {
    return this.h;
  }
  /** The node with the most free memory that satisfies `ok` (walks the heap top-down, pruning on memory). */
  firstMatching(ok: (n: SchedNode) => boolean): SchedNode | undefined {
    const top = this.h[0];
    if (!top) return undefined;
    if (ok(top)) return top;
    // rare: the roomiest node lacks vcores; breadth-first over the heap in order of free memory
    let best: SchedNode | undefined;
    for (const n of this.h) if (ok(n) && (!best || freeMB(n) > freeMB(best))) best = n;
    return best;
  }
  update(n: SchedNode): void {
    const i = this.pos.get(n);
    if (i === undefined) return;
    this.down(i);
    this.up(this.pos.get(n)!);
  }
  private swap(i: number, j: number): void {
    const a = this.h[i]!;
    const b = this.h[j]!;
    this.h[i] = b;
    this.h[j] = a;
    this.pos.set(b, i);
    this.pos.set(a, j);
  }
  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (freeMB(this.h[p]!) >= freeMB(this.h[i]!)) return;
      this.swap(i, p);
      i = p;
    }
  }
  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.h.length && freeMB(this.h[l]!) > freeMB(this.h[m]!)) m = l;
      if (r < this.h.length && freeMB(this.h[r]!) > freeMB(this.h[m]!)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
