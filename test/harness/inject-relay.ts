// An on-path TCP relay for the multi-host tier: node inject-relay.js LISTEN_HOST LISTEN_PORT TARGET_HOST
// TARGET_PORT. Relays every connection both ways. On the stdin line "inject APP_ID" it writes a
// well-formed plaintext RPC frame asking the RM to kill APP_ID toward the target on every open connection
// (as an attacker on the path would once a real client has finished its handshake: over a plaintext
// channel the RM would carry it out as that client's request), then prints "injected N". Prints "up" once listening, and
// "closed-by-target" when the target closes a connection after an injection.
import net from 'node:net';
import readline from 'node:readline';
import { encode } from '../../src/common/serde.js';
import { frameHeader } from '../../src/rpc/frame.js';

const [host, port, targetHost, targetPort] = process.argv.slice(2) as [string, string, string, string];
const open = new Set<{ c: net.Socket; s: net.Socket }>();
let injectedAt = 0;
net
  .createServer((c) => {
    const s = net.connect(Number(targetPort), targetHost);
    const pair = { c, s };
    open.add(pair);
    c.pipe(s);
    s.pipe(c);
    s.on('close', () => {
      open.delete(pair);
      if (injectedAt) process.stdout.write('closed-by-target\n');
      c.destroy();
    });
    c.on('close', () => s.destroy());
    c.on('error', () => {});
    s.on('error', () => {});
  })
  .listen(Number(port), host, () => process.stdout.write('up\n'));
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  const [cmd, appId] = l.trim().split(' ');
  if (cmd !== 'inject' || !appId) return;
  const body = encode({ v: 1, id: 999_999, m: { type: 'KillApplication', appId, reason: 'injected on the path' } });
  injectedAt = Date.now();
  for (const { s } of open) s.write(Buffer.concat([frameHeader(body.length), body]));
  process.stdout.write(`injected ${open.size}\n`);
});
