/**
 * The RM's persistent state: one JSON document (cluster timestamp, app sequence, every app with its
 * attempts, staged files and per-app secret) written atomically (temp file + rename, fsync) on each
 * change that must survive a restart. The file is 0600 because it holds per-app secrets.
 * It owns serialization only; what goes in the records is the RM's business.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppState, AttemptReport, FinalStatus, Resource } from '../../protocol/cluster.js';
import type { AttemptState } from './attempt-lifecycle.js';
import type { StagedFile } from './staging.js';

/** What the RM keeps of an attempt: its public report plus the internal state and bookkeeping. */
export interface AttemptRecord extends Omit<AttemptReport, 'state'> {
  n: number;
  state: AttemptState;
  /** failed for a reason that does not use up an attempt (lost node, killed by RM) */
  notCounted?: boolean;
}

export interface AppRecord {
  id: string;
  name: string;
  user: string;
  queue: string;
  applicationType: string;
  tags: string[];
  acls: { view: string[]; modify: string[] };
  amResource: Resource;
  amLaunchContext: {
    command: string[];
    env: Record<string, string>;
    localResources: Record<string, { sha256: string; size: number; type: 'FILE' | 'ARCHIVE' }>;
  };
  label: string | undefined;
  maxAttempts: number;
  state: AppState;
  finalStatus: FinalStatus;
  diagnostics: string;
  progress: number;
  startedTime: number;
  finishedTime: number;
  attempts: AttemptRecord[];
  /** next container number, per app across attempts */
  nextContainer: number;
  staged: Record<string, StagedFile>;
  secret: string;
  logsAggregated: boolean;
  /** nodes that ran containers of this app, and those that uploaded its logs */
  logNodes: string[];
  logsUploaded: string[];
}

/** An application id handed out by GetNewApplication and not submitted yet, with what was staged for it. */
export interface PendingApp {
  user: string;
  staged: Record<string, StagedFile>;
  createdAt: number;
}

export interface RmState {
  clusterTimestamp: number;
  seq: number;
  apps: Record<string, AppRecord>;
  /** reservations survive a restart, so a client between new-application and submit can go on */
  pending: Record<string, PendingApp>;
}

export class StateStore {
  private readonly file: string;
  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'rm-state.json');
  }

  load(): RmState | undefined {
    if (!fs.existsSync(this.file)) return undefined;
    return JSON.parse(fs.readFileSync(this.file, 'utf8')) as RmState;
  }

  save(state: RmState): void {
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(state));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
  }
}
