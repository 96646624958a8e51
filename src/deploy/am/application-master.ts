/**
 * The Cinder Application Master (process main, launched by a NodeManager in the AM container).
 *
 *   cluster mode (the contract's mode 'cluster'): the driver runs here. The user's main is imported in this
 *     process; its context gets executors from this AM (am-backend.ts). main returns -> the app runs on
 *     while it has handles of its own (a server, a timer, a job: every handle of the AM and the engine is
 *     unref'd, src/common/keep-alive.ts, as in `cinder submit`), then SUCCEEDED;
 *     main throws -> exit 15, unregistering FAILED only on the last attempt (else the RM retries);
 *     no context within cinder.am.waitTime -> exit 13.
 *   client mode (mode 'client'): no user code. Registers with port -1, dials the driver in
 *     the client, keeps the executor target the driver asks for, and ends the app with the status the
 *     driver reports (Shutdown, answered once the RM recorded it) — or FAILED ("driver disconnected")
 *     when the driver goes away or stops answering before reporting.
 *
 * How the attempt ends is decided by one table (am-lifecycle.ts, stepped by am-shell.ts); this file
 * turns the process's inputs into its events and implements its effects.
 *
 * What the submitter says comes in a JSON file linked into the container's dir (the AM contract,
 * src/protocol/am-launch.ts, AM_LAUNCH_FILE); what the NM says in the env: CINDER_APP_ID,
 * CINDER_ATTEMPT_ID, CINDER_RM, CINDER_NM_HOST, and CINDER_CREDENTIALS_FILE (0600, in the container's dir:
 * CINDER_APP_SECRET and this attempt's CINDER_AM_TOKEN; no cluster secret).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AmRmClient } from '../../cluster/appmaster/am-client.js';
import { rmRetryPolicy } from '../../cluster/client.js';
import { type Conf, DEFAULTS, intConf } from '../../common/conf.js';
import { takeCredentials } from '../../common/credentials.js';
import { holdProcess, ownHandlesKeepAlive, untilAppIdle } from '../../common/keep-alive.js';
import { logger } from '../../common/log.js';
import { tracePhase } from '../../common/startup-trace.js';
import { codeCacheCheckpoint, codeCacheState, importModule } from '../../executor/code-cache.js';
import { type AmToDriver, type DriverToAm, parseDriverToAm } from '../../protocol/am.js';
import { AM_LAUNCH_FILE, type AmLaunch, parseAmLaunch } from '../../protocol/am-launch.js';
import type { LocalResource } from '../../protocol/cluster.js';
import { dial, type PreListener, preListen, type ReplyHandle, type RpcConnection } from '../../rpc/index.js';
import { startAllocation } from '../driver/cluster-mode-backend.js';
import { eventLogAppender } from './am-event-log.js';
import { initialAmState } from './am-lifecycle.js';
import type { EarlyStart } from './am-runtime.js';
import { type AmIo, amShell } from './am-shell.js';

const log = logger('application-master');
/** How long main waits for the first allocate answer to be handled (its containers started). */
const FIRST_ALLOCATION_WAIT_MS = 1_000;
const env = process.env;

/** the AM's own progress lines, through the same logger as every other component */
function out(s: string): void {
  log.info(s);
}

tracePhase('am', `process started, modules loaded (code cache: ${codeCacheState()})`);
const launch = readLaunch();
const conf: Conf = { ...DEFAULTS, ...launch.conf };
const appId = env.CINDER_APP_ID ?? '';
// the RM puts the app id in the attempt id too: appattempt_<ts>_<seq>_<attempt>
// the app secret and the AM token come in the container's 0600 credentials file (read once, then deleted)
const secret = takeCredentials().CINDER_APP_SECRET ?? '';
const attemptId = env.CINDER_ATTEMPT_ID ?? '';
const attempt = Number(/_(\d+)$/.exec(attemptId)?.[1] ?? '1');
const maxAttempts = launch.maxAttempts;
const appendEventLog = eventLogAppender(env.CINDER_LOG_DIR, appId);
const host = env.CINDER_NM_HOST ?? os.hostname();
const executorResources: Record<string, LocalResource> = launch.executorResources;
const mode = launch.mode;
// cluster mode: the user's handles decide how long the process lives; the AM's own work holds it meanwhile
// (startup and main until main returns; the end from when the app is idle until exit)
let releaseStart = (): void => {};
if (mode === 'cluster') {
  ownHandlesKeepAlive(false);
  releaseStart = holdProcess();
}

/** The submitter's contract, linked into this container's dir (src/protocol/am-launch.ts). */
function readLaunch(): AmLaunch {
  const file = path.resolve(AM_LAUNCH_FILE);
  try {
    return parseAmLaunch(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${file} is missing: this container was not started by cinder submit`
        : (e as Error).message;
    process.stderr.write(`cinder-am: cannot start: ${why}\n`);
    process.exit(10);
  }
}

/**
 * A module of the engine installed next to this AM, as the user's code gets it (src/index.js's graph): in
 * the bundle, `import()` through the code-cache entry, so the module is the one the app's context uses.
 */
function engineModule<T>(rel: string): Promise<T> {
  return importModule(new URL(rel, import.meta.url).href) as Promise<T>;
}

/** the RM connection (main() makes it before anything uses it) */
let am!: AmRmClient;

/** What the effects act on; each mode fills in what it has. */
const io: AmIo = {
  log: out,
  tellDriverFailing: () => {},
  stopExecutors: async () => {},
  unregister: (status, diagnostics) => am.finish(status, diagnostics).then(() => {}),
  answerDriver: () => {},
  closeDriver: () => {},
  exit: (code) => {
    am.close();
    process.exit(code);
  },
  illegal: (e) => log.error({ err: e.message }, 'AM lifecycle: event ignored'),
};
const lifecycle = amShell(initialAmState(mode, attempt, maxAttempts), io);
const dispatch = lifecycle.dispatch;
const rmGone = (kind: 'ended' | 'lost', why: string): void =>
  dispatch(kind === 'ended' ? { type: 'RM_SAYS_EXIT', why } : { type: 'RM_LOST', why });

// a function, not top-level await: the bundle is CommonJS, so that it runs from a code cache
async function main(): Promise<void> {
  // cluster mode binds the driver's port while the RM connection's handshake is under way
  const listening = mode === 'cluster' && earlyStartWanted() ? preListen(host) : undefined;
  listening?.catch(() => {}); // awaited by startEarly
  am = await AmRmClient.connect({ retry: rmRetryPolicy(conf) }).catch((e: unknown) => {
    void listening?.then((l) => l.close());
    throw e;
  });
  if (mode === 'cluster') await runClusterMode(listening);
  else await runClientMode();
}
main().catch((e: unknown) => {
  process.stderr.write(`cinder-am: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});

/** The engine's modules that the AM uses in cluster mode, as the user's code gets them (`engineModule`). */
async function loadEngine() {
  const [keepAlive, runtime, runApp, context] = await Promise.all([
    engineModule<typeof import('../../common/keep-alive.js')>('../../common/keep-alive.js'),
    engineModule<typeof import('./am-runtime.js')>('./am-runtime.js'),
    engineModule<typeof import('../driver/run-app.js')>('../driver/run-app.js'),
    engineModule<typeof import('../../api/context.js')>('../../api/context.js'),
  ]);
  return {
    ownHandlesKeepAlive: keepAlive.ownHandlesKeepAlive,
    setAmRuntime: runtime.setAmRuntime,
    runApp: runApp.runApp,
    CinderContext: context.CinderContext,
  };
}

async function runClusterMode(listening: Promise<PreListener> | undefined): Promise<void> {
  if (launch.mode !== 'cluster') return;
  const appMain = launch.appMain;
  /** the user's main created its context */
  let registered = false;
  /** the AM is registered with the RM (early, or by the context) */
  let amRegistered = false;
  const onFatal = (diagnostics: string, exitCode: number): void =>
    dispatch({ type: 'APP_FAILING', diagnostics, exitCode });
  const early = listening ? await startEarly(await listening, onFatal) : undefined;
  if (early) amRegistered = true;
  // a main that ends without a context still has to register before it can unregister
  const unregister = io.unregister;
  io.unregister = async (status, diagnostics) => {
    if (!amRegistered) await am.register(host, -1, '');
    await unregister(status, diagnostics);
  };
  // the cache of the AM's own code holds what ran up to here (made once, when there was none): before the
  // user's main, whose driver sets a V8 flag (--expose-gc) that would make V8 reject it at the next start
  codeCacheCheckpoint();
  // the engine loads once the executors' containers are started, not earlier: its ~100 ES modules would
  // hold the event loop while the RM's answers wait (measured: registration and launches ~30 ms later)
  const { ownHandlesKeepAlive: engineHandlesKeepAlive, setAmRuntime, runApp, CinderContext } = await loadEngine();
  // the engine's am-runtime module: the one its cluster-mode backend reads (not the bundle's copy)
  setAmRuntime({
    am,
    appId,
    secret,
    host,
    attempt,
    maxAttempts,
    executorResources,
    early,
    onRegistered: () => {
      registered = true;
      amRegistered = true;
      out(`registered ${attemptId} (driver in this container on ${host})`);
      dispatch({ type: 'DRIVER_CONNECTED' });
    },
    onFatal,
    onRmGone: rmGone,
  });
  // main ended without a context (or before it started): the early executors go
  const dropEarly = async (): Promise<void> => {
    if (!early || registered) return;
    early.loop.stop();
    await early.allocator.stopAll().catch(() => {});
    early.listener.close();
  };
  const waitMs = intConf(conf, 'cinder.am.waitTime');
  const timer = setTimeout(() => {
    if (!registered)
      onFatal(`the application did not create a CinderContext within ${waitMs} ms (cinder.am.waitTime)`, 13);
  }, waitMs);
  timer.unref();
  // the driver UI of a cluster-mode driver takes any free port on the AM's node (as Spark forces)
  process.env.CINDER_SUBMIT_CONF = JSON.stringify({
    master: launch.master,
    appName: launch.appName,
    deployMode: 'cluster',
    conf: { ...launch.conf, 'cinder.ui.port': '0' },
  });
  // the engine's handles (driver endpoint, UI, executor links) do not keep the process alive either
  engineHandlesKeepAlive(false);
  const args = launch.appArgs;
  try {
    out(`running ${path.basename(appMain)} (attempt ${attempt} of ${maxAttempts})`);
    tracePhase('am', 'engine loaded, user main starting');
    await runApp(path.resolve(appMain), args, { hooks: /\.(m|c)?tsx?$/.test(appMain) });
    // main returned: the app runs on while it has handles of its own (a service's server, a timer, a job)
    releaseStart();
    await untilAppIdle(CinderContext._active());
    holdProcess();
    await CinderContext._stopActive('SUCCEEDED');
    await dropEarly();
    dispatch({ type: 'DRIVER_FINISHED', succeeded: true, diagnostics: '' });
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`User application threw: ${err?.stack ?? String(e)}\n`);
    const diagnostics = `User application exited with an exception: ${err?.stack ?? String(e)}`;
    await CinderContext._stopActive('FAILED', diagnostics).catch(() => {});
    await dropEarly();
    dispatch({ type: 'DRIVER_FINISHED', succeeded: false, diagnostics });
  }
}

/**
 * Cluster mode, before the user's main is even loaded: binds the driver's port (main(), while the RM
 * connection is made), registers with the RM and asks for the executors, so they start while main loads
 * and builds its context (whose endpoint then adopts the port). Skipped when the driver's address or port
 * is configured explicitly, or with cinder.am.earlyExecutors=false.
 */
function earlyStartWanted(): boolean {
  if (conf['cinder.am.earlyExecutors'] === 'false') return false;
  return !(conf['cinder.driver.host'] || conf['cinder.driver.bindAddress'] || conf['cinder.driver.port']);
}

/** Registers with the driver's port bound early and starts the allocation (see earlyStartWanted). */
async function startEarly(listener: PreListener, onFatal: (d: string, code: number) => void): Promise<EarlyStart> {
  try {
    await am.register(host, listener.port, '');
  } catch (e) {
    listener.close();
    throw e;
  }
  tracePhase('am', 'registered with the RM');
  const s = startAllocation({ am, appId, executorResources }, conf, {
    driverUrl: `${host}:${listener.port}`,
    initialTarget: Number(conf['cinder.executor.instances'] ?? '2'),
    onFatal,
    onRmGone: rmGone,
  });
  out(`registered ${attemptId}; requested ${s.numExecutors} executors before main (driver port ${listener.port})`);
  // the executors' containers are started before the engine's import and the user's main hold the event loop
  await s.firstRound(FIRST_ALLOCATION_WAIT_MS);
  return { listener, ...s };
}

async function runClientMode(): Promise<void> {
  if (launch.mode !== 'client') return;
  const driverUrl = launch.driverUrl;
  const amUrl = launch.driverAmUrl;
  // the driver chose the app secret at submission; it is this AM's CINDER_APP_SECRET
  const driverSecret = secret;
  const [dhost, dport] = amUrl.split(/:(?=\d+$)/);
  // client mode: no RPC port of our own (-1); the tracking address is the driver's UI on the client
  await am.register(host, -1, launch.driverUiUrl ?? '');
  out(`registered ${attemptId}; dialing the driver at ${amUrl}`);
  let conn: RpcConnection<DriverToAm, AmToDriver>;
  /** the driver's Shutdown request, answered once the RM recorded the end */
  let shutdown: ReplyHandle | undefined;
  try {
    conn = await dial<DriverToAm, AmToDriver>(
      {
        host: dhost!,
        port: Number(dport),
        principal: appId,
        secret: driverSecret,
        parse: parseDriverToAm,
        name: 'driver',
        connectTimeoutMs: 10_000,
      },
      (m, reply) => onDriver(m, reply),
    );
  } catch (e) {
    return dispatch({
      type: 'DRIVER_LOST',
      why: `the AM could not reach the driver at ${amUrl}: ${(e as Error).message.split('\n')[0]}`,
    });
  }
  io.closeDriver = () => conn.close();
  io.tellDriverFailing = (exitCode, diagnostics) => conn.send({ type: 'AppFailing', exitCode, diagnostics });
  io.answerDriver = (unregistered, diagnostics) => shutdown?.reply({ unregistered, diagnostics });
  dispatch({ type: 'DRIVER_CONNECTED' });
  codeCacheCheckpoint();
  // the same allocator as cluster mode's; the driver sets the target (RequestExecutors)
  const { allocator, loop } = startAllocation({ am, appId, executorResources }, conf, {
    driverUrl,
    appSecret: driverSecret,
    initialTarget: 0,
    onExecutorExited: (e) => conn.send({ type: 'ExecutorExited', ...e }),
    onFatal: (diagnostics, exitCode) => dispatch({ type: 'APP_FAILING', diagnostics, exitCode }),
    onRmGone: rmGone,
  });
  io.stopExecutors = async () => {
    loop.stop();
    await allocator.stopAll();
  };

  function onDriver(m: DriverToAm, reply: ReplyHandle | undefined): void {
    switch (m.type) {
      case 'RequestExecutors':
        allocator.setTarget(m.total);
        return;
      case 'KillExecutors':
        void allocator.kill(m.executorIds);
        return;
      case 'EventLog':
        appendEventLog(m.data, m.final);
        return;
      case 'Shutdown':
        shutdown ??= reply;
        dispatch({ type: 'DRIVER_FINISHED', succeeded: m.succeeded, diagnostics: m.diagnostics });
        return;
    }
  }

  // a driver that disconnects, or stops answering pings for the lease time, is gone
  const leaseMs = intConf(conf, 'cinder.am.driverLeaseMs');
  let lastAnswer = Date.now();
  conn.on('close', () => dispatch({ type: 'DRIVER_LOST', why: 'the connection to the driver closed' }));
  setInterval(
    () => {
      if (lifecycle.state.status !== 'RUNNING') return;
      if (Date.now() - lastAnswer > leaseMs)
        return dispatch({
          type: 'DRIVER_LOST',
          why: `no answer from the driver for ${Date.now() - lastAnswer} ms (cinder.am.driverLeaseMs=${leaseMs})`,
        });
      conn.request({ type: 'Ping', at: Date.now() }, leaseMs).then(
        () => {
          lastAnswer = Date.now();
        },
        () => {},
      );
    },
    Math.max(200, Math.floor(leaseMs / 5)),
  ).unref();
  await conn
    .request({
      type: 'RegisterClusterManager',
      appId,
      attemptId,
      amHost: host,
      uid: process.getuid?.(),
      gid: process.getgid?.(),
    })
    .catch(() => {});
}
