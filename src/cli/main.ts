/**
 * The `cinder` command line. Owns argv parsing only: each subcommand lives in its own module and
 * registers itself on the program here.
 */
import { Command } from 'commander';

// applications print their own output; engine logs stay at warnings unless asked (CINDER_LOG_LEVEL=info)
if (process.argv[2] === 'submit') process.env.CINDER_LOG_LEVEL ??= 'warn';

const { VERSION } = await import('../common/version.js');
const program = new Command();
program
  .name('cinder')
  .description('Cinder: a distributed data-processing engine with local, client and cluster deploy modes')
  .version(VERSION, '--version', 'print the version')
  .showHelpAfterError(true)
  .enablePositionalOptions();

const registrations = await Promise.all([import('./submit.js'), import('./cluster.js'), import('./history.js')]);
for (const r of registrations) r.register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error & { code?: string };
  process.stderr.write(`cinder: ${err.message}\n`);
  process.exitCode = process.exitCode || 1;
}
