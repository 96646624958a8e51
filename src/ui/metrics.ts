/**
 * Prometheus text for the application (prom-client), read from the status store at scrape time:
 *
 *   GET /metrics                          cinder_app_* : jobs and stages by status, tasks by result,
 *                                         executors, shuffle bytes, plus the driver's process metrics
 *   GET /metrics/executors/prometheus     Spark's executor metrics (metrics_executor_* with
 *                                         application_id, application_name, executor_id labels)
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { AppStore } from './app-store.js';
import { executorSummary, type LiveExecutor } from './rest-views.js';

export function appRegistry(store: AppStore): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg, prefix: 'cinder_driver_' });
  new Gauge({
    name: 'cinder_app_jobs',
    help: 'jobs of the application by status (RUNNING, SUCCEEDED, FAILED)',
    labelNames: ['status'],
    registers: [reg],
    collect() {
      this.reset();
      for (const j of store.jobs.values()) this.inc({ status: j.status });
    },
  });
  new Gauge({
    name: 'cinder_app_stages',
    help: 'stage attempts by status (ACTIVE, COMPLETE, FAILED)',
    labelNames: ['status'],
    registers: [reg],
    collect() {
      this.reset();
      for (const s of store.stages.values()) this.inc({ status: s.status });
    },
  });
  new Counter({
    name: 'cinder_app_tasks_total',
    help: 'task attempts that ended, by result (success, failed, killed)',
    labelNames: ['result'],
    registers: [reg],
    collect() {
      this.reset();
      this.inc({ result: 'success' }, store.totals.tasksSucceeded);
      this.inc({ result: 'failed' }, store.totals.tasksFailed);
      this.inc({ result: 'killed' }, store.totals.tasksKilled);
    },
  });
  new Gauge({
    name: 'cinder_app_running_tasks',
    help: 'task attempts running now',
    registers: [reg],
    collect() {
      let n = 0;
      for (const e of store.executors.values()) n += e.activeTasks;
      this.set(n);
    },
  });
  new Gauge({
    name: 'cinder_app_executors',
    help: 'executors by state (active, removed)',
    labelNames: ['state'],
    registers: [reg],
    collect() {
      this.reset();
      for (const e of store.executors.values()) this.inc({ state: e.removeTime === undefined ? 'active' : 'removed' });
    },
  });
  for (const [name, help, f] of [
    ['cinder_app_shuffle_read_bytes_total', 'shuffle bytes read by finished tasks', 'read'],
    ['cinder_app_shuffle_write_bytes_total', 'shuffle bytes written by finished tasks', 'write'],
    ['cinder_app_input_bytes_total', 'input bytes read by finished tasks', 'input'],
  ] as const)
    new Counter({
      name,
      help,
      registers: [reg],
      collect() {
        let n = 0;
        for (const e of store.executors.values())
          n += f === 'read' ? e.totalShuffleRead : f === 'write' ? e.totalShuffleWrite : e.totalInputBytes;
        this.reset();
        this.inc(n);
      },
    });
  return reg;
}

/** Spark's /metrics/executors/prometheus text (PrometheusResource). */
export function executorsPrometheus(store: AppStore, live: (id: string) => LiveExecutor | undefined): string {
  const lines: string[] = [];
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  for (const e of store.executors.values()) {
    if (e.removeTime !== undefined) continue;
    const x = executorSummary(store, e, live(e.id));
    const l = `{application_id="${esc(store.app.id)}", application_name="${esc(store.app.name)}", executor_id="${esc(e.id)}"}`;
    const put = (name: string, v: number) => lines.push(`metrics_executor_${name}${l} ${v}`);
    put('rddBlocks', x.rddBlocks);
    put('memoryUsed_bytes', x.memoryUsed);
    put('diskUsed_bytes', x.diskUsed);
    put('totalCores', x.totalCores);
    put('maxTasks', x.maxTasks);
    put('activeTasks', x.activeTasks);
    put('failedTasks_total', x.failedTasks);
    put('completedTasks_total', x.completedTasks);
    put('totalTasks_total', x.totalTasks);
    put('totalDuration_seconds_total', x.totalDuration / 1000);
    put('totalGCTime_seconds_total', x.totalGCTime / 1000);
    put('totalInputBytes_bytes_total', x.totalInputBytes);
    put('totalShuffleRead_bytes_total', x.totalShuffleRead);
    put('totalShuffleWrite_bytes_total', x.totalShuffleWrite);
    put('maxMemory_bytes', x.maxMemory);
    if (x.peakMemoryMetrics?.ProcessTreeJVMRSSMemory)
      put('ProcessTreeJVMRSSMemory_bytes', x.peakMemoryMetrics.ProcessTreeJVMRSSMemory);
    if (x.peakMemoryMetrics?.JVMHeapMemory) put('JVMHeapMemory_bytes', x.peakMemoryMetrics.JVMHeapMemory);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
