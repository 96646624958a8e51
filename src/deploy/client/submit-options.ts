/**
 * `cinder submit` options: parsing of the command line, the defaults file and the environment into
 * one validated SubmitRequest (zod). Precedence, as in Spark: values set in code > CLI flags >
 * defaults file (CINDER_CONF_DIR/cinder-defaults.conf or --properties-file) > built-in defaults.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Conf, parseMaster } from '../../common/conf.js';
import { checkConf } from '../../common/conf-keys.js';
import { CinderError } from '../../common/errors.js';
import { z } from '../../common/zod.js';
import { defaultsFile } from './defaults-file.js';

export const SubmitRequest = z.object({
  app: z.string(),
  args: z.array(z.string()),
  master: z.string(),
  deployMode: z.enum(['client', 'cluster']),
  name: z.string(),
  queue: z.string(),
  files: z.array(z.string()),
  archives: z.array(z.string()),
  conf: z.record(z.string(), z.string()),
  wait: z.boolean(),
  verbose: z.boolean(),
  /** type-check a TypeScript app before running it (--typecheck) */
  typecheck: z.boolean().default(false),
});
export type SubmitRequest = z.infer<typeof SubmitRequest>;

export interface RawSubmitOptions {
  master?: string;
  deployMode?: string;
  name?: string;
  queue?: string;
  files?: string;
  archives?: string;
  conf?: string[];
  propertiesFile?: string;
  driverMemory?: string;
  driverCores?: string;
  executorMemory?: string;
  executorCores?: string;
  numExecutors?: string;
  wait?: boolean;
  verbose?: boolean;
  typecheck?: boolean;
}

/** Reads a spark-defaults.conf-style file: `key value` or `key=value` lines, # comments. */
export function readPropertiesFile(file: string): Conf {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CinderError('BAD_CONF', `cannot read properties file ${file}: ${(e as Error).message}`);
  }
  const out: Conf = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([^\s=]+)\s*(?:=|\s)\s*(.*)$/.exec(line);
    if (!m) throw new CinderError('BAD_CONF', `${file}:${i + 1}: expected 'key value' or 'key=value', got '${line}'`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** The defaults file's settings ($CINDER_CONF_DIR/cinder-defaults.conf), for commands without --conf. */
export function defaultsConf(): Conf {
  const f = defaultsFile();
  return f ? readPropertiesFile(f) : {};
}

function list(v: string | undefined): string[] {
  return v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

export function buildSubmitRequest(app: string, args: string[], o: RawSubmitOptions): SubmitRequest {
  const file = o.propertiesFile ?? defaultsFile();
  const conf: Conf = file ? readPropertiesFile(file) : {};
  // a defaults file may hold keys of another version: those warn; --conf is what the user just typed
  if (file)
    checkConf(conf, file, { unknown: 'warn', warn: (m) => process.stderr.write(`cinder submit: warning: ${m}\n`) });
  const given: Conf = {};
  for (const kv of o.conf ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0)
      throw new CinderError(
        'BAD_ARGUMENT',
        `--conf expects key=value, got '${kv}'`,
        'e.g. --conf cinder.executor.memory=2g',
      );
    given[kv.slice(0, i)] = kv.slice(i + 1);
  }
  checkConf(given, '--conf', { unknown: 'error', warn: (m) => process.stderr.write(`cinder submit: warning: ${m}\n`) });
  Object.assign(conf, given);
  const flag = (key: string, v: string | undefined) => {
    if (v !== undefined) {
      checkConf({ [key]: v }, `the option for ${key}`, { unknown: 'error' });
      conf[key] = v;
    }
  };
  // --name names the application in every mode, over an appName in the app's code (in cluster mode the
  // RM records the name before the code runs; the driver must agree)
  flag('cinder.app.name', o.name);
  flag('cinder.driver.memory', o.driverMemory);
  flag('cinder.driver.cores', o.driverCores);
  flag('cinder.executor.memory', o.executorMemory);
  flag('cinder.executor.cores', o.executorCores);
  flag('cinder.executor.instances', o.numExecutors);
  const master = o.master ?? conf['cinder.master'] ?? process.env.CINDER_MASTER ?? 'local[*]';
  const m = parseMaster(master);
  const deployMode = o.deployMode ?? conf['cinder.submit.deployMode'] ?? 'client';
  if (deployMode !== 'client' && deployMode !== 'cluster')
    throw new CinderError(
      'BAD_ARGUMENT',
      `unknown deploy mode '${deployMode}'`,
      'use --deploy-mode client or --deploy-mode cluster',
    );
  if (deployMode === 'cluster' && m.kind === 'local')
    throw new CinderError(
      'BAD_ARGUMENT',
      `cluster deploy mode is not compatible with master '${master}'`,
      'use --master cinder://HOST:PORT for cluster mode, or drop --deploy-mode cluster to run locally',
    );
  const abs = path.resolve(app);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile())
    throw new CinderError(
      'APP_NOT_FOUND',
      `application file ${app} does not exist`,
      `check the path (resolved to ${abs})`,
    );
  for (const f of [...list(o.files), ...list(o.archives)]) {
    const p = f.split('#')[0]!;
    if (!fs.existsSync(p))
      throw new CinderError('INPUT_NOT_FOUND', `file ${p} (from --files/--archives) does not exist`);
  }
  const wait = o.wait ?? (conf['cinder.submit.waitAppCompletion'] ?? 'true') !== 'false';
  return SubmitRequest.parse({
    app: abs,
    args,
    master,
    deployMode,
    name: o.name ?? conf['cinder.app.name'] ?? path.basename(app).replace(/\.[^.]+$/, ''),
    queue: o.queue ?? conf['cinder.yarn.queue'] ?? 'default',
    files: list(o.files),
    archives: list(o.archives),
    conf,
    wait,
    verbose: !!o.verbose,
    typecheck: !!o.typecheck,
  });
}
