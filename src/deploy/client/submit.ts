/**
 * `cinder submit` behaviour. Local masters and client mode run the app's driver in this process;
 * cluster mode stages the app and hands it to the ResourceManager (src/deploy/client/cluster-submit.ts).
 * Returns the process exit code: 0 exactly when the application succeeded. What it prints is escaped
 * (src/cli/escape.ts): app names, states and diagnostics come from users and the cluster.
 */

import { escLines } from '../../cli/escape.js';
import { CinderError } from '../../common/errors.js';
import { holdProcess, ownHandlesKeepAlive, untilAppIdle } from '../../common/keep-alive.js';
import type { TranspiledText } from '../../common/module-text.js';
import { tracePhase } from '../../common/startup-trace.js';
import { applyEncryptionSetting, ENCRYPTION_CONF_KEY } from '../../rpc/encryption.js';
import type { CompiledApp } from './compile-cache.js';
import { buildSubmitRequest, type RawSubmitOptions, type SubmitRequest } from './submit-options.js';

// the rest (esbuild, pino, the loader) loads once the options are read, so a local master's executors
// start first (decision 0017)

function fail(e: unknown): number {
  const err = e as Error;
  process.stderr.write(
    `cinder submit: ${escLines(err instanceof CinderError ? err.message : (err.stack ?? String(err)))}\n`,
  );
  return 1;
}

export async function submitMain(
  app: string | undefined,
  args: string[],
  o: RawSubmitOptions & { status?: string; kill?: string },
): Promise<number> {
  try {
    if (o.status || o.kill) {
      const { statusOrKill } = await import('./cluster-submit.js');
      return await statusOrKill(o.master, o.status, o.kill);
    }
    if (!app)
      throw new CinderError(
        'BAD_ARGUMENT',
        'no application file given',
        'usage: cinder submit [options] APP.ts [args...]',
      );
    const req = buildSubmitRequest(app, args, o);
    // a driver heap (--driver-memory) for a driver in this process: this command starts again with it
    const { driverHeapToSet, endWithStarter, rerunWithHeap } = await import('./driver-heap.js');
    const heapMb = driverHeapToSet(req);
    if (heapMb !== undefined) return await rerunWithHeap(heapMb);
    endWithStarter();
    // before anything dials or serves: the client, its driver and the servers it starts
    applyEncryptionSetting(req.conf[ENCRYPTION_CONF_KEY], ENCRYPTION_CONF_KEY);
    if (req.verbose) {
      const { redact } = await import('../../common/log.js');
      process.stderr.write(`cinder submit: ${escLines(JSON.stringify({ ...req, conf: redact(req.conf) }, null, 2))}\n`);
    }
    if (req.typecheck) {
      const { typecheck } = await import('./typecheck.js');
      await typecheck(req.app);
    }
    if (req.deployMode === 'cluster') {
      // cluster mode compiles the app once, while packaging it (before anything is staged)
      const { submitCluster } = await import('./cluster-submit.js');
      return await submitCluster(req);
    }
    // local masters: the executors start now, while the app compiles and loads
    (await import('./spare-executors.js')).startSparesFor(req);
    // the engine loads while esbuild (its own process) checks the app, and before the TS loader's hooks:
    // once they are registered every module resolution is a round trip to their thread (~100 for the engine)
    const engine = import('../../index.js');
    const compiled = await compileApp(req.app);
    await engine;
    return await runDriverHere(req, compiled.transpiled);
  } catch (e) {
    return fail(e);
  }
}

/**
 * Checks that the app compiles and transpiles its TypeScript files, or takes both from the compile cache
 * when none of its files changed since an earlier submit (decision 0034: no esbuild then). Closure capture
 * reads the app's transpiled text and the TS loader runs the same text, transpiled once here with the
 * esbuild service the check started (the loader's thread then needs no esbuild).
 */
async function compileApp(app: string): Promise<CompiledApp> {
  const [cache, texts] = await Promise.all([import('./compile-cache.js'), import('../../common/module-text.js')]);
  const cached = cache.lookupCompiled(app);
  if (cached) {
    texts.seedModuleTexts(cached.transpiled);
    tracePhase('cli', 'app compile-checked (cache: used)');
    return cached;
  }
  const { checkCompiles } = await import('./compile-check.js');
  const sources = await checkCompiles(app);
  await texts.primeModuleTexts(sources);
  const compiled = { sources, transpiled: texts.transpiledTexts(sources) };
  tracePhase('cli', `app compile-checked (cache: ${cache.storeCompiled(app, compiled)})`);
  return compiled;
}

/**
 * Runs the driver in this process (local masters and client deploy mode). In client mode the exit code
 * is 0 only when the RM recorded the application SUCCEEDED (client-outcome.ts has the rule).
 */
async function runDriverHere(req: SubmitRequest, transpiled: TranspiledText[]): Promise<number> {
  process.env.CINDER_SUBMIT_CONF = JSON.stringify({
    master: req.master,
    appName: req.name,
    conf: { ...req.conf, 'cinder.yarn.queue': req.queue },
    deployMode: 'client',
    files: req.files,
    archives: req.archives,
  });
  let code = 0;
  let diagnostics = '';
  interruptEndsFailed();
  // Cinder's own handles do not keep this process alive; the app's do (src/common/keep-alive.ts)
  ownHandlesKeepAlive(false);
  const { CinderContext } = await import('../../api/context.js');
  CinderContext._onEndedOnCluster = endOnClusterEnds;
  const release = holdProcess();
  try {
    const { runApp } = await import('../driver/run-app.js');
    await runApp(req.app, req.args, { transpiled });
    tracePhase('driver', 'app main returned');
  } catch (e) {
    const stack = (e as Error)?.stack ?? String(e);
    process.stderr.write(`cinder submit: the application failed: ${escLines(stack)}\n`);
    code = 1;
    diagnostics = `User application exited with an exception: ${stack}`;
  } finally {
    release();
  }
  // main returned: the context stays up while the app has work of its own (a server, a timer, a job)
  if (code === 0) await untilAppIdle(CinderContext._active());
  // the app may have left its context running: stop it so this process can exit cleanly
  await CinderContext._stopActive(code === 0 ? 'SUCCEEDED' : 'FAILED', diagnostics);
  // spare executors no context took (the app made none): they end when their stdin closes
  (await import('../../scheduler/executor-processes.js')).endSpares();
  // client mode only (its backend records what the RM recorded); a local master has no such outcome
  if (!req.master.startsWith('local')) {
    const { disagreement, recordedSucceeded, takeClientOutcome } = await import('./client-outcome.js');
    const recorded = takeClientOutcome();
    if (recorded && code === 0 && !recordedSucceeded(recorded)) {
      process.stderr.write(`cinder submit: ${escLines(disagreement(recorded))}\n`);
      code = 1;
    }
  }
  tracePhase('driver', 'submit done');
  if (process.env.CINDER_STARTUP_TRACE === '1') process.once('exit', () => tracePhase('driver', 'process exit'));
  return code;
}

/**
 * The application ended on the cluster while its driver ran here (`cinder kill`, failed, the RM gone for
 * good): the driver stops and the process exits 1 saying so, whatever main is doing (a service would
 * otherwise answer every request with the error).
 */
function endOnClusterEnds(e: Error, sc: { stop(o: { succeeded: boolean; diagnostics: string }): Promise<void> }): void {
  process.stderr.write(`cinder submit: ${e.message}; stopping the driver\n`);
  void sc
    .stop({ succeeded: false, diagnostics: e.message })
    .catch(() => {})
    .finally(() => process.exit(1));
}

/**
 * Ctrl-C or SIGTERM on the client: the context's own handler would stop it as SUCCEEDED, so this one
 * (present, the context's handler leaves the signal to the app) stops it FAILED, saying why, and exits
 * 130 / 143; a second signal exits at once. An app with a handler of its own (a third listener) decides
 * for itself, as in the context.
 */
function interruptEndsFailed(): void {
  let stoppingSince = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (process.listenerCount(sig) > 2) return;
    // a second signal while stopping (which may wait for a restarting RM) leaves at once; one within
    // 500 ms is the same Ctrl-C twice (a driver restarted for --driver-memory gets it from the terminal
    // and from its starter, which passes signals on)
    if (stoppingSince) {
      if (Date.now() - stoppingSince < 500) return;
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    stoppingSince = Date.now();
    void import('../../api/context.js')
      .then(({ CinderContext }) => CinderContext._stopActive('FAILED', `the client was interrupted by ${sig}`))
      .catch(() => {})
      .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
