/**
 * The `cinder` command line. Owns argv parsing only: each subcommand lives in its own module and
 * registers itself on the program here. Loads only what the command needs (decision 0017): `cinder
 * --version` loads no more than the version, `cinder submit` not the cluster commands' modules.
 */
import type { Command } from 'commander';
import { markCommandStart, startupTraceOn, tracePhase } from '../common/startup-trace.js';
import { VERSION } from '../common/version.js';

/** A subcommand's module: it registers itself on the program. */
export interface CommandModule {
  register(program: Command): void;
}

/**
 * Runs the command in process.argv with the subcommands `commands` loads for it. bin/cinder.js calls it
 * with every command (./commands.ts), the CLI bundle with `submit` alone (./bundle-main.ts).
 */
export async function main(commands: (first: string | undefined) => Promise<CommandModule[]>): Promise<void> {
  markCommandStart();
  const first = process.argv[2];
  if (first === '--version' && process.argv.length === 3) {
    // what commander prints for --version, without loading it
    process.stdout.write(`${VERSION}\n`);
  } else {
    // applications print their own output; engine logs stay at warnings unless asked (CINDER_LOG_LEVEL=info)
    if (first === 'submit') process.env.CINDER_LOG_LEVEL ??= 'warn';
    const { Command } = await import('commander');
    const program = new Command();
    program
      .name('cinder')
      .description('Cinder: a distributed data-processing engine with local, client and cluster deploy modes')
      .version(VERSION, '--version', 'print the version')
      .showHelpAfterError(true)
      .enablePositionalOptions();

    for (const r of await commands(first)) r.register(program);
    if (startupTraceOn()) {
      // 'none' when the CLI runs from its per-file modules, not the bundle (bin/cinder.js)
      const state = (await import('../executor/code-cache.js')).codeCacheState();
      tracePhase('cli', state === 'none' ? 'CLI loaded' : `CLI loaded (code cache: ${state})`);
    }

    try {
      await program.parseAsync(process.argv);
    } catch (e) {
      const err = e as Error & { code?: string };
      process.stderr.write(`cinder: ${err.message}\n`);
      process.exitCode = process.exitCode || 1;
    }
  }
}
