/**
 * The application's event log (Spark's EventLoggingListener): one JSON object per line, buffered in
 * memory and written by a timer or when the buffer fills (no syscall per event), flushed synchronously
 * at the end. Files, in the log directory:
 *
 *   <appId>.jsonl.inprogress        while the app runs; renamed to <appId>.jsonl at its end
 *   <appId>.<n>.jsonl               with rolling (cinder.eventLog.rolling.enabled): part n, closed
 *                                   once it passes cinder.eventLog.rolling.maxFileSize; past
 *                                   cinder.eventLog.rolling.maxFilesToRetain parts the oldest are
 *                                   compacted into one (./event-log-compact.ts)
 *
 * Local and client mode write to cinder.eventLog.dir (default ~/.cinder/event-logs). A cluster-mode
 * driver writes into its container's log directory, so the NodeManager serves it to the RM while the
 * app runs and aggregates it into the RM's store at its end (docs/decisions/0025-event-log.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compactEvents } from './event-log-compact.js';
import type { SparkEvent } from './spark-events.js';

export interface EventLogOptions {
  dir: string;
  appId: string;
  /** bytes; 0 = no rolling */
  rollBytes: number;
  /** with rolling: closed parts kept before the oldest are compacted into one (0 = keep all) */
  retainParts?: number | undefined;
  /** buffered events are written at least this often (ms) */
  flushMs: number;
  /** buffer size that triggers a write (bytes) */
  bufferBytes?: number | undefined;
  /** gets every written chunk too (client mode: the copy the AM keeps); final once closed */
  mirror?: ((data: string, final: boolean) => void) | undefined;
}

/** Where logs go when cinder.eventLog.dir is not set: $CINDER_EVENT_LOG_DIR, else ~/.cinder/event-logs. */
export function defaultEventLogDir(): string {
  return process.env.CINDER_EVENT_LOG_DIR || path.join(os.homedir(), '.cinder', 'event-logs');
}

export class EventLogWriter {
  private buf: string[] = [];
  private bufLen = 0;
  private fd: number;
  private part = 1;
  private written = 0;
  private timer: NodeJS.Timeout;
  private closed = false;
  readonly files: string[] = [];

  constructor(private readonly o: EventLogOptions) {
    if (!/^[A-Za-z0-9_.-]+$/.test(o.appId)) throw new Error(`unsafe application id for an event log: ${o.appId}`);
    fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    this.fd = this.open();
    this.timer = setInterval(() => this.flush(), o.flushMs);
    this.timer.unref();
  }

  private name(final: boolean): string {
    const base = this.o.rollBytes > 0 ? `${this.o.appId}.${this.part}.jsonl` : `${this.o.appId}.jsonl`;
    return path.join(this.o.dir, final ? base : `${base}.inprogress`);
  }

  private open(): number {
    const f = this.name(false);
    this.files.push(f);
    return fs.openSync(f, 'w', 0o600);
  }

  /** The file being written now. */
  get currentFile(): string {
    return this.files[this.files.length - 1] as string;
  }

  write(e: SparkEvent): void {
    if (this.closed) return;
    const line = `${JSON.stringify(e)}\n`;
    this.buf.push(line);
    this.bufLen += line.length;
    if (this.bufLen >= (this.o.bufferBytes ?? 256 * 1024)) this.flush();
  }

  /** Writes buffered events (one write call) and rolls to the next part when the current one is full. */
  flush(): void {
    if (this.bufLen === 0 || this.closed) return;
    const data = this.buf.join('');
    this.buf = [];
    this.bufLen = 0;
    try {
      this.o.mirror?.(data, false);
    } catch {
      // the copy is best-effort
    }
    try {
      fs.writeSync(this.fd, data);
      this.written += Buffer.byteLength(data);
      if (this.o.rollBytes > 0 && this.written >= this.o.rollBytes) this.roll();
    } catch {
      // a full or lost disk must not fail the application; the log is best-effort like Spark's
    }
  }

  private roll(): void {
    fs.closeSync(this.fd);
    fs.renameSync(this.name(false), this.name(true));
    this.files[this.files.length - 1] = this.name(true);
    this.part++;
    this.written = 0;
    this.compact();
    this.fd = this.open();
  }

  /** Merges the oldest closed parts into one, without the events of jobs that ended (event-log-compact.ts). */
  private compact(): void {
    const retain = this.o.retainParts ?? 0;
    if (!(retain > 0) || this.files.length <= retain) return;
    const merge = this.files.splice(0, this.files.length - retain + 1);
    const target = merge[merge.length - 1] as string;
    const lines = merge.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean));
    const tmp = `${target}.compacting`;
    fs.writeFileSync(tmp, `${compactEvents(lines).join('\n')}\n`, { mode: 0o600 });
    fs.renameSync(tmp, target);
    for (const f of merge.slice(0, -1)) fs.rmSync(f, { force: true });
    this.files.unshift(target);
  }

  /** Flushes and closes; the last file loses its .inprogress suffix. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
    try {
      this.o.mirror?.('', true);
    } catch {
      // best-effort
    }
    try {
      fs.closeSync(this.fd);
      fs.renameSync(this.name(false), this.name(true));
      this.files[this.files.length - 1] = this.name(true);
    } catch {
      // already gone
    }
  }
}
