/**
 * A process that dials argv[2] (a port) as an RPC client with the secret "s3cret" and prints DIALED or
 * REFUSED <message>; run with NODE_EXTRA_CA_CERTS so that it trusts an impostor's certificate.
 */
import { dial } from '../../src/rpc/index.js';

type Echo = { type: 'Echo'; s: string };

try {
  const c = await dial<Echo, Echo>({
    host: '127.0.0.1',
    port: Number(process.argv[2]),
    principal: 'cluster',
    secret: 's3cret',
    parse: (b: unknown) => b as Echo,
    connectTimeoutMs: 5000,
  });
  process.stdout.write('DIALED\n');
  await c.request({ type: 'Echo', s: 'SECRET-PAYLOAD' }).catch(() => undefined);
  c.close();
} catch (e) {
  process.stdout.write(`REFUSED ${(e as Error).message}\n`);
}
process.exit(0);
