/** `cinder submit`: runs an application in local, client or cluster deploy mode. */
import type { Command } from 'commander';

export function register(_program: Command): void {}
