/** Cluster operator commands (resourcemanager, nodemanager, cluster up/down, nodes, apps, status, kill, logs). */
import type { Command } from 'commander';

export function register(_program: Command): void {}
