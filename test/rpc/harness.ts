/**
 * Helpers of the RPC tests: a server in its own process (peer-server.ts) and a TCP proxy between a
 * client and it that records every byte both ways and can inject bytes toward the server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface PeerProcess {
  port: number;
  child: ChildProcess;
  /** everything the process wrote to stdout and stderr so far */
  output(): string;
  handled(): string[];
  stop(): void;
}

export async function startPeer(env: Record<string, string> = {}): Promise<PeerProcess> {
  const script = fileURLToPath(new URL('./peer-server.js', import.meta.url));
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, CINDER_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`peer server did not start: ${out}`)), 10_000);
    const look = () => {
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (c) => reject(new Error(`peer server exited ${c}: ${out}`)));
  });
  return {
    port,
    child,
    output: () => out,
    handled: () => out.split('\n').filter((l) => l.startsWith('HANDLED ')),
    stop: () => child.kill('SIGKILL'),
  };
}

export interface Proxy {
  port: number;
  /** bytes client -> server and server -> client, of every connection so far */
  up(): Buffer;
  down(): Buffer;
  /** writes bytes toward the server on the latest connection, as an on-path attacker would */
  injectUp(b: Buffer): void;
  close(): void;
}

export async function startProxy(target: number): Promise<Proxy> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  let toServer: net.Socket | undefined;
  const socks = new Set<net.Socket>();
  const server = net.createServer((c) => {
    const s = net.connect(target, '127.0.0.1');
    toServer = s;
    socks.add(c).add(s);
    c.on('data', (d) => {
      up.push(Buffer.from(d));
      s.write(d);
    });
    s.on('data', (d) => {
      down.push(Buffer.from(d));
      c.write(d);
    });
    c.on('close', () => s.destroy());
    s.on('close', () => c.destroy());
    c.on('error', () => {});
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    up: () => Buffer.concat(up),
    down: () => Buffer.concat(down),
    injectUp: (b) => toServer!.write(b),
    close: () => {
      for (const s of socks) s.destroy();
      server.close();
    },
  };
}
