/**
 * Spark's monitoring REST API (/api/v1) over one or more AppStores: the driver serves its own app,
 * the history server every app it has replayed. Paths, query parameters, enums and errors follow
 * Spark's (see /work/shared/reference/rest-and-events.md §1); pretty-printed like Spark's Jackson.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { VERSION } from '../common/version.js';
import type { AppStore, StageRec } from './app-store.js';
import {
  applicationInfo,
  environmentInfo,
  executorSummary,
  jobData,
  type LiveExecutor,
  rddStorageInfo,
  stageData,
  taskData,
  taskSummary,
} from './rest-views.js';

export interface AppSource {
  list(): AppStore[];
  get(appId: string): AppStore | undefined;
  /** live executor memory (driver only) */
  live?(executorId: string): LiveExecutor | undefined;
  /** the Spark-compatible version string reported at /api/v1/version */
  version?: string;
}

type Q = Record<string, string | string[] | undefined>;

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim().toUpperCase());

function send(reply: FastifyReply, body: unknown, code = 200): FastifyReply {
  return reply
    .code(code)
    .type('application/json')
    .send(`${JSON.stringify(body, null, 2)}\n`);
}

function notFound(reply: FastifyReply, msg: string): FastifyReply {
  return reply.code(404).type('text/plain').send(`${msg}\n`);
}

function badParam(reply: FastifyReply, msg: string): FastifyReply {
  return reply.code(400).type('text/plain').send(`${msg}\n`);
}

function parseQuantiles(v: string | undefined, dflt: number[]): number[] | string {
  if (!v) return dflt;
  const q = v.split(',').map(Number);
  if (q.some((x) => !Number.isFinite(x) || x < 0 || x > 1)) return `Bad value for parameter "quantiles": ${v}`;
  return q;
}

function parseDate(v: string | undefined): number | string | undefined {
  if (!v) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}:\d{2}\.\d{3})(GMT|Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
  if (!m) return `Couldn't parse date: ${v}`;
  const iso = m[2] ? `${m[1]}T${m[2]}${m[3] === 'GMT' || !m[3] ? 'Z' : m[3]}` : `${m[1]}T00:00:00.000Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? `Couldn't parse date: ${v}` : t;
}

export function registerRest(app: FastifyInstance, src: AppSource): void {
  const base = '/api/v1';
  app.get(`${base}/version`, async (_req, reply) => send(reply, { spark: src.version ?? VERSION }));
  app.get<{ Querystring: Q }>(`${base}/applications`, async (req, reply) => {
    const status = list(req.query.status);
    for (const s of status)
      if (s !== 'COMPLETED' && s !== 'RUNNING')
        return badParam(reply, `Bad value for parameter "status": ${s} (expected completed or running)`);
    const bounds: number[] = [];
    for (const [k, d] of [
      ['minDate', 0],
      ['maxDate', Number.MAX_SAFE_INTEGER],
      ['minEndDate', 0],
      ['maxEndDate', Number.MAX_SAFE_INTEGER],
    ] as const) {
      const v = parseDate(req.query[k] as string | undefined);
      if (typeof v === 'string') return badParam(reply, v);
      bounds.push(v ?? d);
    }
    const [minDate, maxDate, minEnd, maxEnd] = bounds as [number, number, number, number];
    const limit = req.query.limit !== undefined ? Number(req.query.limit) : Number.POSITIVE_INFINITY;
    const apps = src
      .list()
      .filter((s) => status.length === 0 || status.includes(s.completed ? 'COMPLETED' : 'RUNNING'))
      .filter((s) => s.app.startTime >= minDate && s.app.startTime <= maxDate)
      .filter((s) => {
        const end = s.app.endTime;
        if (end === undefined) return maxEnd > Date.now();
        return end >= minEnd && end <= maxEnd;
      })
      .sort(
        (a, b) =>
          (b.app.endTime ?? Number.MAX_SAFE_INTEGER) - (a.app.endTime ?? Number.MAX_SAFE_INTEGER) ||
          b.app.startTime - a.app.startTime,
      )
      .slice(0, limit)
      .map(applicationInfo);
    return send(reply, apps);
  });

  // every per-app path also exists with an attempt id, as in Spark
  const app1 = (p: string) => [`${base}/applications/:appId${p}`, `${base}/applications/:appId/:attemptId${p}`];
  const withApp = (
    paths: string[],
    h: (s: AppStore, req: { params: Record<string, string>; query: Q }, reply: FastifyReply) => unknown,
  ) => {
    for (const p of paths)
      app.get<{ Params: Record<string, string>; Querystring: Q }>(p, async (req, reply) => {
        const s = src.get(req.params.appId as string);
        if (!s) return notFound(reply, `no such app: ${req.params.appId}`);
        const attempt = req.params.attemptId;
        if (attempt !== undefined && attempt !== (s.app.attemptId ?? ''))
          return notFound(reply, `unknown app attempt ${attempt} of ${s.app.id}`);
        return h(s, req, reply);
      });
  };

  withApp([`${base}/applications/:appId`], (s, _req, reply) => send(reply, applicationInfo(s)));
  app.get<{ Params: Record<string, string> }>(`${base}/applications/:appId/:attemptId`, async (req, reply) => {
    const s = src.get(req.params.appId as string);
    if (!s) return notFound(reply, `no such app: ${req.params.appId}`);
    const info = applicationInfo(s).attempts[0];
    if (req.params.attemptId !== (s.app.attemptId ?? ''))
      return notFound(reply, `unknown app attempt ${req.params.attemptId}`);
    return send(reply, info);
  });

  withApp(app1('/jobs'), (s, req, reply) => {
    const want = list(req.query.status);
    for (const w of want)
      if (!['RUNNING', 'SUCCEEDED', 'FAILED', 'UNKNOWN'].includes(w))
        return badParam(reply, `Bad value for parameter "status": ${w}`);
    const jobs = [...s.jobs.values()]
      .reverse()
      .filter((j) => want.length === 0 || want.includes(j.status))
      .map((j) => jobData(s, j));
    return send(reply, jobs);
  });
  withApp(app1('/jobs/:jobId'), (s, req, reply) => {
    const j = s.jobs.get(Number(req.params.jobId));
    if (!j) return notFound(reply, `unknown job: ${req.params.jobId}`);
    return send(reply, jobData(s, j));
  });

  const stageStatuses = ['ACTIVE', 'COMPLETE', 'PENDING', 'SKIPPED', 'FAILED'];
  const taskStatuses = ['RUNNING', 'KILLED', 'FAILED', 'SUCCESS', 'UNKNOWN'];
  withApp(app1('/stages'), (s, req, reply) => {
    const want = list(req.query.status);
    for (const w of want)
      if (!stageStatuses.includes(w)) return badParam(reply, `Bad value for parameter "status": ${w}`);
    const details = req.query.details === 'true';
    const now = Date.now();
    const stages = [...s.stages.values()]
      .reverse()
      .filter((st) => want.length === 0 || want.includes(st.status))
      .map((st) => stageData(st, details, now));
    return send(reply, stages);
  });
  withApp(app1('/stages/:stageId'), (s, req, reply) => {
    const id = Number(req.params.stageId);
    const attempts = [...s.stages.values()].filter((st) => st.stageId === id);
    if (attempts.length === 0) return notFound(reply, `unknown stage: ${req.params.stageId}`);
    const details = req.query.details !== 'false';
    const now = Date.now();
    return send(
      reply,
      attempts.map((st) => stageData(st, details, now)),
    );
  });
  const oneStage = (s: AppStore, params: Record<string, string>, reply: FastifyReply): StageRec | undefined => {
    const st = s.stage(Number(params.stageId), Number(params.stageAttemptId));
    if (!st) notFound(reply, `unknown attempt ${params.stageAttemptId} of stage ${params.stageId}`);
    return st;
  };
  withApp(app1('/stages/:stageId/:stageAttemptId'), (s, req, reply) => {
    const st = oneStage(s, req.params, reply);
    if (!st) return reply;
    return send(reply, stageData(st, req.query.details !== 'false', Date.now()));
  });
  withApp(app1('/stages/:stageId/:stageAttemptId/taskSummary'), (s, req, reply) => {
    const st = oneStage(s, req.params, reply);
    if (!st) return reply;
    const q = parseQuantiles(req.query.quantiles as string | undefined, [0.05, 0.25, 0.5, 0.75, 0.95]);
    if (typeof q === 'string') return badParam(reply, q);
    const sum = taskSummary(st, q);
    if (!sum) return notFound(reply, `no tasks reported metrics for stage ${st.stageId} attempt ${st.attemptId}`);
    return send(reply, sum);
  });
  withApp(app1('/stages/:stageId/:stageAttemptId/taskList'), (s, req, reply) => {
    const st = oneStage(s, req.params, reply);
    if (!st) return reply;
    const offset = Number(req.query.offset ?? 0);
    const length = Number(req.query.length ?? 20);
    if (!Number.isInteger(offset) || offset < 0)
      return badParam(reply, `Bad value for parameter "offset": ${req.query.offset}`);
    if (!Number.isInteger(length) || length < 0)
      return badParam(reply, `Bad value for parameter "length": ${req.query.length}`);
    const want = list(req.query.status);
    for (const w of want)
      if (!taskStatuses.includes(w)) return badParam(reply, `Bad value for parameter "status": ${w}`);
    const now = Date.now();
    const sortBy = String(req.query.sortBy ?? 'ID');
    const dur = (t: { launchTime: number; finishTime: number | undefined }) => (t.finishTime ?? now) - t.launchTime;
    const tasks = [...st.tasks.values()].filter((t) => want.length === 0 || want.includes(t.status));
    if (/^(runtime|increasing_runtime)$/i.test(sortBy)) tasks.sort((a, b) => dur(a) - dur(b));
    else if (/^(-runtime|decreasing_runtime)$/i.test(sortBy)) tasks.sort((a, b) => dur(b) - dur(a));
    else if (/^id$/i.test(sortBy)) tasks.sort((a, b) => a.taskId - b.taskId);
    else return badParam(reply, `Bad value for parameter "sortBy": ${sortBy} (ID, runtime or -runtime)`);
    return send(
      reply,
      tasks.slice(offset, offset + length).map((t) => taskData(t, now)),
    );
  });

  withApp(app1('/executors'), (s, _req, reply) =>
    send(
      reply,
      [...s.executors.values()]
        .filter((e) => e.removeTime === undefined)
        .map((e) => executorSummary(s, e, src.live?.(e.id))),
    ),
  );
  withApp(app1('/allexecutors'), (s, _req, reply) =>
    send(
      reply,
      [...s.executors.values()].map((e) => executorSummary(s, e, src.live?.(e.id))),
    ),
  );
  withApp(app1('/storage/rdd'), (s, _req, reply) => send(reply, rddStorageInfo(s)));
  withApp(app1('/storage/rdd/:rddId'), (s, req, reply) => {
    const r = rddStorageInfo(s).find((x) => x.id === Number(req.params.rddId));
    return r ? send(reply, r) : notFound(reply, `unknown rdd: ${req.params.rddId}`);
  });
  withApp(app1('/environment'), (s, _req, reply) => send(reply, environmentInfo(s)));
}
