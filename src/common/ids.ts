/** Branded identifiers, so an executor id cannot be passed where a container id is expected. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
export type AppId = Brand<string, 'AppId'>;
export type AppAttemptId = Brand<string, 'AppAttemptId'>;
export type ContainerId = Brand<string, 'ContainerId'>;
export type NodeId = Brand<string, 'NodeId'>;
export type ExecutorId = Brand<string, 'ExecutorId'>;
export type JobId = Brand<number, 'JobId'>;
export type StageId = Brand<number, 'StageId'>;
export type ShuffleId = Brand<number, 'ShuffleId'>;
export type TaskId = Brand<number, 'TaskId'>;

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** YARN-style ids: application_<rmStartMs>_<seq 4d>. */
export function appId(clusterTs: number, seq: number): AppId {
  return `application_${clusterTs}_${pad(seq, 4)}` as AppId;
}
export function appAttemptId(app: AppId, attempt: number): AppAttemptId {
  return `appattempt_${app.slice('application_'.length)}_${pad(attempt, 6)}` as AppAttemptId;
}
export function containerId(app: AppId, attempt: number, n: number): ContainerId {
  return `container_${app.slice('application_'.length)}_${pad(attempt, 2)}_${pad(n, 6)}` as ContainerId;
}
/** Parses container_<ts>_<seq>_<attempt>_<n> back into the app id and attempt. */
export function parseContainerId(c: string): { app: AppId; attempt: number; n: number } | undefined {
  const m = /^container_(\d+)_(\d+)_(\d+)_(\d+)$/.exec(c);
  if (!m) return undefined;
  return { app: `application_${m[1]}_${m[2]}` as AppId, attempt: Number(m[3]), n: Number(m[4]) };
}
export function localAppId(now = Date.now()): AppId {
  return `local-${now}` as AppId;
}
