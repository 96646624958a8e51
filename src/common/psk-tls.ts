/**
 * TLS 1.3 keyed by a pre-shared key and nothing else (no certificate): the settings shared by the RPC
 * channels (src/rpc/encryption.ts, decision 0012) and the RM proxy's hop to a driver UI
 * (src/web/ui-tls.ts, decision 0027). Each caller derives its own key and names its own PSK identity.
 */
import type tls from 'node:tls';

/**
 * Old-style PSK callbacks in TLS 1.3 need a SHA-256 suite; AES-GCM first (AES-NI), ChaCha20 for CPUs without it.
 * No certificate authority is trusted (`ca: []`): none is needed, and without it Node builds its store of
 * ~140 root certificates for the first context of every process, ~20 ms on the path of each AM's and
 * executor's first connection (decision 0033; unless NODE_EXTRA_CA_CERTS made it at start).
 */
export const PSK_TLS = {
  minVersion: 'TLSv1.3' as const,
  maxVersion: 'TLSv1.3' as const,
  ciphers: 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256',
  ca: [] as string[],
};

/** A client's options: offers the key under identity; there is no name to check, the key is the credential. */
export function pskClientOptions(psk: Buffer, identity: string): tls.ConnectionOptions {
  return {
    ...PSK_TLS,
    pskCallback: () => ({ psk, identity }),
    checkServerIdentity: () => undefined,
  };
}

/** A server's options: accepts only the key under identity. */
export function pskServerOptions(psk: Buffer, identity: string): tls.TlsOptions {
  return {
    ...PSK_TLS,
    pskCallback: (_s: tls.TLSSocket, id: string) => (id === identity ? psk : null),
  } as tls.TlsOptions;
}

/**
 * Whether the server, once connected, showed a certificate. OpenSSL clients accept a server that ignores
 * the key offer and runs a certificate handshake: a certificate from a CA the context trusted would then
 * pass (there is no name to check; PSK_TLS trusts none). The key is the only credential, so such a server
 * does not hold it.
 */
export function showedCertificate(t: tls.TLSSocket): boolean {
  return Object.keys(t.getPeerCertificate() ?? {}).length > 0;
}
