/**
 * Packet capture for the wire tests: tcpdump writing every TCP packet of an interface to a pcap file,
 * optionally inside a network namespace (an argv prefix such as `ip netns exec NS`). Needs root and the
 * Debian package `tcpdump` (.ci/run installs it); `captureUnavailable()` says which is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

const tcpdump = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' }).stdout.trim();

/** Why captures cannot run here, or false. */
export function captureUnavailable(): string | false {
  if (!tcpdump) return 'tcpdump is not installed (Debian package tcpdump)';
  if (process.getuid?.() !== 0) return 'capturing packets needs root';
  return false;
}

/** Starts tcpdump on `iface` (inside `prefix`'s namespace) writing to file; resolves once it listens. */
export async function capture(file: string, iface = 'lo', prefix: string[] = []): Promise<ChildProcess> {
  const argv = [...prefix, tcpdump, '-i', iface, '-U', '-s', '0', '-w', file, 'tcp'];
  const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    p.stderr!.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    p.on('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  return p;
}

/** Stops a capture and waits until its file is complete. */
export async function stopCapture(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGINT');
  await done;
}
