/**
 * Where a development cluster (`cinder cluster up`) lives and what it records (DIR/cluster.json): read
 * by the CLI, submit and client identity defaults. No daemon logic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DevClusterInfo {
  master: string;
  restUrl: string;
  /** the cluster CA (DIR/ca.pem) that signed the RM's HTTPS certificate: REST clients trust it */
  caFile?: string;
  /** the daemons' secret (the RM's and NMs' only; clients use identities) */
  secretFile: string;
  /** the dev cluster's admin identity (DIR/admin.identity) */
  identityFile: string;
  pids: { rm: number; nms: number[] };
  nmDirs: string[];
}

export function defaultDevDir(): string {
  return process.env.CINDER_HOME
    ? path.join(process.env.CINDER_HOME, 'dev-cluster')
    : path.join(os.homedir(), '.cinder', 'dev-cluster');
}

export function readDevCluster(dir: string): DevClusterInfo | undefined {
  const f = path.join(dir, 'cluster.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as DevClusterInfo) : undefined;
}
