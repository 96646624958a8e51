/**
 * Network namespaces for the multi-host test tier: one namespace per host (`cinder-<id>-<host>`),
 * each with a veth whose peer sits on a bridge that lives in its own namespace (`cinder-<id>-br`),
 * addresses in 10.213.X.0/24, no default route, never touching the machine's real interfaces.
 * Helpers run commands inside a host, cut/restore its link, and teardown removes everything (also
 * from a process exit hook, so a failed test leaves nothing behind). Test-only code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why the namespace tier cannot run here, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const probe = `cinder-probe-${randomBytes(3).toString('hex')}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error) return `the ip command is unavailable (${r.error.message})`;
  if (r.status !== 0) return `ip netns add failed: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export class NetLab {
  readonly id = randomBytes(3).toString('hex');
  readonly subnet = 1 + Math.floor(Math.random() * 254);
  private readonly hosts = new Map<string, { ns: string; addr: string; ifname: string }>();
  private readonly brNs: string;
  private torn = false;
  private readonly onExit = () => this.teardown();

  private constructor() {
    this.brNs = `cinder-${this.id}-br`;
    process.on('exit', this.onExit);
  }

  static create(hostNames: string[]): NetLab {
    const lab = new NetLab();
    try {
      ip(['netns', 'add', lab.brNs]);
      ip(['-n', lab.brNs, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', lab.brNs, 'link', 'set', 'br0', 'up']);
      hostNames.forEach((h, i) => {
        const ns = `cinder-${lab.id}-${h}`;
        const addr = `10.213.${lab.subnet}.${i + 1}`;
        const peer = `p${lab.id}${i}`;
        ip(['netns', 'add', ns]);
        lab.hosts.set(h, { ns, addr, ifname: 'eth0' });
        ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        ip(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', peer, 'netns', lab.brNs]);
        ip(['-n', lab.brNs, 'link', 'set', peer, 'master', 'br0']);
        ip(['-n', lab.brNs, 'link', 'set', peer, 'up']);
        ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      });
    } catch (e) {
      lab.teardown();
      throw e;
    }
    return lab;
  }

  private host(h: string) {
    const x = this.hosts.get(h);
    if (!x) throw new Error(`no host ${h} in this lab`);
    return x;
  }

  addr(h: string): string {
    return this.host(h).addr;
  }
  ns(h: string): string {
    return this.host(h).ns;
  }
  /** argv prefix that runs a command inside host h */
  prefix(h: string): string[] {
    return ['ip', 'netns', 'exec', this.host(h).ns];
  }
  /** argv prefix that runs a command in the bridge's namespace, on the path between every two hosts */
  bridgePrefix(): string[] {
    return ['ip', 'netns', 'exec', this.brNs];
  }
  exec(h: string, argv: string[]): { status: number; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.host(h).ns, ...argv], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }
  cut(h: string): void {
    ip(['-n', this.host(h).ns, 'link', 'set', 'eth0', 'down']);
  }
  restore(h: string): void {
    ip(['-n', this.host(h).ns, 'link', 'set', 'eth0', 'up']);
  }
  /** pids of processes running inside host h */
  pids(h: string): number[] {
    return ip(['netns', 'pids', this.host(h).ns])
      .split('\n')
      .filter(Boolean)
      .map(Number);
  }

  /** Kills anything left in the namespaces and deletes them; safe to call twice. */
  teardown(): void {
    if (this.torn) return;
    this.torn = true;
    process.off('exit', this.onExit);
    for (const ns of [...[...this.hosts.values()].map((h) => h.ns), this.brNs]) {
      const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
      for (const p of (r.stdout ?? '').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {}
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
}
