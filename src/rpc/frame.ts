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
  constructor(len: number, max: number) {
    super(`frame of ${len} bytes exceeds the limit of ${max} bytes`);
  }
}

/** Accumulates socket chunks and yields complete frames (zero-copy when a frame sits in one chunk). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.peek4();
      const len = head.readUInt32BE(0);
      if (len > this.maxFrame) throw new FrameTooLargeError(len, this.maxFrame);
      if (this.buffered < 4 + len) return;
      this.consume(4);
      onFrame(this.consume(len));
    }
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
