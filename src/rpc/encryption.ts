/**
 * Encryption of RPC channels: TLS 1.3 keyed by a pre-shared key, no certificates (decision 0012).
 * The PSK is derived from the secret the principal names and both handshake nonces, so only holders
 * of the secret complete the TLS handshake, and everything after it is encrypted and integrity
 * protected; TLS 1.3 PSK uses (EC)DHE (psk_dhe_ke), so a later leak of a secret does not open
 * recorded traffic.
 *
 * The switch for trusted single-host use is read here and nowhere else: CINDER_RPC_ENCRYPTION=off, or
 * a config key applied with applyEncryptionSetting (an app's `cinder.rpc.encryption`, a daemon's
 * `rpcEncryption`), which sets that variable for this process and the processes it starts.
 */
import { hkdfSync } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import { CinderError } from '../common/errors.js';
import { PSK_TLS, pskClientOptions, pskServerOptions, showedCertificate } from '../common/psk-tls.js';

export const ENCRYPTION_ENV = 'CINDER_RPC_ENCRYPTION';

/** Whether this process encrypts its RPC channels (on unless CINDER_RPC_ENCRYPTION says off). */
export function encryptionEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env[ENCRYPTION_ENV] ?? '').trim().toLowerCase();
  if (v === '' || v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  throw new CinderError(
    'BAD_CONF',
    `${ENCRYPTION_ENV}='${v}' is neither on nor off`,
    `set ${ENCRYPTION_ENV}=on or off`,
  );
}

/** App conf key (`--conf`, cinder-defaults.conf) and daemon config key (RM/NM --set, config file). */
export const ENCRYPTION_CONF_KEY = 'cinder.rpc.encryption';
export const ENCRYPTION_DAEMON_KEY = 'rpcEncryption';

/**
 * Applies a config key's value (undefined or '': not set) to this process by setting
 * CINDER_RPC_ENCRYPTION (child processes inherit it). Refuses a value that is neither on nor off, and
 * one that disagrees with CINDER_RPC_ENCRYPTION already set in the environment.
 */
export function applyEncryptionSetting(
  value: string | undefined,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (value === undefined || value.trim() === '') return;
  let want: boolean;
  try {
    want = encryptionEnabled({ [ENCRYPTION_ENV]: value });
  } catch {
    throw new CinderError('BAD_CONF', `${key}='${value}' is neither on nor off`, `set ${key}=on or ${key}=off`);
  }
  if ((env[ENCRYPTION_ENV] ?? '').trim() !== '' && encryptionEnabled(env) !== want)
    throw new CinderError(
      'BAD_CONF',
      `${key}=${value} disagrees with ${ENCRYPTION_ENV}=${env[ENCRYPTION_ENV]} in the environment`,
      `unset ${ENCRYPTION_ENV} or make the two agree`,
    );
  env[ENCRYPTION_ENV] = want ? 'on' : 'off';
}

export function encryptionMismatch(ours: boolean, peer: string): string {
  return ours
    ? `${peer} has RPC encryption off (${ENCRYPTION_ENV}=off or ${ENCRYPTION_CONF_KEY}=off) and this process has it on; both ends must agree`
    : `${peer} has RPC encryption on and this process has it off (${ENCRYPTION_ENV}=off or ${ENCRYPTION_CONF_KEY}=off); both ends must agree`;
}

/** The TLS pre-shared key for one handshake. */
export function derivePsk(secret: string, principal: string, serverNonce: Uint8Array, clientNonce: Uint8Array): Buffer {
  const salt = Buffer.concat([serverNonce, clientNonce]);
  return Buffer.from(hkdfSync('sha256', secret, salt, `cinder rpc tls psk v1\0${principal}`, 32));
}

const IDENTITY = 'cinder-rpc';

/** Runs the TLS handshake over a connected socket whose Cinder handshake has just ended. */
export function upgrade(sock: net.Socket, side: 'client' | 'server', psk: Buffer): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let t: tls.TLSSocket;
    if (side === 'client') {
      t = tls.connect({ ...pskClientOptions(psk, IDENTITY), socket: sock });
      t.once('secureConnect', () =>
        showedCertificate(t)
          ? done(
              new CinderError(
                'AUTH_FAILED',
                'the server answered with a certificate instead of the key derived from the secret; it does not hold the secret',
              ),
            )
          : done(),
      );
    } else {
      t = new tls.TLSSocket(sock, {
        ...pskServerOptions(psk, IDENTITY),
        isServer: true,
        secureContext: tls.createSecureContext(PSK_TLS),
      } as tls.TLSSocketOptions);
      t.once('secure', () => done());
    }
    // stays: an error between the handshake and the connection's own listener must not crash the process
    t.on('error', (e) => done(e));
    t.once('close', () => done(new CinderError('CONNECTION_CLOSED', 'connection closed during the TLS handshake')));
    let settled = false;
    function done(e?: Error): void {
      if (settled) return;
      settled = true;
      if (e) {
        t.destroy();
        reject(e);
      } else resolve(t);
    }
  });
}
