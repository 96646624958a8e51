/**
 * Limits of the RPC layer, and how to name an untrusted peer's input in a log line.
 * Before authentication a peer is nobody: its frames are tiny (a handshake needs well under 4 KiB),
 * it has a deadline for the whole handshake, and one address may hold only so many handshakes at once.
 * After authentication the configured frame maximum holds, and a frame that has started must keep
 * arriving (a stalled or trickled 250 MiB body is not buffered forever).
 */
export const PREAUTH_MAX_FRAME = 4 * 1024;
/** a principal longer than this is refused before any secret is looked up */
export const MAX_PRINCIPAL_BYTES = 1024;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** handshakes in progress from one peer address; more are refused at once */
export const DEFAULT_PREAUTH_PER_PEER = 64;
/** no byte of a frame in progress for this long: the connection is closed */
export const DEFAULT_FRAME_STALL_MS = 30_000;
/** a frame in progress must arrive at least this fast on average (after the stall allowance) */
export const DEFAULT_MIN_FRAME_RATE = 1024 * 1024;

export interface FrameLimits {
  /** largest frame accepted after authentication */
  maxFrame?: number;
  frameStallMs?: number;
  /** bytes per second */
  minFrameRate?: number;
}

/** A peer-chosen string for a log line: control characters escaped, cut to `max` characters, length given. */
export function describeUntrusted(s: string, max = 64): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  const safe = cut.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return s.length > max ? `${safe} (${s.length} chars)` : safe;
}

/** Counts handshakes in progress per peer address. */
export class PeerGate {
  private readonly inProgress = new Map<string, number>();
  constructor(private readonly perPeer: number) {}

  /** true and counted, or false when the address already holds perPeer handshakes */
  enter(addr: string): boolean {
    const n = this.inProgress.get(addr) ?? 0;
    if (n >= this.perPeer) return false;
    this.inProgress.set(addr, n + 1);
    return true;
  }

  leave(addr: string): void {
    const n = (this.inProgress.get(addr) ?? 1) - 1;
    if (n <= 0) this.inProgress.delete(addr);
    else this.inProgress.set(addr, n);
  }
}
