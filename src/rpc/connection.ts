/**
 * An authenticated, framed, bidirectional message connection over a TCP socket.
 *
 * Every frame is one msgpack-encoded Envelope. Either side may send one-way messages or requests;
 * a request carries `id` and its reply carries `re` (and `err` when the handler failed).
 * A reply may carry binary parts (shuffle blocks) that travel after the envelope uncopied:
 * frame payload [0xC1][u32 LE envelope bytes][envelope][part 0][part 1]..., the envelope's `p` giving
 * each part's length (0xC1 is the one byte msgpack never writes, so the two forms cannot be confused).
 * Incoming message bodies are checked by the channel's `parse` function (zod schemas from
 * src/protocol) before any handler sees them; a malformed frame is answered with an error
 * (if it was a request) and logged, never thrown into the process.
 *
 * It must not interpret messages: routing by type belongs to the component that owns the channel.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { CinderError, fromWireError, type WireError } from '../common/errors.js';
import { own } from '../common/keep-alive.js';
import { logger } from '../common/log.js';
import { decode, encode } from '../common/serde.js';
import { encryptionEnabled } from './encryption.js';
import { DEFAULT_MAX_FRAME, FrameDecoder, frameHeader } from './frame.js';
import { clientHandshake, refuse, serverHandshake } from './handshake.js';
import {
  DEFAULT_FRAME_STALL_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MIN_FRAME_RATE,
  DEFAULT_PREAUTH_PER_PEER,
  type FrameLimits,
  PeerGate,
} from './limits.js';
import { peerError, peerErrorLogged } from './peer-error.js';

const log = logger('rpc');

/** Wire version of the envelope; bumped on incompatible changes. */
export const PROTOCOL_VERSION = 1;

export interface Envelope {
  v: number;
  /** request id (present on requests) */
  id?: number;
  /** id of the request this answers */
  re?: number;
  /** error answer */
  err?: WireError;
  /** the message body, a tagged object `{ type, ... }` */
  m?: unknown;
  /** byte lengths of the binary parts that follow the envelope in the frame */
  p?: number[];
}

const PARTS_TAG = 0xc1;

export interface ReplyHandle {
  /** answers the request; `parts` travel as raw bytes after the body (see the header) */
  reply(body: unknown, parts?: readonly Uint8Array[]): void;
  fail(err: unknown): void;
}

/** A reply body with the binary parts its frame carried (empty when none). */
export interface PartsReply<R> {
  body: R;
  parts: Buffer[];
}

export type Parse<T> = (body: unknown) => T;

export interface ConnectionOptions<In> extends FrameLimits {
  /** Validates and types an incoming message body; throws on malformed input. */
  parse: Parse<In>;
  /** Name used in logs and errors. */
  name?: string;
  /** encrypt the channel (TLS keyed by the secret); default: on unless CINDER_RPC_ENCRYPTION=off */
  encryption?: boolean;
}

export class RpcConnection<In extends { type: string }, Out extends { type: string }> extends EventEmitter {
  private readonly decoder: FrameDecoder;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: any, parts: Buffer[]) => void; reject: (e: Error) => void }
  >();
  private handler: ((msg: In, reply: ReplyHandle | undefined) => void) | undefined;
  private closed = false;
  private corked = false;
  /** stall watch of the frame in progress (see limits.ts) */
  private stallTimer: NodeJS.Timeout | undefined;
  private frameStart = 0;
  private lastProgress = 0;
  /** The authenticated principal of the peer (server side) or of ourselves (client side). */
  principal = '';
  readonly name: string;

  constructor(
    readonly socket: net.Socket,
    private readonly opts: ConnectionOptions<In>,
  ) {
    super();
    this.name = opts.name ?? 'rpc';
    this.decoder = new FrameDecoder(opts.maxFrame ?? DEFAULT_MAX_FRAME);
    socket.setNoDelay(true);
    own(socket);
    socket.on('error', (e) => this.shutdown(e));
    socket.on('close', () => this.shutdown());
  }

  /** Starts delivering messages (call after authentication); `initial`: bytes that arrived with the handshake. */
  start(handler: (msg: In, reply: ReplyHandle | undefined) => void, initial?: Buffer[]): void {
    this.handler = handler;
    const onData = (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (f) => {
          this.onFrame(f);
        });
      } catch (e) {
        log.warn({ conn: this.name, err: (e as Error).message }, 'dropping connection after a malformed frame');
        this.socket.destroy();
        return;
      }
      this.watchFrame();
    };
    for (const c of initial ?? []) onData(c);
    this.socket.on('data', onData);
  }

  /**
   * A frame in progress must keep arriving: no byte for frameStallMs, or slower on average than
   * minFrameRate after that allowance, and the connection is closed (the frame is not buffered forever).
   */
  private watchFrame(): void {
    if (this.decoder.pendingBytes === 0) {
      if (this.stallTimer) clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
      return;
    }
    const now = Date.now();
    const stallMs = this.opts.frameStallMs ?? DEFAULT_FRAME_STALL_MS;
    if (!this.stallTimer) {
      this.frameStart = now;
      this.stallTimer = setTimeout(() => this.checkStall(), stallMs);
      this.stallTimer.unref();
    } else this.stallTimer.refresh();
    this.lastProgress = now;
    const len = Math.max(0, this.decoder.pendingFrameLength);
    const allowed = stallMs + (len / (this.opts.minFrameRate ?? DEFAULT_MIN_FRAME_RATE)) * 1000;
    if (now - this.frameStart > allowed)
      this.dropSlowFrame(`arrived slower than the minimum rate (${allowed} ms allowed)`);
  }

  private checkStall(): void {
    // after a busy event loop the timer may run before the bytes that arrived meanwhile are read: look again after them
    setImmediate(() => {
      if (!this.stallTimer || this.closed) return;
      const stallMs = this.opts.frameStallMs ?? DEFAULT_FRAME_STALL_MS;
      if (Date.now() - this.lastProgress >= stallMs) this.dropSlowFrame(`stalled: no byte for ${stallMs} ms`);
      else this.stallTimer.refresh();
    });
  }

  private dropSlowFrame(why: string): void {
    log.warn(
      {
        conn: this.name,
        principal: this.principal,
        received: this.decoder.pendingBytes,
        frame: this.decoder.pendingFrameLength,
      },
      `closing connection: a frame ${why}`,
    );
    this.decoder.takeBuffered();
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(msg: Out): void {
    this.write({ v: PROTOCOL_VERSION, m: msg });
  }

  request<R = unknown>(msg: Out, timeoutMs = 0): Promise<R> {
    return this.requestParts<R>(msg, timeoutMs).then((r) => r.body);
  }

  /** Like request(), and also gives the binary parts of the reply frame. */
  requestParts<R = unknown>(msg: Out, timeoutMs = 0): Promise<PartsReply<R>> {
    if (this.closed) return Promise.reject(new CinderError('CONNECTION_CLOSED', `${this.name}: connection is closed`));
    const id = this.nextId++;
    return new Promise<PartsReply<R>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new CinderError('RPC_TIMEOUT', `${this.name}: ${msg.type} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
      }
      this.pending.set(id, {
        resolve: (v, parts) => {
          if (timer) clearTimeout(timer);
          resolve({ body: v as R, parts });
        },
        reject: (e) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      });
      this.write({ v: PROTOCOL_VERSION, id, m: msg });
    });
  }

  close(): void {
    if (!this.socket.destroyed) this.socket.end();
    setTimeout(() => this.socket.destroy(), 200).unref();
    this.shutdown();
  }

  private write(env: Envelope, parts?: readonly Uint8Array[]): void {
    if (this.closed || this.socket.destroyed) return;
    let body: Buffer;
    let payload = 0;
    if (parts && parts.length > 0) {
      env.p = parts.map((x) => x.length);
      const e = encode(env);
      body = Buffer.allocUnsafe(5 + e.length);
      body[0] = PARTS_TAG;
      body.writeUInt32LE(e.length, 1);
      e.copy(body, 5);
      for (const x of parts) payload += x.length;
    } else body = encode(env);
    // coalesce every frame written in this tick into one writev syscall
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frameHeader(body.length + payload));
    this.socket.write(body);
    if (parts) for (const x of parts) if (x.length > 0) this.socket.write(x);
  }

  private onFrame(frame: Buffer): void {
    let env: Envelope;
    let parts: Buffer[] = [];
    try {
      if (frame[0] === PARTS_TAG) {
        if (frame.length < 5) throw new Error('binary-parts frame shorter than its header');
        const envLen = frame.readUInt32LE(1);
        if (5 + envLen > frame.length) throw new Error('binary-parts frame: envelope past the end');
        env = decode<Envelope>(frame.subarray(5, 5 + envLen));
        parts = splitParts(frame, 5 + envLen, (env as Envelope | undefined)?.p);
      } else env = decode<Envelope>(frame);
      if (!env || typeof env !== 'object' || env.v !== PROTOCOL_VERSION)
        throw new Error(`unsupported protocol version ${(env as Envelope | undefined)?.v}`);
    } catch (e) {
      log.warn({ conn: this.name, err: (e as Error).message }, 'malformed frame; closing connection');
      this.socket.destroy();
      return;
    }
    if (env.re !== undefined) {
      const p = this.pending.get(env.re);
      if (!p) return;
      this.pending.delete(env.re);
      if (env.err) p.reject(fromWireError(env.err));
      else p.resolve(env.m, parts);
      return;
    }
    const id = env.id;
    const reply: ReplyHandle | undefined =
      id === undefined
        ? undefined
        : {
            reply: (body, parts) => this.write({ v: PROTOCOL_VERSION, re: id, m: body }, parts),
            fail: (err) => this.write({ v: PROTOCOL_VERSION, re: id, err: peerErrorLogged(err, this.name) }),
          };
    let msg: In;
    try {
      msg = this.opts.parse(env.m);
    } catch (e) {
      const err = new CinderError('MALFORMED_MESSAGE', `malformed message: ${(e as Error).message}`);
      log.warn({ conn: this.name, err: err.message }, 'rejected malformed message');
      if (reply) reply.fail(err);
      return;
    }
    try {
      this.handler?.(msg, reply);
    } catch (e) {
      log.error({ conn: this.name, type: msg.type, err: (e as Error).stack }, 'message handler failed');
      if (id !== undefined) this.write({ v: PROTOCOL_VERSION, re: id, err: peerError(e) });
    }
  }

  private shutdown(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const e = new CinderError('CONNECTION_CLOSED', `${this.name}: connection closed${err ? ` (${err.message})` : ''}`);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.emit('close', err);
  }
}

/** The parts after the envelope, as views of the frame; their lengths must cover it exactly. */
function splitParts(frame: Buffer, at: number, lens: unknown): Buffer[] {
  if (!Array.isArray(lens)) throw new Error('binary-parts frame without part lengths');
  const out: Buffer[] = [];
  for (const len of lens) {
    if (typeof len !== 'number' || !Number.isInteger(len) || len < 0 || at + len > frame.length)
      throw new Error('binary-parts frame: a part length does not fit the frame');
    out.push(frame.subarray(at, at + len));
    at += len;
  }
  if (at !== frame.length) throw new Error('binary-parts frame: bytes after the last part');
  return out;
}

export interface DialOptions<In> extends ConnectionOptions<In> {
  host: string;
  port: number;
  principal: string;
  secret: string;
  connectTimeoutMs?: number;
}

/** Dials a server, authenticates, and returns a started connection. */
export async function dial<In extends { type: string }, Out extends { type: string }>(
  opts: DialOptions<In>,
  handler: (msg: In, reply: ReplyHandle | undefined) => void = () => {},
): Promise<RpcConnection<In, Out>> {
  const timeout = opts.connectTimeoutMs ?? 10_000;
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = own(net.connect({ host: opts.host, port: opts.port }));
    const t = setTimeout(() => {
      s.destroy();
      reject(new CinderError('CONNECT_TIMEOUT', `could not reach ${opts.host}:${opts.port} within ${timeout} ms`));
    }, timeout);
    s.once('connect', () => {
      clearTimeout(t);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      const err = new CinderError(
        'CONNECT_FAILED',
        `could not connect to ${opts.name ?? 'server'} at ${opts.host}:${opts.port}: ${e.message}`,
        'check that the process is running and that the address is reachable from this host',
      );
      // the socket's errno (ECONNREFUSED, ENOTFOUND...): retry policies tell a restart from a bad name by it
      (err as CinderError & { errno?: string }).errno = (e as NodeJS.ErrnoException).code;
      reject(err);
    });
  });
  sock.setNoDelay(true);
  const address = `${opts.host}:${opts.port}`;
  try {
    const hs = await withDeadline(
      clientHandshake(sock, {
        address,
        principal: opts.principal,
        secret: opts.secret,
        encryption: opts.encryption ?? encryptionEnabled(),
      }),
      timeout,
      () => new CinderError('AUTH_TIMEOUT', `authentication to ${address} did not finish within ${timeout} ms`),
    );
    const conn = new RpcConnection<In, Out>(hs.sock, opts);
    conn.principal = opts.principal;
    conn.start(handler, hs.rest);
    return conn;
  } catch (e) {
    sock.destroy();
    throw e;
  }
}

/** p, or the error of onTimeout after ms (p's own later failure is then ignored). */
async function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  p.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ServeOptions<In> extends ConnectionOptions<In> {
  host?: string;
  port?: number;
  /** Returns the secret for a principal, or undefined to refuse it. */
  secretFor: (principal: string) => string | undefined;
  /** the whole handshake, TLS included (default 10 s) */
  handshakeTimeoutMs?: number;
  /** handshakes in progress from one peer address before more are refused (default 64) */
  preauthPerPeer?: number;
  /** serve on a socket that is already listening (host/port are then ignored); see preListen */
  listener?: PreListener | undefined;
}

/**
 * A port bound before its server exists (a cluster-mode AM binds the driver's port and starts
 * executors before the user's main creates the context): connections that arrive early wait here
 * and are handed to the server that adopts the listener.
 */
export interface PreListener {
  server: net.Server;
  port: number;
  adopt(onSocket: (s: net.Socket) => void): void;
  close(): void;
}

export async function preListen(host: string, port = 0): Promise<PreListener> {
  const server = net.createServer();
  const early: net.Socket[] = [];
  let handler: ((s: net.Socket) => void) | undefined;
  server.on('connection', (s) => {
    if (handler) handler(s);
    else {
      s.on('error', () => {});
      early.push(s);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    adopt(onSocket) {
      handler = onSocket;
      for (const s of early.splice(0)) if (!s.destroyed) onSocket(s);
    },
    close() {
      for (const s of early.splice(0)) s.destroy();
      server.close();
    },
  };
}

export interface RpcServer<In extends { type: string }, Out extends { type: string }> {
  server: net.Server;
  port: number;
  host: string;
  connections: Set<RpcConnection<In, Out>>;
  close(): Promise<void>;
}

/** Listens, authenticates each caller, and hands authenticated connections to onConnection. */
export async function serve<In extends { type: string }, Out extends { type: string }>(
  opts: ServeOptions<In>,
  onConnection: (conn: RpcConnection<In, Out>) => (msg: In, reply: ReplyHandle | undefined) => void,
): Promise<RpcServer<In, Out>> {
  const connections = new Set<RpcConnection<In, Out>>();
  const sockets = new Set<net.Socket>();
  const encryption = opts.encryption ?? encryptionEnabled();
  const handshakeMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const gate = new PeerGate(opts.preauthPerPeer ?? DEFAULT_PREAUTH_PER_PEER);
  const onSocket = (sock: net.Socket): void => {
    own(sock);
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const peer = sock.remoteAddress ?? '?';
    if (!gate.enter(peer)) {
      log.warn({ server: opts.name, peer }, 'refused caller: too many unauthenticated connections from its address');
      refuse(sock, 'TOO_MANY_CONNECTIONS', `too many unauthenticated connections from ${peer}; try again later`);
      return;
    }
    sock.setNoDelay(true);
    let left = false;
    const leave = () => {
      if (!left) gate.leave(peer);
      left = true;
    };
    sock.once('close', leave);
    void (async () => {
      try {
        const hs = await withDeadline(
          serverHandshake(sock, { name: opts.name, encryption, secretFor: opts.secretFor }),
          handshakeMs,
          () => new CinderError('AUTH_TIMEOUT', `handshake did not finish within ${handshakeMs} ms`),
        );
        leave();
        if (!hs || sock.destroyed) return;
        const conn = new RpcConnection<In, Out>(hs.sock, opts);
        conn.principal = hs.principal;
        connections.add(conn);
        conn.on('close', () => connections.delete(conn));
        conn.start(onConnection(conn), hs.rest);
      } catch (e) {
        leave();
        log.info({ server: opts.name, peer, err: (e as Error).message }, 'handshake failed; connection closed');
        sock.destroy();
      }
    })();
  };
  let server: net.Server;
  if (opts.listener) {
    server = opts.listener.server;
    opts.listener.adopt(onSocket);
  } else {
    server = net.createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }
  server.on('error', (e) => log.error({ server: opts.name, err: e.message }, 'server error'));
  own(server);
  const addr = server.address() as net.AddressInfo;
  return {
    server,
    port: addr.port,
    host: addr.address,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
