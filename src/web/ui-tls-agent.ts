/**
 * The RM web proxy's side of the driver-UI channel (decision 0027; the key and the server side are in
 * ui-tls.ts): an undici dispatcher keyed by the app secret.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { Agent, type buildConnector } from 'undici';
import { pskClientOptions, showedCertificate } from '../common/psk-tls.js';
import { UI_PSK_IDENTITY, uiPsk } from './ui-tls.js';

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
      ...pskClientOptions(psk, UI_PSK_IDENTITY),
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
