/**
 * In-process ResourceManager for story tests: the pure books and rmStep, a manual clock, a record of
 * every effect, and the invariant check after every event. No sockets, no files, no timers.
 * Test-only code.
 */
import assert from 'node:assert/strict';
import { RmConfig } from '../../src/cluster/common/config.js';
import { invariantViolations, type RmBooks } from '../../src/cluster/resourcemanager/books.js';
import type { RmEffect, RmEvent } from '../../src/cluster/resourcemanager/rm-events.js';
import { recoverBooks, rmStep } from '../../src/cluster/resourcemanager/rm-step.js';
import type { RmState } from '../../src/cluster/resourcemanager/state-store.js';
import { type AllocateResponse, type ContainerStatus, SubmissionContext } from '../../src/protocol/cluster.js';

type Ev<T extends RmEvent['type']> = Omit<Extract<RmEvent, { type: T }>, 'type' | 'now'>;

export const MB = 1024;

export class RmHarness {
  now = 1_000_000;
  books: RmBooks;
  /** effects of every event so far, in order */
  readonly effects: RmEffect[] = [];
  /** the state as last persisted (what a restarted RM would load) */
  persisted: RmState | undefined;
  readonly conf: RmConfig;

  constructor(conf: Record<string, unknown> = {}, persisted?: RmState) {
    this.conf = RmConfig.parse({ dir: '/nonexistent', minAllocationMB: 512, ...conf });
    const r = recoverBooks(
      this.conf,
      persisted ?? { clusterTimestamp: 1700000000000, seq: 0, apps: {}, pending: {} },
      this.now,
    );
    this.books = r.state;
    this.take(r.effects);
  }

  /** A new RM on the last persisted state (an RM restart), time continuing. */
  restart(extraMs = 1000): RmHarness {
    assert.ok(this.persisted, 'nothing was persisted');
    const h = new RmHarness(Object.fromEntries(Object.entries(this.conf)), structuredClone(this.persisted));
    h.now = this.now + extraMs;
    return h;
  }

  advance(ms: number): RmEffect[] {
    this.now += ms;
    return this.send({ type: 'Tick', now: this.now });
  }

  send(e: RmEvent): RmEffect[] {
    const { effects } = rmStep(this.books, e);
    this.take(effects);
    this.checkInvariants(`after ${e.type}`);
    return effects;
  }

  private take(effects: RmEffect[]): void {
    this.effects.push(...effects);
    if (effects.some((f) => f.kind === 'persist')) this.persisted = structuredClone(this.books.state);
  }

  checkInvariants(when: string): void {
    assert.deepEqual(invariantViolations(this.books), [], `RM invariants ${when}`);
  }

  /** The reply to a request event; throws what the RM refused with. */
  ask<T>(e: RmEvent): T {
    const fx = this.send(e);
    const r = fx.find((f) => f.kind === 'reply');
    if (r && r.kind === 'reply' && r.value instanceof Error) throw r.value;
    return (r as { value: T } | undefined)?.value as T;
  }

  // ------------------------------------------------------------ conveniences, as a daemon would send them
  registerNode(i: number, opts: Partial<Ev<'NodeRegistered'>> = {}) {
    return this.ask<{ nodeId: string; appsToCleanup: string[] }>({
      type: 'NodeRegistered',
      now: this.now,
      nodeId: `10.0.0.${i}:4545`,
      host: `10.0.0.${i}`,
      port: 4545,
      capacity: { memoryMB: 8 * MB, vcores: 8 },
      labels: [],
      containers: [],
      runningApps: [],
      ...opts,
    });
  }

  heartbeat(i: number, containers: ContainerStatus[] = []) {
    return this.ask<{ resync: boolean; containersToKill: { containerId: string }[]; appsToCleanup: string[] }>({
      type: 'NodeHeartbeat',
      now: this.now,
      nodeId: `10.0.0.${i}:4545`,
      authNode: `10.0.0.${i}:4545`,
      containers,
    });
  }

  /** GetNewApplication + SubmitApplication; returns the app id. */
  submit(opts: Partial<SubmissionContext> = {}): string {
    const { appId } = this.ask<{ appId: string }>({ type: 'AppCreated', now: this.now, user: opts.user ?? 'alice' });
    const ctx = SubmissionContext.parse({
      appId,
      user: 'alice',
      amResource: { memoryMB: 1 * MB, vcores: 1 },
      amLaunchContext: { command: ['node', 'am.js'] },
      ...opts,
    });
    this.ask({ type: 'AppSubmitted', now: this.now, ctx, secret: 's3cret' });
    return appId;
  }

  app(appId: string) {
    return this.books.state.apps[appId]!;
  }

  attempt(appId: string) {
    const a = this.app(appId).attempts;
    return a[a.length - 1]!;
  }

  /** The AM launch the RM asked for most recently. */
  lastLaunch() {
    const l = this.effects.filter((f) => f.kind === 'launchAm');
    return l[l.length - 1] as Extract<RmEffect, { kind: 'launchAm' }> | undefined;
  }

  /** Drives the current attempt of an app from allocated to registered (NM launch ack, AM register). */
  amUp(appId: string): string {
    const at = this.attempt(appId);
    this.send({ type: 'AmLaunched', now: this.now, attemptId: at.attemptId });
    this.ask({
      type: 'AmRegistered',
      now: this.now,
      attemptId: at.attemptId,
      authAttempt: at.attemptId,
      host: 'am-host',
      rpcPort: 7000,
      trackingUrl: 'http://am-host:4040',
    });
    return at.attemptId;
  }

  allocate(
    attemptId: string,
    asks: { count: number; memoryMB: number }[] = [],
    releases: string[] = [],
    lastResponseId?: number,
  ) {
    return this.ask<AllocateResponse>({
      type: 'AmAllocate',
      now: this.now,
      attemptId,
      authAttempt: attemptId,
      asks: asks.map((a) => ({ count: a.count, resource: { memoryMB: a.memoryMB, vcores: 1 } })),
      releases,
      progress: 0.5,
      trackingUrl: undefined,
      lastResponseId,
    });
  }

  used(i: number) {
    return this.books.scheduler.nodes.get(`10.0.0.${i}:4545`)!.used;
  }

  running(containerId: string, appId: string, memoryMB = 1 * MB): ContainerStatus {
    return { containerId, appId, state: 'RUNNING', diagnostics: '', resource: { memoryMB, vcores: 1 } };
  }

  complete(containerId: string, appId: string, exitStatus: number, memoryMB = 1 * MB): ContainerStatus {
    return { containerId, appId, state: 'COMPLETE', exitStatus, diagnostics: '', resource: { memoryMB, vcores: 1 } };
  }
}
