/**
 * On-demand profiling of an executor through V8's inspector (node:inspector, in-process, no debug
 * port): a CPU profile of `seconds` or a heap snapshot of the calling thread's isolate. The executor's
 * main thread profiles itself or asks one task thread to (each worker thread is its own isolate with its
 * own isolate, reached through the main thread's inspector). Results are the JSON DevTools loads (.cpuprofile, .heapsnapshot).
 */
import { Session } from 'node:inspector';

export type ProfileKind = 'cpu' | 'heap';

function post<T>(s: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))),
  );
}

/** Profiles the calling thread. */
export async function profileThisThread(kind: ProfileKind, seconds: number): Promise<Uint8Array> {
  const s = new Session();
  s.connect();
  try {
    if (kind === 'cpu') {
      await post(s, 'Profiler.enable');
      await post(s, 'Profiler.start');
      await new Promise((r) => setTimeout(r, Math.min(60, Math.max(0.1, seconds)) * 1000));
      const { profile } = await post<{ profile: unknown }>(s, 'Profiler.stop');
      return Buffer.from(JSON.stringify(profile));
    }
    const chunks: string[] = [];
    s.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push((m.params as { chunk: string }).chunk));
    await post(s, 'HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    return Buffer.from(chunks.join(''));
  } finally {
    s.disconnect();
  }
}

/**
 * Main-thread side: profiles a task thread through the main thread's inspector (NodeWorker domain),
 * whose messages reach the worker's isolate by interrupt, so a thread busy in a long task is profiled
 * while it runs (a session inside the worker would only start once the task yields to its event loop).
 */
export async function profileWorker(threadId: number, kind: ProfileKind, seconds: number): Promise<Uint8Array> {
  const s = new Session();
  s.connect();
  const pending = new Map<number, (msg: { result?: unknown; error?: { message: string } }) => void>();
  const chunks: string[] = [];
  let sessionId = '';
  try {
    const attached = new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`task thread ${threadId} did not attach to the inspector`)), 5000);
      s.on('NodeWorker.attachedToWorker', (m) => {
        const p = m.params as unknown as { sessionId: string; workerInfo: { workerId: string } };
        if (Number(p.workerInfo.workerId) !== threadId) return;
        clearTimeout(t);
        resolve(p.sessionId);
      });
    });
    s.on('NodeWorker.receivedMessageFromWorker', (m) => {
      const p = m.params as unknown as { sessionId: string; message: string };
      if (p.sessionId !== sessionId) return;
      const msg = JSON.parse(p.message) as { id?: number; method?: string; params?: { chunk: string } };
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(msg.params!.chunk);
      else if (msg.id !== undefined) {
        pending.get(msg.id)?.(msg as never);
        pending.delete(msg.id);
      }
    });
    await post(s, 'NodeWorker.enable', { waitForDebuggerOnStart: false });
    sessionId = await attached;
    let nextId = 1;
    const call = (method: string, params: object = {}) =>
      new Promise<unknown>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, (msg) => (msg.error ? reject(new Error(msg.error.message)) : resolve(msg.result)));
        post(s, 'NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(
          reject,
        );
      });
    if (kind === 'cpu') {
      await call('Profiler.enable');
      await call('Profiler.start');
      await new Promise((r) => setTimeout(r, Math.min(60, Math.max(0.1, seconds)) * 1000));
      const { profile } = (await call('Profiler.stop')) as { profile: unknown };
      return Buffer.from(JSON.stringify(profile));
    }
    await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    return Buffer.from(chunks.join(''));
  } finally {
    if (sessionId) await post(s, 'NodeWorker.detach', { sessionId }).catch(() => {});
    s.disconnect();
  }
}
