/**
 * TLS between the RM's web proxy and a driver UI on a cluster (decision 0027): HTTP over TLS 1.3 keyed
 * by a pre-shared key derived from the app's secret, as the RPC channels are (decision 0012), with no
 * certificate. Only the RM and the app's own processes hold that secret, so a proxy that finishes the
 * handshake is talking to that app's driver (and the driver to the RM): a server on the tracking
 * address without the secret fails the handshake and never sees a request or the proxy credential.
 *
 *   PSK = HKDF-SHA256(app secret, salt = "", info = "cinder ui tls psk v1"), 32 bytes, identity "cinder-ui"
 *   TLS 1.3 only, TLS_AES_128_GCM_SHA256 or TLS_CHACHA20_POLY1305_SHA256, (EC)DHE (psk_dhe_ke): forward secret
 *
 * The client also refuses a server that answers the PSK offer with a certificate handshake instead (a
 * certificate from any CA it trusts would otherwise pass, since the UI has no name to check).
 */
import { hkdfSync } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import { Agent, type buildConnector } from 'undici';
import { pskClientOptions, pskServerOptions, showedCertificate } from '../common/psk-tls.js';

const IDENTITY = 'cinder-ui';

/** The pre-shared key of an app's UI channel. */
export function uiPsk(appSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', appSecret, Buffer.alloc(0), 'cinder ui tls psk v1', 32));
}

/** Options for `https.createServer` / `tls.createServer`: a server that only the app secret's holders can reach. */
export function uiTlsServerOptions(appSecret: string): tls.TlsOptions {
  return pskServerOptions(uiPsk(appSecret), IDENTITY);
}

/**
 * An undici dispatcher whose connections are TLS keyed by the app secret; it refuses (before any
 * request is written) a server that does not know the key or that presents a certificate instead.
 */
export function uiTlsAgent(appSecret: string): Agent {
  const psk = uiPsk(appSecret);
  const connect = (opts: buildConnector.Options, cb: buildConnector.Callback): net.Socket => {
    let settled = false;
    const done = (e: Error | null, s?: tls.TLSSocket) => {
      if (settled) return;
      settled = true;
      if (e) {
        sock.destroy();
        cb(e, null);
      } else cb(null, s!);
    };
    const sock = tls.connect({
      ...pskClientOptions(psk, IDENTITY),
      host: opts.hostname.replace(/^\[(.*)\]$/, '$1'), // an IPv6 literal comes in brackets
      port: Number(opts.port) || 443,
    });
    sock.setTimeout(10_000, () => done(new Error('the TLS handshake with the application UI timed out')));
    sock.once('secureConnect', () => {
      sock.setTimeout(0);
      if (showedCertificate(sock))
        return done(
          new Error('the application UI presented a certificate instead of the key of the app (not its driver)'),
        );
      done(null, sock);
    });
    sock.once('error', (e) =>
      done(new Error(`the TLS handshake with the application UI failed (not the app's driver?): ${e.message}`)),
    );
    sock.once('close', () => done(new Error('the application UI closed the connection during the TLS handshake')));
    return sock;
  };
  return new Agent({ connect: connect as unknown as buildConnector.connector });
}
