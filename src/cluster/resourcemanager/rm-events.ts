/**
 * What happens to a ResourceManager (events, each carrying the time it happened) and what it asks its
 * shell to do about it (effects). The services (node-service.ts, am-service.ts, client-service.ts) and
 * the timer in rm.ts turn messages and ticks into RmEvents; rm-step.ts decides; rm.ts carries out the
 * RmEffects. Answers to requests travel as a `reply` effect.
 */

import type { z } from '../../common/zod.js';
import type {
  ContainerStatus,
  FinalStatus,
  Resource,
  ResourceAsk,
  SubmissionContext,
  ToNm,
} from '../../protocol/cluster.js';
import type { StagedFile } from './staging.js';

/** What a node says of itself when it registers. */
export interface NodeRegistration {
  host: string;
  port: number;
  capacity: Resource;
  labels: string[];
  /** containers it still runs or has not had acknowledged (work-preserving restarts) */
  containers: ContainerStatus[];
  /** apps it holds dirs or containers for */
  runningApps: string[];
}

export type RmEvent =
  // nodes
  | ({ type: 'NodeRegistered'; now: number; nodeId: string } & NodeRegistration)
  // authNode: the node id the sending connection registered as ('' when it has not): a node speaks only for itself
  | { type: 'NodeHeartbeat'; now: number; nodeId: string; authNode: string; containers: ContainerStatus[] }
  | { type: 'NodeUnregistered'; now: number; nodeId: string; authNode: string }
  | { type: 'LogsUploaded'; now: number; appId: string; nodeId: string; authNode: string }
  // clients
  | { type: 'AppCreated'; now: number; user: string }
  | { type: 'FileStaged'; now: number; appId: string; name: string; file: StagedFile }
  | { type: 'AppSubmitted'; now: number; ctx: z.output<typeof SubmissionContext>; secret: string }
  | { type: 'AppKillRequested'; now: number; appId: string; user: string; reason: string | undefined }
  // application masters
  | { type: 'AmLaunched'; now: number; attemptId: string }
  | { type: 'AmLaunchFailed'; now: number; attemptId: string; error: string }
  // authAttempt: the attempt of the AM token the connection authenticated with: an AM acts only on its own
  | {
      type: 'AmRegistered';
      now: number;
      attemptId: string;
      authAttempt: string;
      host: string;
      rpcPort: number;
      trackingUrl: string;
    }
  | {
      type: 'AmAllocate';
      now: number;
      attemptId: string;
      authAttempt: string;
      asks: ResourceAsk[];
      releases: string[];
      progress: number;
      trackingUrl: string | undefined;
      lastResponseId: number | undefined;
    }
  | {
      type: 'AmFinished';
      now: number;
      attemptId: string;
      authAttempt: string;
      finalStatus: FinalStatus;
      diagnostics: string;
    }
  // time
  | { type: 'Tick'; now: number };

export type RmEffect =
  /** write the books' persistent part (rm-state.json) */
  | { kind: 'persist' }
  /** ask a node to start an AM container; its outcome comes back as AmLaunched / AmLaunchFailed */
  | { kind: 'launchAm'; nodeId: string; attemptId: string; message: Extract<ToNm, { type: 'StartContainer' }> }
  /** delete staged files no live or pending app refers to */
  | { kind: 'gcStaging'; live: Set<string> }
  | { kind: 'log'; level: 'info' | 'warn'; msg: string; fields: Record<string, unknown> }
  /** the answer to the request that caused the event */
  | { kind: 'reply'; value: unknown };

export type RmEventType = RmEvent['type'];
export type RmEventOf<T extends RmEventType> = Extract<RmEvent, { type: T }>;

export const logInfo = (msg: string, fields: Record<string, unknown>): RmEffect => ({
  kind: 'log',
  level: 'info',
  msg,
  fields,
});
export const logWarn = (msg: string, fields: Record<string, unknown>): RmEffect => ({
  kind: 'log',
  level: 'warn',
  msg,
  fields,
});
