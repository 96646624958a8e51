/** `cinder submit`: runs an application in local, client or cluster deploy mode. Argv only; the work is in src/deploy. */
import path from 'node:path';
import type { Command } from 'commander';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function register(program: Command): void {
  program
    .command('submit')
    .description('run an application (APP.ts or APP.js) in local, client or cluster deploy mode')
    .argument('[app]', 'the application file; remaining arguments are passed to it')
    .argument('[args...]', 'application arguments')
    .option('--master <url>', 'local, local[N], local[*] or cinder://HOST:PORT (default local[*])')
    .option('--deploy-mode <mode>', 'client (driver in this process) or cluster (driver in the AM on the cluster)')
    .option('--name <name>', 'application name')
    .option('--queue <queue>', 'scheduler queue (default "default")')
    .option('--files <list>', 'comma-separated files to place in every container (path#alias)')
    .option('--archives <list>', 'comma-separated archives to unpack in every container (path#alias)')
    .option('--conf <key=value>', 'configuration property (repeatable)', collect, [])
    .option('--properties-file <file>', 'defaults file (default $CINDER_CONF_DIR/cinder-defaults.conf)')
    .option('--driver-memory <mem>', 'driver memory, e.g. 1g')
    .option('--driver-cores <n>', 'driver cores (cluster mode)')
    .option('--executor-memory <mem>', 'memory per executor, e.g. 1g')
    .option('--executor-cores <n>', 'task slots per executor')
    .option('--num-executors <n>', 'number of executors (cluster masters)')
    .option('--wait', 'cluster mode: wait for the application to finish (default)')
    .option('--no-wait', 'cluster mode: return once the application is accepted')
    .option('--status <appId>', 'print the status of an application and exit')
    .option('--kill <appId>', 'kill an application and exit')
    .option('--verbose', 'print the resolved configuration')
    .option(
      '--typecheck',
      'type-check a TypeScript app (tsc, its tsconfig.json) before running it; without it types are only stripped',
    )
    .option('--identity <file>', 'user identity file (default: $CINDER_IDENTITY or the dev cluster admin identity)')
    .passThroughOptions()
    .action(async (app: string | undefined, args: string[], opts: Record<string, any>) => {
      // the identity is this client's only: it is not part of the app's conf (which reaches the AM)
      if (opts.identity) process.env.CINDER_IDENTITY = path.resolve(opts.identity);
      const { submitMain } = await import('../deploy/client/submit.js');
      process.exitCode = await submitMain(app, args, opts);
    });
}
