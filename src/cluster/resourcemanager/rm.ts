/**
 * The ResourceManager's shell: it holds the books, turns what happens (requests mapped to events by
 * node-service.ts, am-service.ts and client-service.ts; the liveness timer) into RmEvents, lets
 * rm-step.ts decide, and carries out the effects: persisting the state store, launching AM
 * containers on NodeManagers, deleting staged files, logging, answering. Time comes from the clock
 * it is given. It decides nothing itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { logger } from '../../common/log.js';
import type { ToNm, ToRm } from '../../protocol/cluster.js';
import type { RpcConnection } from '../../rpc/index.js';
import type { RmConfig } from '../common/config.js';
import { appOf, invariantViolations, type RmBooks } from './books.js';
import type { RmEffect, RmEvent } from './rm-events.js';
import { recoverBooks, rmStep } from './rm-step.js';
import { RmTokens } from './rm-tokens.js';
import { StagingStore } from './staging.js';
import { StateStore } from './state-store.js';
import { UserUids } from './user-uids.js';

const log = logger('rm');

export type Clock = () => number;

export class ResourceManager {
  readonly books: RmBooks;
  readonly staging: StagingStore;
  readonly logDir: string;
  /** the connection each registered node dialled (AM launches and live log reads go over it) */
  readonly conns = new Map<string, RpcConnection<ToRm, ToNm>>();
  readonly startedAt: number;
  /** the master key and the tokens it signs (AM, container, user) */
  readonly tokens: RmTokens;
  /** the container uid of each user (assigned on first submission, kept for good) */
  readonly uids: UserUids;
  /** the RM web address users reach (scheme://host:port, set once the HTTP server listens; '' without one) */
  webAddress = '';
  /** each node's HTTP address (host:port) as it registered it, for links and YARN's nodeHTTPAddress */
  readonly nodeHttp = new Map<string, string>();
  private readonly store: StateStore;
  private timer: NodeJS.Timeout | undefined;
  /** CINDER_CHECK_INVARIANTS=1: check the books after every event (tests), read once: dispatch is the hot path */
  private readonly checking = Boolean(process.env.CINDER_CHECK_INVARIANTS);

  constructor(
    readonly conf: RmConfig,
    clusterSecret: string,
    readonly clock: Clock = Date.now,
  ) {
    this.startedAt = clock();
    const containerTtl = Math.max(conf.containerAllocationExpiryMs * 2, 600_000);
    this.tokens = RmTokens.load(conf.dir, clusterSecret, containerTtl, clock);
    this.store = new StateStore(conf.dir);
    this.uids = new UserUids(conf.dir, conf.containerUidRange);
    this.staging = new StagingStore(path.join(conf.dir, 'staging'), conf.stagingMaxFileBytes, conf.stagingMaxAppBytes);
    this.logDir = path.join(conf.dir, 'app-logs');
    fs.mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    const persisted = this.store.load() ?? { clusterTimestamp: this.startedAt, seq: 0, apps: {}, pending: {} };
    const r = recoverBooks(conf, persisted, this.startedAt);
    this.books = r.state;
    this.perform(r.effects);
  }

  // read-only views for reports
  get state() {
    return this.books.state;
  }
  get nodes() {
    return this.books.nodes;
  }
  get containers() {
    return this.books.containers;
  }
  get scheduler() {
    return this.books.scheduler;
  }
  app(appId: string) {
    return appOf(this.books, appId);
  }

  start(): void {
    this.timer = setInterval(() => {
      try {
        this.dispatch({ type: 'Tick', now: this.clock() });
      } catch (e) {
        log.error({ err: (e as Error).message }, 'liveness check failed');
      }
    }, this.conf.livenessCheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Decides on an event and carries out the effects; returns the answer to the request, if any. */
  dispatch(e: RmEvent): unknown {
    const { effects } = rmStep(this.books, e);
    const reply = this.perform(effects);
    if (this.checking) this.checkInvariants(e.type);
    if (reply instanceof Error) throw reply;
    return reply;
  }

  private checkInvariants(after: string): void {
    const v = invariantViolations(this.books);
    if (v.length) log.error({ after, violations: v }, 'RM invariant violated');
  }

  private perform(effects: RmEffect[]): unknown {
    let reply: unknown;
    let persist = false;
    for (const f of effects) {
      switch (f.kind) {
        case 'persist':
          persist = true;
          break;
        case 'reply':
          reply = f.value;
          break;
        case 'log':
          log[f.level](f.fields, f.msg);
          break;
        case 'gcStaging':
          this.staging.gc(f.live);
          break;
        case 'launchAm':
          this.launchAm(f);
          break;
      }
    }
    if (persist) this.store.save(this.books.state);
    return reply;
  }

  private launchAm(f: Extract<RmEffect, { kind: 'launchAm' }>): void {
    const conn = this.conns.get(f.nodeId);
    const failed = (err: string) => {
      try {
        this.dispatch({ type: 'AmLaunchFailed', now: this.clock(), attemptId: f.attemptId, error: err });
      } catch (e) {
        log.warn({ attempt: f.attemptId, err: (e as Error).message }, 'AM launch failure not recorded');
      }
    };
    if (!conn || conn.isClosed) {
      setImmediate(() => failed(`node ${f.nodeId} has no open connection to the ResourceManager`));
      return;
    }
    // the AM's credentials: its attempt's AM token (to talk to the RM) and the container token the NM checks
    const { attemptId } = f;
    const appId = f.message.container.appId;
    const user = this.app(appId).user;
    const message = {
      ...f.message,
      container: this.tokens.withToken(f.message.container, user, this.uids.of(user)),
      credentials: {
        ...f.message.credentials,
        CINDER_AM_TOKEN: JSON.stringify(this.tokens.amToken(attemptId, appId, user)),
      },
    };
    conn.request(message, 30_000).then(
      () => {
        try {
          this.dispatch({ type: 'AmLaunched', now: this.clock(), attemptId: f.attemptId });
        } catch (e) {
          log.warn({ attempt: f.attemptId, err: (e as Error).message }, 'AM launch not recorded');
        }
      },
      (e: Error) => failed(e.message),
    );
  }
}
