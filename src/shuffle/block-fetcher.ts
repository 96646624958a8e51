/**
 * Client side of the block channel: fetches shuffle blocks from peers' block servers over one pooled,
 * authenticated connection per peer. Each fetch() is ONE FetchShuffleBlocks request for all the given
 * map outputs of one reduce partition (repeated only for the rest when the server answers with a prefix,
 * see block-server.ts), and at most maxRequestsInFlight requests run at once across all peers.
 * Must not decode records or decide what a failure means (the reader turns errors into FetchFailedError).
 */
import { CinderError } from '../common/errors.js';
import type { BlockRequest, ShuffleBlocksReply } from '../protocol/executor.js';
import type { RpcConnection } from '../rpc/index.js';

type NoRequests = { type: 'none' };
const refuseRequests = (): NoRequests => {
  throw new Error('a block server sends no requests');
};

/** A failed fetch; mapIndex is the first map output that could not be had. */
export class BlockFetchError extends Error {
  constructor(
    readonly mapIndex: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'BlockFetchError';
    this.cause = cause;
  }
}

export interface BlockFetcherOptions {
  /** principal and secret of this app (checked by the peer's block server) */
  principal: string;
  secret: string;
  maxRequestsInFlight?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** 0 = no timeout */
  requestTimeoutMs?: number | undefined;
}

export class BlockFetcher {
  private readonly conns = new Map<string, Promise<RpcConnection<NoRequests, BlockRequest>>>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: BlockFetcherOptions) {}

  /** Blocks of `mapIndexes` (same order) for one reduce partition from the peer at loc. */
  async fetch(
    loc: { host: string; port: number },
    shuffleId: number,
    mapIndexes: number[],
    reduceId: number,
  ): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let rest = mapIndexes;
    while (rest.length > 0) {
      let blocks: Uint8Array[];
      try {
        blocks = await this.request(loc, { type: 'FetchShuffleBlocks', shuffleId, mapIndexes: rest, reduceId });
      } catch (e) {
        throw new BlockFetchError(rest[0]!, e);
      }
      for (const b of blocks) out.push(b);
      rest = rest.slice(blocks.length);
    }
    return out;
  }

  private async request(loc: { host: string; port: number }, req: BlockRequest): Promise<Uint8Array[]> {
    await this.acquire();
    try {
      const conn = await this.connection(loc);
      const r = await conn.requestParts<ShuffleBlocksReply>(req, this.o.requestTimeoutMs ?? 300_000);
      const blocks = r.parts;
      const count = (r.body as Partial<ShuffleBlocksReply> | undefined)?.count;
      if (count !== blocks.length || blocks.length === 0 || blocks.length > req.mapIndexes.length)
        throw new CinderError('BAD_BLOCK_REPLY', `block server at ${loc.host}:${loc.port} sent a malformed reply`);
      return blocks;
    } finally {
      this.release();
    }
  }

  private connection(loc: { host: string; port: number }): Promise<RpcConnection<NoRequests, BlockRequest>> {
    if (this.closed) return Promise.reject(new CinderError('FETCHER_CLOSED', 'the block fetcher is closed'));
    const key = `${loc.host}:${loc.port}`;
    let p = this.conns.get(key);
    if (!p) {
      // the RPC layer (TLS, its frames) loads on a thread's first remote fetch: most task threads of a short
      // job read only local blocks (~3-4 ms of every task thread's start otherwise)
      p = import('../rpc/index.js').then(({ dial }) =>
        dial<NoRequests, BlockRequest>({
          host: loc.host,
          port: loc.port,
          principal: this.o.principal,
          secret: this.o.secret,
          parse: refuseRequests,
          name: `block-fetch ${key}`,
          connectTimeoutMs: this.o.connectTimeoutMs ?? 10_000,
        }),
      );
      this.conns.set(key, p);
      p.then(
        (c) => {
          c.on('close', () => {
            if (this.conns.get(key) === p) this.conns.delete(key);
          });
          if (this.closed) c.close();
        },
        () => {
          if (this.conns.get(key) === p) this.conns.delete(key);
        },
      );
    }
    return p;
  }

  private acquire(): Promise<void> {
    if (this.inFlight < (this.o.maxRequestsInFlight ?? 8)) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** Closes every pooled connection. */
  close(): void {
    this.closed = true;
    for (const p of this.conns.values()) p.then((c) => c.close()).catch(() => {});
    this.conns.clear();
  }
}
