/** `cinder submit`: runs an application in local, client or cluster deploy mode. Argv only; the work is in src/deploy. */
import path from 'node:path';
import type { Command } from 'commander';
import { SUBMIT_FLAGS } from './submit-flags.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function register(program: Command): void {
  const cmd = program
    .command('submit')
    .description('run an application (APP.ts or APP.js) in local, client or cluster deploy mode')
    .argument('[app]', 'the application file; remaining arguments are passed to it')
    .argument('[args...]', 'application arguments');
  for (const f of SUBMIT_FLAGS)
    if (f.repeat) cmd.option(f.flags, f.description, collect, []);
    else cmd.option(f.flags, f.description);
  cmd.passThroughOptions().action(async (app: string | undefined, args: string[], opts: Record<string, any>) => {
    // the identity is this client's only: it is not part of the app's conf (which reaches the AM)
    if (opts.identity) process.env.CINDER_IDENTITY = path.resolve(opts.identity);
    const { submitMain } = await import('../deploy/client/submit.js');
    process.exitCode = await submitMain(app, args, opts);
  });
}
