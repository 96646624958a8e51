/**
 * Serves this executor's shuffle files to reducers on other executors (channel: executor <-> executor,
 * BlockRequest in src/protocol/executor.ts), over the authenticated framed RPC of src/rpc.
 * FetchShuffleBlocks answers with one block per requested map index, in order; when the blocks would not
 * fit in one reply of maxReplyBytes, it answers with a shorter PREFIX (at least one block) and the fetcher
 * asks again for the rest, so reply frames stay far below the 256 MiB frame limit. A missing map output
 * after the first also ends the reply early, so the failure is reported for exactly that map index.
 * Must not decode records and must not write or delete files.
 */
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { type BlockRequest, parseBlockRequest, type ShuffleBlocksReply } from '../protocol/executor.js';
import { serve } from '../rpc/index.js';
import { type BlockRange, blockRange, readRange } from './shuffle-files.js';

const log = logger('block-server');

/** Default cap on the blocks of one reply. */
export const MAX_REPLY_BYTES = 64 << 20;
/** A single block above this cannot be served in one frame. */
export const MAX_BLOCK_BYTES = 240 << 20;

export interface BlockServerOptions {
  /** the executor's shuffle directory (where writeShuffleOutput wrote) */
  dir: string;
  host: string;
  /** 0 or absent: any free port */
  port?: number | undefined;
  /** secret for a principal (the app id), or undefined to refuse */
  secretFor: (principal: string) => string | undefined;
  maxReplyBytes?: number | undefined;
}

export interface BlockServer {
  port: number;
  close(): Promise<void>;
}

export async function startBlockServer(o: BlockServerOptions): Promise<BlockServer> {
  const maxReply = o.maxReplyBytes ?? MAX_REPLY_BYTES;
  const fetchBlocks = async (m: Extract<BlockRequest, { type: 'FetchShuffleBlocks' }>): Promise<Uint8Array[]> => {
    const blocks: Uint8Array[] = [];
    let total = 0;
    for (const mapIndex of m.mapIndexes) {
      let r: BlockRange;
      try {
        r = await blockRange(o.dir, m.shuffleId, mapIndex, m.reduceId);
      } catch (e) {
        // answer what we have: the follow-up request then fails on exactly this map index
        if (blocks.length > 0) break;
        throw e;
      }
      const len = r.end - r.start;
      if (len > MAX_BLOCK_BYTES)
        throw new CinderError(
          'SHUFFLE_BLOCK_TOO_LARGE',
          `shuffle ${m.shuffleId} map ${mapIndex} reduce ${m.reduceId} is ${len} bytes, above the ${MAX_BLOCK_BYTES}-byte limit of one reply`,
          'increase the number of reduce partitions so each block is smaller',
        );
      if (blocks.length > 0 && total + len > maxReply) break;
      blocks.push(await readRange(r));
      total += len;
    }
    return blocks;
  };
  const srv = await serve<BlockRequest, { type: string }>(
    { parse: parseBlockRequest, secretFor: o.secretFor, host: o.host, port: o.port ?? 0, name: 'block-server' },
    () => (msg, reply) => {
      if (!reply) return;
      switch (msg.type) {
        case 'FetchShuffleBlocks':
          fetchBlocks(msg).then(
            (blocks) => reply.reply({ count: blocks.length } satisfies ShuffleBlocksReply, blocks),
            (e) => {
              log.debug({ err: (e as Error).message }, 'shuffle fetch failed');
              reply.fail(e);
            },
          );
          return;
      }
    },
  );
  return { port: srv.port, close: () => srv.close() };
}
