/**
 * A tiny generic ApplicationMaster (process main) for tests and smoke runs: registers, asks for N
 * containers running one command, starts them as they arrive, replaces containers lost with their
 * node (-100), and finishes SUCCEEDED when all N exited 0, else FAILED with each failure's
 * diagnostics. Spec: JSON in argv[2] (SimpleAmSpec). A test and example AM: the AM of cinder submit is src/deploy/am/application-master.ts.
 */
import os from 'node:os';
import { ExitStatus, type LaunchContext, type Resource } from '../../protocol/cluster.js';
import { AmRmClient } from './am-client.js';

export interface SimpleAmSpec {
  containers: number;
  resource: Resource;
  launchContext: LaunchContext;
  /** heartbeat interval, ms (default 3000) */
  intervalMs?: number;
  /** re-ask for containers lost with their node (default true) */
  replaceLost?: boolean;
  /** the tracking URL to register (a UI the RM's web proxy forwards to; default none) */
  trackingUrl?: string;
}

function out(s: string): void {
  process.stdout.write(`simple-am: ${s}\n`);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as SimpleAmSpec;
  const am = await AmRmClient.connect();
  const reg = await am.register(os.hostname(), -1, spec.trackingUrl ?? '');
  out(`registered ${am.attemptId} in queue ${reg.queue}`);
  am.addAsks([{ count: spec.containers, resource: spec.resource }]);
  let succeeded = 0;
  let launchFailures = 0;
  const failures: string[] = [];
  const started = new Set<string>(reg.runningContainers.map((c) => c.id));
  let finish: (() => void) | undefined;
  const allDone = new Promise<void>((r) => {
    finish = r;
  });
  const loop = am.heartbeatLoop({
    intervalMs: spec.intervalMs ?? 3_000,
    onResponse: async (r) => {
      for (const n of r.lostNodes) out(`node lost ${n}`);
      for (const c of r.allocated) {
        started.add(c.id);
        out(`allocated ${c.id} on ${c.nodeId}`);
        await am.startContainer(c, spec.launchContext).catch((e: Error) => {
          // like Spark's allocator: a launch error releases the container and asks for another
          out(`launch of ${c.id} failed (${e.message}); releasing it and asking again`);
          am.release([c.id]);
          if (++launchFailures > spec.containers * 2) failures.push(`${c.id}: launch failed: ${e.message}`);
          else am.addAsks([{ count: 1, resource: spec.resource }]);
        });
      }
      for (const c of r.completed) {
        out(`completed ${c.containerId} exit ${c.exitStatus} ${c.diagnostics}`);
        if (c.exitStatus === 0) succeeded++;
        else if (c.exitStatus === ExitStatus.KILLED_BY_APPMASTER && c.diagnostics.includes('released')) continue;
        else if (c.exitStatus === ExitStatus.ABORTED && spec.replaceLost !== false) {
          out(`re-asking for a container to replace ${c.containerId}`);
          am.addAsks([{ count: 1, resource: spec.resource }]);
        } else failures.push(`${c.containerId} exited with ${c.exitStatus}: ${c.diagnostics}`);
      }
      if (succeeded + failures.length >= spec.containers) finish?.();
    },
    onError: (e) => out(`heartbeat failed: ${e.message}`),
  });
  await Promise.race([allDone, loop.done]);
  loop.stop();
  if (failures.length === 0) {
    await am.finish('SUCCEEDED', `${succeeded} containers succeeded`);
    out('finished SUCCEEDED');
  } else {
    await am.finish('FAILED', failures.join('\n'));
    out(`finished FAILED: ${failures.join('; ')}`);
  }
  am.close();
}

main().catch((e: Error) => {
  process.stderr.write(`simple-am failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
