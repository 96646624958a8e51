/**
 * HTTPS for the cluster's web servers (RM REST and UIs on it, history servers): a cluster certificate
 * authority and server certificates made with the `openssl` CLI (decision 0016), the TLS options a
 * fastify server is created with, and an undici dispatcher that trusts the cluster CA (and only it; it
 * never turns verification off). Files: `<dir>/ca.pem` (public: clients trust it), `<dir>/ca.key`
 * (0600, signs server certificates; stays where the cluster was set up), `<prefix>.pem` / `<prefix>.key`
 * (0600) for a server. Plain HTTP only when a server's conf says webTls=false (trusted single-host use).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { CinderError } from '../../common/errors.js';

const OPENSSL = process.env.CINDER_OPENSSL ?? 'openssl';

function openssl(args: string[], what: string): void {
  try {
    execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    throw new CinderError(
      'WEB_TLS',
      err.code === 'ENOENT'
        ? `cannot ${what}: the openssl command is not installed`
        : `cannot ${what}: openssl failed: ${String(err.stderr ?? err.message)
            .trim()
            .slice(0, 1000)}`,
      err.code === 'ENOENT' ? 'install openssl (Debian: apt-get install openssl) or set webTls=false' : undefined,
    );
  }
}

export function caFiles(dir: string): { caFile: string; caKeyFile: string } {
  return { caFile: path.join(dir, 'ca.pem'), caKeyFile: path.join(dir, 'ca.key') };
}

/** `openssl req` arguments making a new unencrypted EC P-256 key into keyFile (the caller adds the output). */
function newEcKey(keyFile: string, extra: string[] = []): string[] {
  return [
    'req',
    ...extra,
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
  ];
}

/** Creates the cluster CA in dir (an EC P-256 self-signed CA for 10 years) unless it is there; returns its files. */
export function ensureClusterCa(dir: string): { caFile: string; caKeyFile: string } {
  const f = caFiles(dir);
  if (fs.existsSync(f.caFile) && fs.existsSync(f.caKeyFile)) return f;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmpKey = `${f.caKeyFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmpKey, '', { mode: 0o600 });
  try {
    // -keyout writes into the 0600 file made above
    openssl(
      [
        ...newEcKey(tmpKey, ['-x509']),
        '-out',
        f.caFile,
        '-days',
        '3650',
        '-sha256',
        '-subj',
        `/CN=Cinder cluster CA ${os.hostname()} ${new Date().toISOString()}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      'create the cluster certificate authority',
    );
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, f.caKeyFile);
  } finally {
    fs.rmSync(tmpKey, { force: true });
  }
  fs.chmodSync(f.caFile, 0o644);
  return f;
}

/**
 * Issues a server certificate signed by the CA in caDir for hosts (names and IP addresses, all in its
 * subjectAltName), valid 825 days; writes `<prefix>.pem` and `<prefix>.key` (0600).
 */
export function issueServerCert(caDir: string, prefix: string, hosts: string[]): { certFile: string; keyFile: string } {
  const { caFile, caKeyFile } = caFiles(caDir);
  if (hosts.length === 0) throw new CinderError('WEB_TLS', 'a server certificate needs at least one host');
  const san = subjectAltName(hosts);
  fs.mkdirSync(path.dirname(prefix), { recursive: true, mode: 0o700 });
  const keyFile = `${prefix}.key`;
  const certFile = `${prefix}.pem`;
  const csr = `${prefix}.${process.pid}.csr`;
  const ext = `${prefix}.${process.pid}.ext`;
  fs.writeFileSync(keyFile, '', { mode: 0o600 });
  fs.writeFileSync(
    ext,
    `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  try {
    openssl([...newEcKey(keyFile), '-out', csr, '-subj', `/CN=${hosts[0]}`], `create a key for ${hosts[0]}`);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKeyFile,
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-days',
        '825',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        certFile,
      ],
      `sign the certificate of ${hosts[0]}`,
    );
    fs.chmodSync(keyFile, 0o600);
  } finally {
    fs.rmSync(csr, { force: true });
    fs.rmSync(ext, { force: true });
  }
  return { certFile, keyFile };
}

/** The hosts a server certificate should name for a bind address: it, loopback, and this host's name. */
export function certHosts(bind: string): string[] {
  const out = [bind, '127.0.0.1', '::1', 'localhost', os.hostname()];
  return [...new Set(out.filter((h) => h && h !== '0.0.0.0' && h !== '::'))];
}

export interface WebTlsConf {
  /** serve HTTPS (default); false = plain HTTP, for trusted single-host use */
  webTls: boolean;
  webCertFile: string;
  webKeyFile: string;
}

/**
 * What to spread into `Fastify({...})`: `{ https: { key, cert } }` when the conf serves HTTPS, `{}` for
 * plain HTTP. Refuses HTTPS without a certificate, saying how to get one.
 */
export function fastifyTlsOptions(conf: WebTlsConf): { https?: { key: Buffer; cert: Buffer; minVersion: 'TLSv1.2' } } {
  if (!conf.webTls) return {};
  if (!conf.webCertFile || !conf.webKeyFile)
    throw new CinderError(
      'WEB_TLS',
      'the web server serves HTTPS (webTls) but has no certificate: webCertFile and webKeyFile are not set',
      '`cinder cluster up` makes them; or create them with `cinder cluster cert`, or set webTls=false for plain HTTP on a trusted single host',
    );
  const read = (f: string, what: string) => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new CinderError('WEB_TLS', `cannot read the web server's ${what} ${f}: ${(e as Error).message}`);
    }
  };
  return {
    https: { key: read(conf.webKeyFile, 'key'), cert: read(conf.webCertFile, 'certificate'), minVersion: 'TLSv1.2' },
  };
}

/** The scheme a conf serves. */
export function webScheme(conf: Pick<WebTlsConf, 'webTls'>): 'https' | 'http' {
  return conf.webTls ? 'https' : 'http';
}

/** An undici dispatcher (for `fetch(url, { dispatcher })` / `request`) that trusts the cluster CA in caFile. */
export function clusterCaAgent(caFile: string): Agent {
  let ca: Buffer;
  try {
    ca = fs.readFileSync(caFile);
  } catch (e) {
    throw new CinderError(
      'WEB_TLS',
      `cannot read the cluster CA ${caFile}: ${(e as Error).message}`,
      'a dev cluster keeps it in DIR/ca.pem; ask the operator of other clusters for theirs',
    );
  }
  return new Agent({ connect: { ca } });
}

/**
 * A self-signed server certificate for hosts (all in its subjectAltName), valid 825 days, written to
 * `<prefix>.pem` / `<prefix>.key` (0600) unless both are there already (so a pinned fingerprint stays
 * valid across restarts). For a server with no CA to ask (a history server away from the cluster's CA).
 */
export function ensureSelfSignedCert(prefix: string, hosts: string[]): { certFile: string; keyFile: string } {
  const keyFile = `${prefix}.key`;
  const certFile = `${prefix}.pem`;
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) return { certFile, keyFile };
  const san = subjectAltName(hosts);
  fs.mkdirSync(path.dirname(prefix), { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyFile, '', { mode: 0o600 });
  openssl(
    [
      ...newEcKey(keyFile, ['-x509']),
      '-out',
      certFile,
      '-days',
      '825',
      '-sha256',
      '-subj',
      `/CN=${hosts[0] ?? 'localhost'}`,
      '-addext',
      `subjectAltName=${san}`,
      '-addext',
      'extendedKeyUsage=serverAuth',
    ],
    `create a self-signed certificate for ${hosts[0] ?? 'localhost'}`,
  );
  fs.chmodSync(keyFile, 0o600);
  return { certFile, keyFile };
}

/** The SHA-256 fingerprint of a PEM certificate file (AA:BB:…, as browsers and `openssl x509 -fingerprint` show it). */
export function certFingerprint(certFile: string): string {
  return new X509Certificate(fs.readFileSync(certFile)).fingerprint256;
}

/** The subjectAltName value naming hosts (IP addresses as IP:, names as DNS:), each once. */
function subjectAltName(hosts: string[]): string {
  return [...new Set(hosts)].map((h) => (net.isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}
