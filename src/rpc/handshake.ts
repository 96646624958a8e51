/**
 * The handshake that opens every RPC channel, before the connection is handed to its channel.
 *   server -> client: AuthChallenge { serverNonce, encryption }
 *   client -> server: AuthResponse  { principal, clientNonce, encryption, proof? }
 *   server -> client: AuthOk { proof? }   or AuthFailed { reason, code } + close
 * Encrypted (the default): the client sends no proof; after AuthOk both ends run TLS 1.3 keyed by a PSK
 * derived from the principal's secret and both nonces (encryption.ts), which proves the secret both
 * ways, and every later byte is TLS. Plaintext (CINDER_RPC_ENCRYPTION=off on both ends): the mutual
 * HMAC proofs of auth.ts, as before. Ends that disagree on encryption fail at once with a clear error.
 * Frames here are raw and tiny (PREAUTH_MAX_FRAME); the caller bounds the whole exchange in time.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { decode, encode } from '../common/serde.js';
import { newNonce, proof, proofMatches } from './auth.js';
import { derivePsk, encryptionMismatch, upgrade } from './encryption.js';
import { FrameDecoder, FrameTooLargeError, frameHeader } from './frame.js';
import { describeUntrusted, MAX_PRINCIPAL_BYTES, PREAUTH_MAX_FRAME } from './limits.js';

const log = logger('rpc');
const HS_VERSION = 1;

type Hs =
  | { type: 'AuthChallenge'; serverNonce: Uint8Array; encryption?: boolean }
  | { type: 'AuthResponse'; principal: string; clientNonce: Uint8Array; encryption?: boolean; proof?: Uint8Array }
  | { type: 'AuthOk'; proof?: Uint8Array }
  | { type: 'AuthFailed'; reason: string; code?: string };

export function writeHs(sock: net.Socket, m: Hs): void {
  const body = encode({ v: HS_VERSION, m });
  sock.write(Buffer.concat([frameHeader(body.length), body]));
}

/** Answers a caller with a refusal and closes (the reason is for the peer; keep it free of secrets). */
export function refuse(sock: net.Socket, code: string, reason: string): void {
  if (!sock.destroyed && sock.writable) writeHs(sock, { type: 'AuthFailed', reason, code });
  sock.end();
  setTimeout(() => sock.destroy(), 100).unref();
}

const NO_BYTES = Buffer.alloc(0);

/** Reads handshake frames one at a time off a raw socket; detach() hands the bytes behind them on. */
class HandshakeReader {
  private readonly dec = new FrameDecoder(PREAUTH_MAX_FRAME, 'the pre-authentication limit');
  private frame: Buffer | undefined;
  private err: Error | undefined;
  private waiter: (() => void) | undefined;

  constructor(private readonly sock: net.Socket) {
    sock.on('data', this.onData);
    sock.on('close', this.onClose);
    sock.on('error', this.onClose);
  }

  private readonly onData = (c: Buffer): void => {
    this.pull(c);
    this.waiter?.();
  };

  private readonly onClose = (): void => {
    this.err ??= new CinderError('CONNECTION_CLOSED', 'connection closed during authentication');
    this.waiter?.();
  };

  private pull(c: Buffer): void {
    if (this.frame || this.err) {
      this.dec.add(c);
      return;
    }
    try {
      this.dec.push(c, (f) => {
        this.frame = f;
        return false;
      });
    } catch (e) {
      this.err = e as Error;
    }
  }

  async next(): Promise<Hs> {
    this.pull(NO_BYTES);
    while (!this.frame && !this.err) await new Promise<void>((r) => (this.waiter = r));
    this.waiter = undefined;
    if (this.err) throw this.err;
    const f = this.frame!;
    this.frame = undefined;
    const env = decode<{ v?: unknown; m?: Hs }>(f);
    if (!env || typeof env !== 'object' || !env.m || typeof env.m !== 'object')
      throw new CinderError('AUTH_PROTOCOL', 'malformed handshake frame');
    return env.m;
  }

  /** Stops reading; the bytes received after the last frame read. */
  detach(): Buffer[] {
    this.sock.off('data', this.onData);
    this.sock.off('close', this.onClose);
    this.sock.off('error', this.onClose);
    return this.dec.takeBuffered();
  }
}

export interface Authenticated {
  /** the channel's socket from here on: the TLS socket when encrypted */
  sock: net.Socket | tls.TLSSocket;
  principal: string;
  /** bytes already received after the handshake (plaintext only) */
  rest: Buffer[];
}

export interface ServerHandshake {
  name: string | undefined;
  encryption: boolean;
  secretFor: (principal: string) => string | undefined;
}

/** The server's side. Resolves with the authenticated caller, or undefined when it was refused. */
export async function serverHandshake(sock: net.Socket, o: ServerHandshake): Promise<Authenticated | undefined> {
  const peer = sock.remoteAddress;
  const serverNonce = newNonce();
  writeHs(sock, { type: 'AuthChallenge', serverNonce, encryption: o.encryption });
  const reader = new HandshakeReader(sock);
  const refused = (code: string, reason: string, fields: object = {}): undefined => {
    reader.detach();
    log.warn({ server: o.name, peer, code, ...fields }, `refused caller: ${reason}`);
    refuse(sock, code, reason);
    return undefined;
  };
  let m: Hs;
  try {
    m = await reader.next();
  } catch (e) {
    if (e instanceof FrameTooLargeError) return refused('FRAME_TOO_LARGE', e.message);
    throw e;
  }
  if (m.type !== 'AuthResponse' || typeof m.principal !== 'string' || !(m.clientNonce instanceof Uint8Array))
    return refused('AUTH_PROTOCOL', 'expected an AuthResponse');
  const principalBytes = Buffer.byteLength(m.principal);
  if (principalBytes > MAX_PRINCIPAL_BYTES)
    return refused(
      'PRINCIPAL_TOO_LONG',
      `principal of ${principalBytes} bytes exceeds the limit of ${MAX_PRINCIPAL_BYTES} bytes`,
      { principal: describeUntrusted(m.principal) },
    );
  const principal = m.principal;
  if ((m.encryption ?? false) !== o.encryption)
    return refused('ENCRYPTION_MISMATCH', encryptionMismatch(o.encryption, 'the caller'), {
      principal: describeUntrusted(principal),
    });
  const secret = o.secretFor(principal);
  if (!o.encryption) {
    if (
      !secret ||
      !(m.proof instanceof Uint8Array) ||
      !proofMatches(proof(secret, 'c', serverNonce, m.clientNonce), m.proof)
    )
      return refused('AUTH_FAILED', 'bad credentials', { principal: describeUntrusted(principal) });
    writeHs(sock, { type: 'AuthOk', proof: proof(secret, 's', serverNonce, m.clientNonce) });
    return { sock, principal, rest: reader.detach() };
  }
  if (!secret) return refused('AUTH_FAILED', 'bad credentials', { principal: describeUntrusted(principal) });
  writeHs(sock, { type: 'AuthOk' });
  // the client starts TLS only after AuthOk: any byte already here is not from a well-behaved client
  if (reader.detach().length > 0) return refused('AUTH_PROTOCOL', 'bytes before the TLS handshake');
  try {
    const t = await upgrade(sock, 'server', derivePsk(secret, principal, serverNonce, m.clientNonce));
    return { sock: t, principal, rest: [] };
  } catch (e) {
    const fields = { server: o.name, peer, principal: describeUntrusted(principal), err: (e as Error).message };
    // a caller that hangs up before its TLS Finished arrives (TLS 1.3 lets it think it is done) is no refusal
    if ((e as CinderError).code === 'CONNECTION_CLOSED') log.info(fields, 'caller closed during the TLS handshake');
    else log.warn(fields, 'refused caller: TLS handshake failed (wrong secret?)');
    sock.destroy();
    return undefined;
  }
}

export interface ClientHandshake {
  /** "host:port", for messages */
  address: string;
  principal: string;
  secret: string;
  encryption: boolean;
}

const AUTH_HINT =
  "check that this client's identity (--identity FILE / CINDER_IDENTITY) is one of this cluster's, or that a daemon has the cluster's secret (CINDER_SECRET_FILE / CINDER_SECRET)";

function refusal(address: string, m: { reason?: unknown; code?: unknown }): CinderError {
  const code = typeof m.code === 'string' ? m.code : 'AUTH_FAILED';
  const reason = typeof m.reason === 'string' ? describeUntrusted(m.reason, 300) : 'no reason given';
  return new CinderError(
    code,
    `authentication to ${address} refused: ${reason}`,
    code === 'AUTH_FAILED' ? AUTH_HINT : undefined,
  );
}

/** The client's side. Throws a CinderError saying why when the server refuses or cannot prove the secret. */
export async function clientHandshake(sock: net.Socket, o: ClientHandshake): Promise<Omit<Authenticated, 'principal'>> {
  const reader = new HandshakeReader(sock);
  const ch = await reader.next();
  if (ch.type === 'AuthFailed') throw refusal(o.address, ch);
  if (ch.type !== 'AuthChallenge' || !(ch.serverNonce instanceof Uint8Array))
    throw new CinderError('AUTH_PROTOCOL', `server at ${o.address} did not send an auth challenge`);
  const clientNonce = newNonce();
  const serverEnc = ch.encryption === true;
  if (serverEnc !== o.encryption) {
    // tell the server too, so that its log says why
    writeHs(sock, { type: 'AuthResponse', principal: o.principal, clientNonce, encryption: o.encryption });
    throw new CinderError('ENCRYPTION_MISMATCH', encryptionMismatch(o.encryption, `the server at ${o.address}`));
  }
  writeHs(sock, {
    type: 'AuthResponse',
    principal: o.principal,
    clientNonce,
    encryption: o.encryption,
    ...(o.encryption ? {} : { proof: proof(o.secret, 'c', ch.serverNonce, clientNonce) }),
  });
  const ok = await reader.next();
  if (ok.type === 'AuthFailed') throw refusal(o.address, ok);
  if (ok.type !== 'AuthOk') throw new CinderError('AUTH_PROTOCOL', `server at ${o.address} sent ${String(ok.type)}`);
  if (!o.encryption) {
    if (!(ok.proof instanceof Uint8Array) || !proofMatches(proof(o.secret, 's', ch.serverNonce, clientNonce), ok.proof))
      throw new CinderError('AUTH_FAILED', `server at ${o.address} could not prove it knows the secret`);
    return { sock, rest: reader.detach() };
  }
  if (reader.detach().length > 0)
    throw new CinderError('AUTH_PROTOCOL', `server at ${o.address} sent bytes before the TLS handshake`);
  try {
    const t = await upgrade(sock, 'client', derivePsk(o.secret, o.principal, ch.serverNonce, clientNonce));
    return { sock: t, rest: [] };
  } catch (e) {
    throw new CinderError(
      'AUTH_FAILED',
      `authentication to ${o.address} refused: bad credentials (the TLS handshake keyed by the secret failed: ${(e as Error).message})`,
      AUTH_HINT,
    );
  }
}
