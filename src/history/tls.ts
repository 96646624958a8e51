/**
 * Which HTTPS certificate `cinder history-server` serves with (decision 0027), in this order:
 *   --plain-http                      plain HTTP (trusted single host)
 *   --tls-cert FILE --tls-key FILE    those files
 *   --ca-dir DIR                      a certificate issued by the cluster CA in DIR (ca.pem + ca.key), so
 *                                     clients that trust the cluster's ca.pem trust the history server
 *   --master of the dev cluster       likewise from that dev cluster's CA (its dir holds ca.key)
 *   --master of another cluster       a self-signed certificate kept in <cache-dir>/tls/; its SHA-256
 *                                     fingerprint is printed for clients to pin or check
 *   none of these (local event logs)  plain HTTP, as Spark's history server (bound to loopback by default)
 */
import fs from 'node:fs';
import path from 'node:path';
import { readDevCluster } from '../cluster/dev-dir.js';
import {
  caFiles,
  certFingerprint,
  certHosts,
  ensureSelfSignedCert,
  issueServerCert,
} from '../cluster/security/web-tls.js';
import { CinderError } from '../common/errors.js';

export interface HistoryTlsFlags {
  plainHttp?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  caDir?: string;
  master?: string;
  /** where a self-signed or CA-issued certificate is written (<cache-dir>/tls) */
  tlsDir: string;
  /** the dev cluster's dir ($CINDER_HOME/dev-cluster or ~/.cinder/dev-cluster, as for its identity) */
  devDir: string;
  host: string;
}

export type HistoryTls = { certFile: string; keyFile: string; note: string } | undefined;

const norm = (m: string) => m.replace(/^cinder:\/\//, '').replace(/\/$/, '');

/** The certificate to serve with, or undefined for plain HTTP; makes one when the flags ask for it. */
export function historyTls(f: HistoryTlsFlags): HistoryTls {
  if (f.plainHttp) {
    if (f.tlsCert || f.tlsKey || f.caDir)
      throw new CinderError('BAD_ARGS', '--plain-http cannot be combined with --tls-cert, --tls-key or --ca-dir');
    return undefined;
  }
  if (f.tlsCert || f.tlsKey) {
    if (!f.tlsCert || !f.tlsKey)
      throw new CinderError('BAD_ARGS', '--tls-cert and --tls-key go together: give both (PEM files)');
    for (const file of [f.tlsCert, f.tlsKey])
      if (!fs.existsSync(file)) throw new CinderError('BAD_ARGS', `no such file: ${file}`);
    return { certFile: path.resolve(f.tlsCert), keyFile: path.resolve(f.tlsKey), note: `certificate ${f.tlsCert}` };
  }
  let caDir = f.caDir ? path.resolve(f.caDir) : undefined;
  if (!caDir && f.master) {
    const dev = readDevCluster(f.devDir);
    if (dev && norm(dev.master) === norm(f.master) && fs.existsSync(caFiles(f.devDir).caKeyFile)) caDir = f.devDir;
  }
  if (caDir) {
    const { caFile, caKeyFile } = caFiles(caDir);
    for (const file of [caFile, caKeyFile])
      if (!fs.existsSync(file))
        throw new CinderError(
          'BAD_ARGS',
          `--ca-dir ${caDir} has no ${path.basename(file)}`,
          'give the directory holding the cluster CA (a dev cluster keeps ca.pem and ca.key in its dir)',
        );
    const c = issueServerCert(caDir, path.join(f.tlsDir, 'history'), certHosts(f.host));
    return { ...c, note: `certificate signed by the cluster CA ${caFile}` };
  }
  if (f.master) {
    const c = ensureSelfSignedCert(path.join(f.tlsDir, 'self-signed'), certHosts(f.host));
    return { ...c, note: `self-signed certificate ${c.certFile}, SHA-256 fingerprint ${certFingerprint(c.certFile)}` };
  }
  return undefined;
}
