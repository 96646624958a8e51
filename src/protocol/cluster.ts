/**
 * Channels of the cluster manager (YARN-like). Each role authenticates with its own credential
 * (src/cluster/security): NodeManagers with the cluster (daemon) secret as principal "cluster", AMs with
 * their attempt's AM token, clients with a user token (identity file); AMs dial NMs with a container token.
 *   ToRm: NodeManager -> RM (register, heartbeat, logs, resource fetch), AM -> RM (register, allocate,
 *         finish), client -> RM (new app, upload, submit, reports, kill, logs, nodes, identities).
 *         The user of a client request is the connection's identity: no message names it.
 *   ToNm: RM or AM -> NodeManager (start/stop containers, statuses, live logs). The RM sends these over
 *         the connection the NM dialled; AMs dial the NM's own port.
 * Only schemas live here, no logic. Secrets travel only as a StartContainer's `credentials` and
 * container tokens (authenticated channel, never logged); the NM writes credentials to a 0600 file.
 */
import { clip, LIMITS } from '../common/text-limits.js';
import { z } from '../common/zod.js';
import { bytes, parser } from './common.js';

/** A short free-text field (names, ids, hosts, labels), refused over `max` characters with the field's name. */
const text = (what: string, max: number = LIMITS.shortText) =>
  z.string().max(max, `${what} is longer than ${max} characters`);
/** Diagnostics: accepted (up to 1 MiB), stored and returned clipped to LIMITS.diagnostics with a marker. */
const diagnostics = z
  .string()
  .max(1024 * 1024, 'diagnostics are longer than 1 MiB')
  .transform((s) => clip(s));

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256');
const int = z.number().int();

export const Resource = z.object({ memoryMB: int.positive(), vcores: int.positive() });
export type Resource = z.infer<typeof Resource>;

export const AppState = z.enum(['NEW', 'SUBMITTED', 'ACCEPTED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED']);
export type AppState = z.infer<typeof AppState>;
const ENDED = new Set<string>(['FINISHED', 'FAILED', 'KILLED']);
/** True for the states an application (or an attempt, whose ended states share these names) never leaves. */
export function hasEnded(state: string): boolean {
  return ENDED.has(state);
}
export const FinalStatus = z.enum(['UNDEFINED', 'SUCCEEDED', 'FAILED', 'KILLED']);
export type FinalStatus = z.infer<typeof FinalStatus>;
export const NodeState = z.enum(['NEW', 'RUNNING', 'LOST', 'SHUTDOWN']);
export type NodeState = z.infer<typeof NodeState>;

/** A staged file the NM localizes into the container's cwd under its link name. */
export const LocalResource = z.object({
  sha256,
  size: int.nonnegative(),
  /** FILE is linked as is; ARCHIVE (.tar.gz/.tgz/.zip) is unpacked into a directory named by the link */
  type: z.enum(['FILE', 'ARCHIVE']),
});
export type LocalResource = z.infer<typeof LocalResource>;

export const LaunchContext = z.object({
  /** argv, run without a shell; argv[0] "node" gets --max-old-space-size from the container size */
  command: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()).default({}),
  /** link name (a plain file name, no path separators) -> staged resource */
  localResources: z.record(z.string(), LocalResource).default({}),
});
export type LaunchContext = z.input<typeof LaunchContext>;

/** A token (src/cluster/security/tokens.ts): identifier in the clear, password = HMAC(key, identifier). */
export const Token = z.object({ identifier: z.string().max(4096), password: z.string().max(256) });
export type Token = z.infer<typeof Token>;

/** A container handed to an AM: where it lives and how big it is. */
export const ContainerInfo = z.object({
  id: z.string(),
  appId: z.string(),
  nodeId: z.string(),
  /** NM RPC address the AM dials to start/stop it */
  nodeHost: z.string(),
  nodePort: int,
  resource: Resource,
  /** the RM's container token for this allocation: the NM starts only containers with a valid one */
  token: Token.optional(),
});
export type ContainerInfo = z.infer<typeof ContainerInfo>;

/** Exit statuses (YARN's): 0 ok, -100 lost node, -104 pmem, -105 killed by AM, -106 by RM, -107 after app end, -1000 localization. */
export const ExitStatus = {
  SUCCESS: 0,
  INVALID: -1000,
  ABORTED: -100,
  KILLED_EXCEEDED_PMEM: -104,
  KILLED_BY_APPMASTER: -105,
  KILLED_BY_RESOURCEMANAGER: -106,
  KILLED_AFTER_APP_COMPLETION: -107,
} as const;

export const ContainerStatus = z.object({
  containerId: text('container id'),
  appId: text('application id'),
  state: z.enum(['NEW', 'RUNNING', 'COMPLETE']),
  /** process exit code, or one of ExitStatus when the system ended it; absent while running */
  exitStatus: int.optional(),
  diagnostics: diagnostics.default(''),
  resource: Resource,
});
export type ContainerStatus = z.infer<typeof ContainerStatus>;

export const ResourceAsk = z.object({
  count: int
    .positive()
    .max(LIMITS.askCount, `a container ask is for at most ${LIMITS.askCount} containers (ask again for more later)`),
  resource: Resource,
  /** preferred hosts (soft) */
  hosts: z.array(text('host')).max(LIMITS.asks, `an ask names at most ${LIMITS.asks} hosts`).optional(),
  /** node label the container must run on */
  label: text('node label').optional(),
});
export type ResourceAsk = z.infer<typeof ResourceAsk>;

const aclList = z.array(text('ACL entry')).max(LIMITS.aclEntries, `an ACL has at most ${LIMITS.aclEntries} entries`);
export const Acls = z.object({ view: aclList.default([]), modify: aclList.default([]) });

export const SubmissionContext = z.object({
  appId: text('application id'),
  name: text('application name', LIMITS.appName).default('cinder-app'),
  queue: text('queue name', LIMITS.queue).default('default'),
  /** ignored: the RM sets the owner to the submitting connection's identity */
  user: text('user name').optional(),
  amResource: Resource,
  amLaunchContext: LaunchContext,
  maxAttempts: int.positive().optional(),
  acls: Acls.default({ view: [], modify: [] }),
  tags: z.array(text('tag', LIMITS.tag)).max(LIMITS.tags, `an application has at most ${LIMITS.tags} tags`).default([]),
  applicationType: text('application type', LIMITS.applicationType).default('CINDER'),
  /** node label for the AM container */
  label: text('node label').optional(),
  /** the per-app secret when the client chose it (client mode: its driver's); else the RM makes one. It
   * reaches the AM in its credentials file only */
  appSecret: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits')
    .optional(),
});
export type SubmissionContext = z.input<typeof SubmissionContext>;

export const ToRm = z.discriminatedUnion('type', [
  // ---- NodeManager ----
  z.object({
    type: z.literal('RegisterNode'),
    host: text('host'),
    port: int,
    capacity: Resource,
    labels: z.array(text('node label')).max(LIMITS.tags, `a node has at most ${LIMITS.tags} labels`).default([]),
    /** containers still running on the node (work-preserving RM restart) */
    containers: z.array(ContainerStatus).default([]),
    /** apps the node still holds dirs or containers for (YARN's runningApplications): the RM answers with
     * the ended ones in `appsToCleanup`, so an app that ended while the node was away is still cleaned up */
    runningApps: z.array(z.string()).default([]),
    /** the node's HTTP listener (metrics), host:port, when it has one */
    httpAddress: text('node HTTP address').optional(),
  }),
  z.object({ type: z.literal('NodeHeartbeat'), nodeId: z.string(), containers: z.array(ContainerStatus) }),
  /** graceful NM stop: the node is SHUTDOWN at once and its containers complete with -100 */
  z.object({ type: z.literal('UnregisterNode'), nodeId: z.string() }),
  /** aggregated logs of one finished app on one node */
  z.object({
    type: z.literal('UploadLogs'),
    appId: z.string(),
    nodeId: z.string(),
    logs: z.array(z.object({ containerId: z.string(), file: z.string(), data: bytes })),
  }),
  /** request: staged bytes by hash, for localization */
  z.object({ type: z.literal('FetchResource'), appId: z.string(), sha256 }),
  // ---- ApplicationMaster ----
  z.object({
    type: z.literal('RegisterApplicationMaster'),
    attemptId: z.string(),
    host: z.string(),
    rpcPort: int,
    trackingUrl: text('tracking URL', LIMITS.url).default(''),
  }),
  z.object({
    type: z.literal('Allocate'),
    attemptId: z.string(),
    asks: z.array(ResourceAsk).max(LIMITS.asks, `an Allocate carries at most ${LIMITS.asks} asks`).default([]),
    releases: z
      .array(text('container id'))
      .max(LIMITS.releases, `an Allocate releases at most ${LIMITS.releases} containers`)
      .default([]),
    progress: z.number().min(0).max(1).default(0),
    /** a tracking URL that became known after registration (YARN's updateTrackingUrl) */
    trackingUrl: text('tracking URL', LIMITS.url).optional(),
    /** the responseId of the last answer the AM received (YARN's lastResponseId): when it is one behind the
     * RM's, the previous answer was lost and is sent again instead of applying this request a second time */
    lastResponseId: int.optional(),
  }),
  z.object({
    type: z.literal('FinishApplicationMaster'),
    attemptId: z.string(),
    finalStatus: z.enum(['SUCCEEDED', 'FAILED', 'KILLED']),
    diagnostics: diagnostics.default(''),
  }),
  // ---- client ----
  z.object({ type: z.literal('GetNewApplication') }),
  z.object({
    type: z.literal('UploadFile'),
    appId: z.string(),
    name: z.string(),
    /** the whole file, or (with size) the chunk at offset */
    data: bytes,
    /** checked against the received bytes when given */
    sha256: sha256.optional(),
    /** the file's declared size: checked against the staging limits before any byte is kept; the file then
     * arrives in chunks at increasing offsets (the RM answers {received} until the last one, then the address) */
    size: int.nonnegative().optional(),
    offset: int.nonnegative().optional(),
  }),
  z.object({ type: z.literal('SubmitApplication'), context: SubmissionContext }),
  z.object({ type: z.literal('GetApplicationReport'), appId: z.string() }),
  z.object({
    type: z.literal('GetApplications'),
    states: z.array(AppState).optional(),
    queue: text('queue name', LIMITS.queue).optional(),
    owner: text('user name').optional(),
  }),
  z.object({ type: z.literal('GetApplicationAttempts'), appId: z.string() }),
  z.object({
    type: z.literal('KillApplication'),
    appId: z.string(),
    reason: text('kill reason', LIMITS.reason).optional(),
  }),
  z.object({ type: z.literal('GetLogs'), appId: z.string(), containerId: z.string().optional() }),
  z.object({ type: z.literal('GetClusterNodes'), states: z.array(NodeState).optional() }),
  z.object({ type: z.literal('GetClusterInfo') }),
  /** admins only: a user identity signed by the RM (answer: UserIdentity) */
  z.object({
    type: z.literal('IssueIdentity'),
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a user name is 1-64 letters, digits, ".", "_" or "-"'),
    admin: z.boolean().default(false),
    ttlMs: int.positive().optional(),
  }),
  /** who the RM takes this connection for */
  z.object({ type: z.literal('WhoAmI') }),
]);
export type ToRm = z.infer<typeof ToRm>;
export const parseToRm = parser(ToRm);

export const ToNm = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('StartContainer'),
    container: ContainerInfo,
    /** informational; the NM takes the user from the container token */
    user: z.string(),
    launchContext: LaunchContext,
    /** secrets for the container (per-app secret, AM token): written to a 0600 file in its dir, never env */
    credentials: z.record(z.string(), z.string()).optional(),
  }),
  z.object({
    type: z.literal('StopContainer'),
    containerId: z.string(),
    /** -105 when the AM asks, -106 when the RM does */
    exitStatus: int.optional(),
    diagnostics: diagnostics.optional(),
  }),
  z.object({ type: z.literal('GetContainerStatuses'), containerIds: z.array(z.string()).optional() }),
  /** request: logs of a live app (or one container) on this node */
  z.object({ type: z.literal('GetContainerLogs'), appId: z.string(), containerId: z.string().optional() }),
]);
export type ToNm = z.infer<typeof ToNm>;
export const parseToNm = parser(ToNm);

/** One log file of one container, as returned by GetLogs / GetContainerLogs. */
export interface LogFile {
  containerId: string;
  nodeId: string;
  file: string;
  data: string;
}

export interface NodeReport {
  nodeId: string;
  host: string;
  port: number;
  state: NodeState;
  capacity: Resource;
  used: Resource;
  labels: string[];
  numContainers: number;
  lastHeartbeat: number;
  healthReport: string;
}

export interface AttemptReport {
  attemptId: string;
  state: string;
  amContainerId: string | undefined;
  nodeId: string | undefined;
  host: string | undefined;
  rpcPort: number | undefined;
  trackingUrl: string;
  diagnostics: string;
  startTime: number;
  finishTime: number;
}

export interface AppReport {
  id: string;
  name: string;
  user: string;
  queue: string;
  state: AppState;
  finalStatus: FinalStatus;
  diagnostics: string;
  progress: number;
  applicationType: string;
  tags: string[];
  startedTime: number;
  finishedTime: number;
  currentAttemptId: string | undefined;
  attempts: number;
  amHost: string | undefined;
  amRpcPort: number | undefined;
  trackingUrl: string;
  allocatedMB: number;
  allocatedVCores: number;
  runningContainers: number;
  /** the app's live containers (AM and executors) and the nodes they run on */
  containers: { id: string; nodeId: string; state: string }[];
  logAggregationStatus: 'NOT_START' | 'RUNNING' | 'SUCCEEDED' | 'DISABLED';
}

export interface AllocateResponse {
  allocated: ContainerInfo[];
  completed: ContainerStatus[];
  /** node ids that became LOST since the last allocate */
  lostNodes: string[];
  numClusterNodes: number;
  /** true after an RM restart forgot this attempt's registration: re-register and re-send asks */
  resync: boolean;
  /** numbers this answer; the AM sends it back as lastResponseId */
  responseId: number;
}

export interface HeartbeatResponse {
  /** the RM does not know this node (restart or LOST): register again */
  resync: boolean;
  containersToKill: { containerId: string; exitStatus: number; diagnostics: string }[];
  /** apps that ended: kill leftovers, aggregate logs, delete dirs */
  appsToCleanup: string[];
}

/** The RM's answer to RegisterNode. */
export interface RegisterNodeResponse {
  nodeId: string;
  clusterTimestamp: number;
  /** of the node's runningApps, those that have ended: clean them up as after a heartbeat's appsToCleanup */
  appsToCleanup: string[];
}

/** A user identity file's content (src/cluster/security/identity.ts). */
export interface UserIdentity {
  cinderIdentity: 1;
  user: string;
  admin: boolean;
  expires: number;
  token: Token;
}

export interface ClusterInfo {
  clusterTimestamp: number;
  state: 'STARTED';
  version: string;
  maxAllocation: Resource;
  minAllocation: Resource;
}
