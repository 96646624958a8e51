/**
 * Length-prefixed frames: [u32 big-endian length][payload]. Measured at ~380k small frames/s on
 * loopback (../shared/bench/limits), 60x grpc-js unary, so every hot control path and the shuffle use it.
 * Owns only byte framing; it knows nothing about message types.
 */
export const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;

export function frameHeader(len: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(len, 0);
  return h;
}

export class FrameTooLargeError extends Error {
  readonly code = 'FRAME_TOO_LARGE';
  constructor(len: number, max: number, what = 'the limit') {
    super(`frame of ${len} bytes exceeds ${what} of ${max} bytes`);
  }
}

/** Accumulates socket chunks and yields complete frames (zero-copy when a frame sits in one chunk). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  constructor(
    private readonly maxFrame = DEFAULT_MAX_FRAME,
    /** names the limit in the error ("the pre-authentication limit") */
    private readonly limitName = 'the limit',
  ) {}

  /**
   * Adds a chunk and yields every complete frame; onFrame returning false stops there and keeps the
   * rest buffered (a handshake reads one frame at a time and hands the rest on).
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => unknown): void {
    this.add(chunk);
    for (;;) {
      if (this.buffered < 4) return;
      const len = this.peek4().readUInt32BE(0);
      if (len > this.maxFrame) throw new FrameTooLargeError(len, this.maxFrame, this.limitName);
      if (this.buffered < 4 + len) return;
      this.consume(4);
      if (onFrame(this.consume(len)) === false) return;
    }
  }

  /** Buffers a chunk without yielding frames (the next push yields them). */
  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes received but not yet yielded as a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** The length the header of the frame in progress announces, or -1 when no header is complete. */
  get pendingFrameLength(): number {
    return this.buffered < 4 ? -1 : this.peek4().readUInt32BE(0);
  }

  /** Takes every buffered byte out (to feed another decoder). */
  takeBuffered(): Buffer[] {
    const out = this.chunks;
    this.chunks = [];
    this.buffered = 0;
    return out;
  }

  private peek4(): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first;
    return Buffer.concat(this.chunks, Math.min(4, this.buffered)).subarray(0, 4);
  }

  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    return out;
  }
}
