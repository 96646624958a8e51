/**
 * Cluster deploy mode, client side (Spark's yarn Client): pre-flight sizing against the cluster's
 * maximum allocation, staging (app bundle, --files, --archives), submission of the AM that will run
 * the driver, then either one report (--no-wait) or state changes until the end. The exit code is 0
 * exactly when the application FINISHED with final status SUCCEEDED. Also `--status` and `--kill`.
 * The client waits out an RM restart (ClusterClient retries for cinder.rm.connect.maxWaitMs); if the
 * restarted RM forgot the not-yet-submitted application id, staging and submission start over once.
 */

import { esc } from '../../cli/escape.js';
import type { ClusterClient } from '../../cluster/client.js';
import { intConf } from '../../common/conf.js';
import { CinderError } from '../../common/errors.js';
import { traceEnv, tracePhase } from '../../common/startup-trace.js';
import { AM_LAUNCH_FILE, AM_LAUNCH_VERSION, encodeAmLaunch } from '../../protocol/am-launch.js';
import type { AppReport } from '../../protocol/cluster.js';
import { hasEnded } from '../../protocol/cluster.js';
import { applyEncryptionSetting, ENCRYPTION_CONF_KEY } from '../../rpc/encryption.js';
import { AM_MAIN } from '../am/am-main.js';
import { clusterAmSize, executorSize, totalMB } from '../container-sizing.js';
import { describeReport, ReportLines, stamp } from './report-lines.js';
import { APP_LINK, packageApp, stageFiles } from './staging.js';
import { defaultsConf, type SubmitRequest } from './submit-options.js';

const toStdout = (line: string) => process.stdout.write(line);
function say(s: string): void {
  toStdout(stamp(s));
}

export function exitCodeOf(r: AppReport): number {
  return r.state === 'FINISHED' && r.finalStatus === 'SUCCEEDED' ? 0 : 1;
}

const describe = describeReport;

export async function submitCluster(req: SubmitRequest): Promise<number> {
  // esbuild (its own process) starts bundling the app first; this process meanwhile loads the RPC client
  // (~40 ms of modules: imported here, not statically) and makes the connection and its handshake. The
  // bundle's outcome comes first: an app that does not compile fails before anything is asked of the cluster
  const packaging = packageApp(req.app);
  packaging.catch(() => {}); // reported below
  const { connectCluster } = await import('./cluster-connect.js');
  const connecting = connectCluster(req.master, req.conf);
  connecting.catch(() => {}); // reported below, after the compile check
  const { archive, entry } = await packaging.catch((e: unknown) => {
    void connecting.then(
      (c) => c.close(),
      () => {},
    );
    throw e;
  });
  tracePhase('cli', 'app packaged');
  const client = await connecting.catch((e: Error) => {
    throw new CinderError(
      'MASTER_UNREACHABLE',
      `cannot reach the cluster at ${req.master}: ${e.message}`,
      'check the master URL (`cinder cluster up` prints it) and the cluster secret',
    );
  });
  tracePhase('cli', 'connected to the RM');
  try {
    const conf = req.conf;
    let submitted: { appId: string; report: AppReport };
    try {
      submitted = await stageAndSubmit(client, req, archive, entry);
    } catch (e) {
      if ((e as CinderError).code !== 'RESERVATION_LOST') throw e;
      say(`${(e as Error).message.split('\n')[0]}; staging again under a new application id`);
      submitted = await stageAndSubmit(client, req, archive, entry);
    }
    const { appId, report } = submitted;
    tracePhase('cli', 'application submitted to the RM');
    say(`submitted application ${appId} named ${JSON.stringify(report.name)} (cluster mode, queue ${req.queue})`);
    if (!req.wait) {
      say(describe(report));
      return report.state === 'FAILED' || report.state === 'KILLED' ? 1 : 0;
    }
    return await follow(client, appId, intConf(conf, 'cinder.yarn.report.interval') || 1000).catch((e: Error) => {
      throw new CinderError(
        (e as CinderError).code ?? 'REPORT_FAILED',
        `lost track of ${appId}: ${e.message.split('\n')[0]}`,
        `the application may still be running: \`cinder status ${appId}\` once the ResourceManager is back`,
      );
    });
  } finally {
    client.close();
  }
}

/** New application id, pre-flight size check, staging, submission. */
async function stageAndSubmit(
  client: ClusterClient,
  req: SubmitRequest,
  archive: Uint8Array,
  entry: string,
): Promise<{ appId: string; report: AppReport }> {
  const { rejectUnlessFits } = await import('./cluster-connect.js');
  const { appId, maxCapability } = await client.newApplication();
  const conf = req.conf;
  const am = clusterAmSize(conf);
  await rejectUnlessFits(client, appId, [am, executorSize(conf)], maxCapability);
  // the app's archive goes up while the other files and then the contract (which lists them) do
  const uploadingApp = client.uploadFile(appId, `${APP_LINK}.tgz`, archive);
  uploadingApp.catch(() => {}); // awaited below
  const files = await stageFiles(client, appId, req.files, req.archives);
  const maxAttempts = Number(conf['cinder.yarn.maxAppAttempts'] ?? '2');
  const contract = await client.uploadFile(
    appId,
    AM_LAUNCH_FILE,
    encodeAmLaunch({
      version: AM_LAUNCH_VERSION,
      mode: 'cluster',
      master: req.master,
      appName: req.name,
      conf,
      appMain: entry,
      appArgs: req.args,
      executorResources: files,
      maxAttempts,
    }),
  );
  const appRes = await uploadingApp;
  const report = await client.submitApplication({
    appId,
    name: req.name,
    queue: req.queue,
    amResource: { memoryMB: totalMB(am), vcores: am.vcores },
    amLaunchContext: {
      command: ['node', AM_MAIN],
      // CINDER_STARTUP_TRACE=1 follows the app into its containers (src/common/startup-trace.ts)
      env: traceEnv(),
      localResources: {
        [APP_LINK]: { ...appRes, type: 'ARCHIVE' },
        [AM_LAUNCH_FILE]: { ...contract, type: 'FILE' },
        ...files,
      },
    },
    maxAttempts,
    tags: ['deploy-mode:cluster'],
  });
  return { appId, report };
}

/** Prints state changes (with a timestamp and tracking address) until the app ends. */
async function follow(client: ClusterClient, appId: string, intervalMs: number): Promise<number> {
  const lines = new ReportLines(toStdout);
  for (;;) {
    const r = await client.getApplication(appId);
    if (hasEnded(r.state)) {
      lines.final(r, `driver log: cinder logs ${appId}`);
      return exitCodeOf(r);
    }
    lines.report(r);
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}

export async function statusOrKill(given: string | undefined, status?: string, kill?: string): Promise<number> {
  const conf = defaultsConf();
  // the same precedence as a submission: --master, the defaults file, then CINDER_MASTER
  const master = given ?? conf['cinder.master'] ?? process.env.CINDER_MASTER;
  if (!master?.startsWith('cinder://'))
    throw new CinderError(
      'BAD_ARGUMENT',
      master
        ? `--status and --kill need a cluster master, got '${master}'`
        : '--status and --kill need a cluster master',
      'pass --master cinder://HOST:PORT or set CINDER_MASTER',
    );
  applyEncryptionSetting(conf[ENCRYPTION_CONF_KEY], ENCRYPTION_CONF_KEY);
  const { connectCluster } = await import('./cluster-connect.js');
  const client = await connectCluster(master, conf);
  try {
    if (kill) {
      const r = await client.kill(kill, 'killed by cinder submit --kill');
      if (r.alreadyTerminal) process.stderr.write(`warning: ${esc(kill)} had already ended (${esc(r.state)})\n`);
      say(`${kill} ${r.state}`);
      return 0;
    }
    const r = await client.getApplication(status!);
    say(describe(r));
    return 0;
  } finally {
    client.close();
  }
}
