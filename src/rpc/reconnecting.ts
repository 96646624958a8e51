/**
 * A client's connection to one server that may restart (the ResourceManager). Requests share one
 * connection, dialed on first use and again after it drops. A request that fails in transport is tried
 * again, with backoff, within the retry window (retry.ts); the first failure of an outage logs one
 * warning, the first success after it one info line, and a client that is still failing when the window
 * ends gets an UNREACHABLE error saying so.
 *
 * Requests that are not safe to repeat pass `recover`: when such a request was sent and its answer was
 * lost, the server may or may not have applied it, so before sending it again recover asks the server
 * (over the new connection) — it returns the request's result when it was applied, or undefined when it
 * was not, and only then is the request sent again. It knows nothing about message types.
 */
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { Backoff, type Clock, isTransportError, type RetryPolicy, seconds, systemClock, unreachable } from './retry.js';

/** What the channel needs of a connection (RpcConnection has it). */
export interface RequestConn<Out> {
  readonly isClosed: boolean;
  request<R>(msg: Out, timeoutMs: number): Promise<R>;
  close(): void;
}

export interface ReconnectingOptions<Out, C extends RequestConn<Out>> {
  /** what the server is, for messages: "ResourceManager" */
  peer: string;
  /** host:port, for messages */
  address: string;
  /** one connection attempt (dial and authenticate) */
  dial(): Promise<C>;
  policy: RetryPolicy;
  clock?: Clock;
  /** what to do about it, shown when the window is spent */
  hint?: string;
  log?: { warn(fields: object, msg: string): void; info(fields: object, msg: string): void };
  /** called with every new connection after the first (state a restarted server lost) */
  onReconnect?(conn: C): void;
}

export interface RequestOptions<R, C> {
  timeoutMs: number;
  /** for a request that must not be applied twice: its result if the server applied it, else undefined */
  recover?: (conn: C) => Promise<R | undefined>;
}

export class ReconnectingChannel<Out, C extends RequestConn<Out> = RequestConn<Out>> {
  private conn: C | undefined;
  private dialing: Promise<C> | undefined;
  /** when the current outage began (undefined while requests succeed) */
  private outageStart: number | undefined;
  private dialed = 0;
  private closed = false;
  private readonly stop = new AbortController();
  private readonly clock: Clock;
  private readonly log: NonNullable<ReconnectingOptions<Out, C>['log']>;

  constructor(private readonly o: ReconnectingOptions<Out, C>) {
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? logger('rpc');
  }

  /** How many connections were made so far (it grows with each reconnect). */
  get generation(): number {
    return this.dialed;
  }

  /** Connects now, retrying within the window; an answer such as bad credentials fails at once. */
  ready(): Promise<void> {
    return this.run(async () => undefined);
  }

  request<R>(msg: Out, opts: RequestOptions<R, C>): Promise<R> {
    return this.run((c) => c.request<R>(msg, opts.timeoutMs), opts.recover);
  }

  /** Stops: requests in flight or waiting to retry fail with CLIENT_CLOSED. */
  close(): void {
    this.closed = true;
    this.stop.abort();
    this.conn?.close();
    void this.dialing?.then(
      (c) => c.close(),
      () => {},
    );
  }

  private async run<R>(op: (c: C) => Promise<R>, recover?: (c: C) => Promise<R | undefined>): Promise<R> {
    let backoff: Backoff | undefined;
    /** the request was sent and its answer lost: ask recover before sending it again */
    let uncertain = false;
    for (;;) {
      let sent = false;
      try {
        const c = await this.connection();
        let r: R | undefined;
        if (uncertain && recover) {
          r = await recover(c);
          uncertain = false;
        }
        if (r === undefined) {
          sent = true;
          r = await op(c);
        }
        this.answered();
        return r;
      } catch (e) {
        if (this.closed)
          throw new CinderError('CLIENT_CLOSED', `the ${this.o.peer} client was closed: ${(e as Error).message}`);
        if (!isTransportError(e)) throw e;
        if (sent) uncertain = true;
        backoff ??= new Backoff(this.o.policy, this.clock, this.outageBegan(e));
        const wait = backoff.wait();
        if (wait === undefined)
          throw unreachable(
            this.o.peer,
            this.o.address,
            this.o.policy,
            e,
            this.o.hint ?? `check that the ${this.o.peer} is running and reachable from this host`,
          );
        await this.clock.sleep(wait, this.stop.signal);
      }
    }
  }

  /** The open connection, or one new dial (shared by concurrent callers). */
  private connection(): Promise<C> {
    if (this.closed) return Promise.reject(new CinderError('CLIENT_CLOSED', `the ${this.o.peer} client was closed`));
    if (this.conn && !this.conn.isClosed) return Promise.resolve(this.conn);
    this.dialing ??= this.o
      .dial()
      .then((c) => {
        this.conn = c;
        if (++this.dialed > 1) this.o.onReconnect?.(c);
        if (this.closed) c.close();
        return c;
      })
      .finally(() => {
        this.dialing = undefined;
      });
    return this.dialing;
  }

  private outageBegan(e: unknown): number {
    if (this.outageStart === undefined) {
      this.outageStart = this.clock.now();
      this.log.warn(
        { peer: this.o.peer, address: this.o.address, err: (e as Error).message.split('\n')[0] },
        `${this.o.peer} at ${this.o.address} unreachable, retrying for up to ${seconds(this.o.policy.maxWaitMs)}`,
      );
    }
    return this.outageStart;
  }

  private answered(): void {
    if (this.outageStart === undefined) return;
    const ms = this.clock.now() - this.outageStart;
    this.outageStart = undefined;
    this.log.info(
      { peer: this.o.peer, address: this.o.address, ms },
      `${this.o.peer} at ${this.o.address} reachable again after ${seconds(ms)}`,
    );
  }
}
