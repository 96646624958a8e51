/**
 * CPU-profiling preload for processes whose command line we do not control (executors, their task
 * threads): Node 20 refuses `--cpu-prof` in NODE_OPTIONS, but accepts `--import`, so
 *   CINDER_BENCH_PROF_DIR=/tmp/prof NODE_OPTIONS="--import=/ABS/build/bench/lib/cpu-prof.js" node ...
 * profiles every Node process and worker thread started below it with the inspector's sampling
 * profiler. Each thread writes <dir>/<pid>-<thread>-<n>.cpuprofile every 5 s (by default) and at exit (task
 * threads are terminated without an exit event, so the periodic files keep all but the last interval).
 * Each checkpoint costs the thread ~0.1-0.3 s (it shows as `dispatch` under inspector `post`):
 * CINDER_BENCH_PROF_INTERVAL_MS (default 5000) trades that overhead against what a killed thread loses.
 * Summarize with build/bench/profile-summary.js.
 *
 * Owns: profiling only. Must not: change what the profiled program does.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';

const dir = process.env.CINDER_BENCH_PROF_DIR;
if (dir) {
  fs.mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  let n = 0;
  const post = (method: string, params: object = {}) =>
    new Promise<any>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  const write = (profile: unknown) => {
    const name = `${process.pid}-${isMainThread ? 'main' : `t${threadId}`}-${String(n++).padStart(3, '0')}.cpuprofile`;
    fs.writeFileSync(path.join(dir, name), JSON.stringify(profile));
  };
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  const timer = setInterval(
    async () => {
      try {
        const { profile } = await post('Profiler.stop');
        write(profile);
        await post('Profiler.start');
      } catch {
        /* session gone */
      }
    },
    Number(process.env.CINDER_BENCH_PROF_INTERVAL_MS ?? 5000),
  );
  timer.unref();
  process.on('exit', () => {
    // synchronous: session.post calls back synchronously for a same-thread session
    session.post('Profiler.stop', (e, r) => {
      if (!e && r) write(r.profile);
    });
  });
}
