/**
 * How a client retries a server that may be restarting (the ResourceManager), as YARN's RM proxies do
 * (yarn.resourcemanager.connect.max-wait.ms / retry-interval.ms): waits that double from
 * retryIntervalMs up to maxRetryIntervalMs, inside a window of maxWaitMs that starts at the first
 * failure. Only transport failures are retried (could not connect, connection closed, no answer in
 * time); a server's answer, even a refusal (unknown app, access denied, bad credentials), is final.
 * Time comes from a Clock so that the policy can be tested without waiting.
 */
import { CinderError } from '../common/errors.js';

export interface RetryPolicy {
  /** give up this long after the first failure of an outage */
  maxWaitMs: number;
  /** the first wait between attempts */
  retryIntervalMs: number;
  /** waits double up to this */
  maxRetryIntervalMs: number;
}

export interface Clock {
  now(): number;
  /** resolves after ms, or at once when signal aborts */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** Error codes of failures where the request may simply not have reached a live server. */
const TRANSPORT = new Set(['CONNECT_FAILED', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'RPC_TIMEOUT', 'AUTH_TIMEOUT']);
/** connect errors that no restart cures: the name does not resolve */
const PERMANENT_ERRNO = new Set(['ENOTFOUND']);

export function isTransportError(e: unknown): boolean {
  const err = e as { code?: unknown; errno?: unknown };
  return typeof err?.code === 'string' && TRANSPORT.has(err.code) && !PERMANENT_ERRNO.has(String(err.errno));
}

/** The waits of one outage: interval, 2x interval, ... capped, clipped to what is left of the window. */
export class Backoff {
  private nextWait: number;
  constructor(
    private readonly policy: RetryPolicy,
    private readonly clock: Clock,
    /** when the outage began (the window starts here) */
    readonly startedAt: number = clock.now(),
  ) {
    this.nextWait = Math.max(1, policy.retryIntervalMs);
  }

  /** The next wait in ms, or undefined once the window is spent. */
  wait(): number | undefined {
    const left = this.startedAt + this.policy.maxWaitMs - this.clock.now();
    if (left <= 0) return undefined;
    const w = Math.min(this.nextWait, left);
    this.nextWait = Math.min(this.nextWait * 2, Math.max(this.policy.maxRetryIntervalMs, 1));
    return w;
  }
}

/** "60 s", "2.5 s": a window for people. */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The error a client ends with when a server stayed unreachable for the whole window. */
export function unreachable(
  peer: string,
  address: string,
  policy: RetryPolicy,
  last: unknown,
  hint: string,
): CinderError {
  const why = (last as Error | undefined)?.message?.split('\n')[0] ?? String(last);
  return new CinderError(
    'UNREACHABLE',
    `could not reach the ${peer} at ${address} within ${seconds(policy.maxWaitMs)} (last error: ${why})`,
    hint,
  );
}
