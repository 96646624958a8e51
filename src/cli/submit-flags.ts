/**
 * The options of `cinder submit`, in one table: commander registers them (./submit.ts), and
 * `earlyDriverHeapMb` reads the command line with the same table before the CLI loads (bin/cinder.js).
 *
 * Owns: the option list and the early read of `--driver-memory`. Must not: import anything heavier than
 * Node built-ins and src/common/sizes.ts (it runs before the CLI bundle is loaded).
 */
import { parseMb } from '../common/sizes.js';
import { defaultsFile } from '../deploy/client/defaults-file.js';

export interface SubmitFlag {
  /** commander's flags string: `--name <value>` takes a value, `--name` does not */
  flags: string;
  description: string;
  /** repeatable: every value is kept, in order */
  repeat?: boolean;
}

export const SUBMIT_FLAGS: readonly SubmitFlag[] = [
  { flags: '--master <url>', description: 'local, local[N], local[*] or cinder://HOST:PORT (default local[*])' },
  {
    flags: '--deploy-mode <mode>',
    description: 'client (driver in this process) or cluster (driver in the AM on the cluster)',
  },
  { flags: '--name <name>', description: 'application name' },
  { flags: '--queue <queue>', description: 'scheduler queue (default "default")' },
  { flags: '--files <list>', description: 'comma-separated files to place in every container (path#alias)' },
  { flags: '--archives <list>', description: 'comma-separated archives to unpack in every container (path#alias)' },
  { flags: '--conf <key=value>', description: 'configuration property (repeatable)', repeat: true },
  {
    flags: '--properties-file <file>',
    description: 'defaults file (default $CINDER_CONF_DIR/cinder-defaults.conf)',
  },
  { flags: '--driver-memory <mem>', description: 'driver memory, e.g. 1g' },
  { flags: '--driver-cores <n>', description: 'driver cores (cluster mode)' },
  { flags: '--executor-memory <mem>', description: 'memory per executor, e.g. 1g' },
  { flags: '--executor-cores <n>', description: 'task slots per executor' },
  { flags: '--num-executors <n>', description: 'number of executors (cluster masters)' },
  { flags: '--wait', description: 'cluster mode: wait for the application to finish (default)' },
  { flags: '--no-wait', description: 'cluster mode: return once the application is accepted' },
  { flags: '--status <appId>', description: 'print the status of an application and exit' },
  { flags: '--kill <appId>', description: 'kill an application and exit' },
  { flags: '--verbose', description: 'print the resolved configuration' },
  {
    flags: '--typecheck',
    description:
      'type-check a TypeScript app (tsc, its tsconfig.json) before running it; without it types are only stripped',
  },
  {
    flags: '--identity <file>',
    description: 'user identity file (default: $CINDER_IDENTITY or the dev cluster admin identity)',
  },
];

/**
 * The options given before the app (`args` = what follows `submit`), read as commander reads them
 * (`--name value`, `--name=value`; the first other word is the app, and the rest are its own arguments).
 * Undefined for anything else (an unknown option, help, a missing value): the CLI then reads the line itself.
 */
export function scanSubmitOptions(args: readonly string[]): Map<string, string[]> | undefined {
  const takes = new Map<string, boolean>();
  for (const f of SUBMIT_FLAGS) {
    const [name, value] = f.flags.split(' ');
    takes.set(name!, value !== undefined);
  }
  const out = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) return out; // the app
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const withValue = takes.get(name);
    if (withValue === undefined) return undefined;
    let value = '';
    if (withValue) {
      if (eq > 0) value = a.slice(eq + 1);
      else if (i + 1 < args.length) value = args[++i]!;
      else return undefined;
    } else if (eq > 0) return undefined;
    out.set(name, [...(out.get(name) ?? []), value]);
  }
  return undefined; // no app
}

/**
 * The driver heap (MB) to restart `cinder submit` with, read from `--driver-memory` before the CLI loads
 * (src/deploy/client/driver-heap.ts restarts it): `submit` no longer loads its whole CLI twice for it.
 * Undefined whenever the line leaves any doubt (cluster mode, a defaults or properties file, a deploy mode set
 * through `--conf`, --status/--kill, a value that is not a size): the CLI then decides, as before. With
 * no defaults file and no deploy mode given, the driver runs in this process (local or client mode).
 */
export function earlyDriverHeapMb(args: readonly string[], env: NodeJS.ProcessEnv = process.env): number | undefined {
  const o = scanSubmitOptions(args);
  const mem = o?.get('--driver-memory');
  if (!o || !mem) return undefined;
  if (o.has('--status') || o.has('--kill') || o.has('--properties-file')) return undefined;
  if ((o.get('--deploy-mode') ?? []).some((m) => m !== 'client')) return undefined;
  for (const kv of o.get('--conf') ?? []) if (kv.startsWith('cinder.submit.deployMode=')) return undefined;
  if (defaultsFile(env)) return undefined;
  try {
    const mb = parseMb(mem.at(-1)!, 'cinder.driver.memory');
    return mb > 0 ? mb : undefined;
  } catch {
    return undefined;
  }
}
