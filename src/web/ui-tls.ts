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
 *
 * The client side (an undici dispatcher, for the RM's proxy) is in ui-tls-agent.ts: the driver, which
 * only serves, does not load undici (~0.1 s of a local job's start-up).
 */
import { hkdfSync } from 'node:crypto';
import type tls from 'node:tls';
import { pskServerOptions } from '../common/psk-tls.js';

/** The PSK identity both ends of the UI channel use. */
export const UI_PSK_IDENTITY = 'cinder-ui';

/** The pre-shared key of an app's UI channel. */
export function uiPsk(appSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', appSecret, Buffer.alloc(0), 'cinder ui tls psk v1', 32));
}

/** Options for `https.createServer` / `tls.createServer`: a server that only the app secret's holders can reach. */
export function uiTlsServerOptions(appSecret: string): tls.TlsOptions {
  return pskServerOptions(uiPsk(appSecret), UI_PSK_IDENTITY);
}
