/**
 * One Cinder benchmark run as its own process (so it is timed like the baseline processes):
 *   node build/bench/job.js <workload> '<json params>'
 * params: { master?, conf?, ...workload params (input, output, passes, tasks, stages) }.
 * Prints the workload's answer line, then one line `BENCH_METRICS {json}` with the context start
 * time, the job time, the workload's extra figures and the peak RSS (VmHWM) of every executor.
 *
 * Owns: context lifecycle and executor memory sampling for one run. Must not: compare answers.
 */
import { CinderContext } from '../src/index.js';
import { vmHwmKB } from './lib/measure.js';
import { WORKLOADS } from './workloads.js';

const [name, raw] = process.argv.slice(2);
const work = name ? WORKLOADS[name] : undefined;
if (!work) {
  process.stderr.write(`usage: job.js <${Object.keys(WORKLOADS).join('|')}> '<json params>'\n`);
  process.exit(2);
}
const params = JSON.parse(raw ?? '{}') as Record<string, unknown>;
const conf: Record<string, string> = {
  'cinder.ui.showConsoleProgress': 'false',
  ...((params.conf as Record<string, string>) ?? {}),
};
const p: Record<string, string> = {};
for (const [k, v] of Object.entries(params)) if (typeof v === 'string' || typeof v === 'number') p[k] = String(v);

const t0 = performance.now();
const sc = await CinderContext.getOrCreate({
  master: String(params.master ?? 'local[2]'),
  appName: `bench-${name}`,
  conf,
});
const tStart = performance.now();

// executor pids come from the local backend (a test/fault-injection helper, not public API)
const pids = (): number[] => (sc as any)._backend?.pids?.() ?? [];
const peaks = new Map<number, number>();
const sample = () => {
  for (const pid of pids()) {
    const kb = vmHwmKB(pid);
    if (kb !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, kb));
  }
};
const timer = setInterval(sample, 200);

let code = 0;
try {
  const r = await work(sc, p);
  const tJob = performance.now();
  sample();
  process.stdout.write(`${r.answer}\n`);
  const metrics = {
    startSeconds: (tStart - t0) / 1000,
    jobSeconds: (tJob - tStart) / 1000,
    executorPeakKB: [...peaks.values()],
    memory: conf['cinder.executor.memory'] ?? '1g',
    ...(r.extra ?? {}),
  };
  process.stdout.write(`BENCH_METRICS ${JSON.stringify(metrics)}\n`);
} catch (e) {
  process.stderr.write(`bench job ${name} failed: ${(e as Error).stack ?? e}\n`);
  code = 1;
} finally {
  clearInterval(timer);
  await sc.stop();
}
process.exit(code);
