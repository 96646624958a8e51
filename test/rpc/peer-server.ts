/**
 * A server process for the RPC tests (test/rpc): serves principal "cluster" with the secret in
 * PEER_SECRET, prints "PORT <n>" and then "HANDLED <json>" for every message it handles; Boom fails
 * with an error thrown from serverSideThrower (its stack must stay here). Encryption follows the
 * environment (CINDER_RPC_ENCRYPTION), as in every Cinder process.
 */
import { CinderError } from '../../src/common/errors.js';
import { serve } from '../../src/rpc/index.js';

export type PeerMsg = { type: 'Echo'; s: string } | { type: 'Boom'; coded?: boolean } | { type: 'Note'; s: string };

export const peerParse = (b: unknown): PeerMsg => {
  const m = b as PeerMsg;
  if (!m || (m.type !== 'Echo' && m.type !== 'Boom' && m.type !== 'Note')) throw new Error('bad type');
  return m;
};

function serverSideThrower(coded: boolean): never {
  if (coded) throw new CinderError('NOPE', 'refused on purpose');
  throw new Error('kaboom');
}

async function main(): Promise<void> {
  const secret = process.env.PEER_SECRET ?? 's3cret';
  const srv = await serve<PeerMsg, PeerMsg>(
    { parse: peerParse, name: 'peer', secretFor: (p) => (p === 'cluster' ? secret : undefined) },
    () => (m, r) => {
      process.stdout.write(`HANDLED ${JSON.stringify(m)}\n`);
      if (m.type === 'Echo') r?.reply({ s: m.s });
      else if (m.type === 'Boom') r?.fail(catchIt(() => serverSideThrower(m.coded === true)));
    },
  );
  process.stdout.write(`PORT ${srv.port}\n`);
}

function catchIt(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

if (process.argv[1]?.endsWith('peer-server.js')) void main();
