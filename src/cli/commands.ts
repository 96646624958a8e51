/**
 * The subcommands of the per-file CLI, loaded for the command given: the cluster commands' module loads the
 * RPC, security and config code (~60 ms), which `cinder submit` of a local job does not use.
 */
import type { CommandModule } from './main.js';

export function allCommands(first: string | undefined): Promise<CommandModule[]> {
  return Promise.all(
    first === 'submit'
      ? [import('./submit.js')]
      : [import('./submit.js'), import('./cluster.js'), import('./history.js')],
  );
}
