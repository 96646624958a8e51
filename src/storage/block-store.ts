/**
 * The executor's cache of RDD partitions (rdd.persist): blocks `rdd_<rddId>_<partition>` held as record
 * arrays in memory under an LRU budget (estimated sizes), and/or as framed batch files on disk.
 *   MEMORY_ONLY      in memory; evicted blocks are dropped (onEvicted tells the driver)
 *   MEMORY_AND_DISK  in memory; evicted (or too big) blocks move to disk
 *   DISK_ONLY        straight to disk
 * Mutations run one at a time (a promise chain); get() of a memory block is a cheap LRU touch.
 * Records handed out by get() are shared, not copied: callers must not mutate them.
 * Must not know about tasks, RDDs or the network.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CinderError } from '../common/errors.js';
import { BatchFileWriter, readBatches } from './batch-file.js';
import { estimateRecordsSize } from './size-estimator.js';

export type StorageLevel = 'MEMORY_ONLY' | 'MEMORY_AND_DISK' | 'DISK_ONLY';

export interface BlockStoreOptions {
  dir: string;
  memoryLimitBytes: number;
  /** a block left this store for lack of memory (not called for remove/removeRdd/close) */
  onEvicted?: ((blockId: string) => void) | undefined;
}

interface MemBlock {
  records: unknown[];
  size: number;
  level: StorageLevel;
}

interface DiskBlock {
  path: string;
  size: number;
}

const BLOCK_ID = /^[A-Za-z0-9_.-]+$/;

export class BlockStore {
  /** insertion order is LRU order: oldest first */
  private readonly mem = new Map<string, MemBlock>();
  private readonly disk = new Map<string, DiskBlock>();
  private memBytes = 0;
  private diskBytes = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: BlockStoreOptions) {}

  /** Stores a block; false when it cannot be stored (MEMORY_ONLY and bigger than the whole budget). */
  put(blockId: string, records: unknown[], level: StorageLevel): Promise<boolean> {
    if (!BLOCK_ID.test(blockId))
      return Promise.reject(new CinderError('BAD_BLOCK_ID', `invalid block id ${JSON.stringify(blockId)}`));
    return this.serial(async () => {
      this.checkOpen();
      await this.drop(blockId);
      if (level === 'DISK_ONLY') {
        await this.writeDisk(blockId, records);
        return true;
      }
      const size = estimateRecordsSize(records);
      if (size > this.o.memoryLimitBytes) {
        if (level === 'MEMORY_ONLY') return false;
        await this.writeDisk(blockId, records);
        return true;
      }
      await this.evictFor(size);
      this.mem.set(blockId, { records, size, level });
      this.memBytes += size;
      return true;
    });
  }

  /** The records of a block (memory first, then disk), or undefined. */
  async get(blockId: string): Promise<unknown[] | undefined> {
    const m = this.mem.get(blockId);
    if (m) {
      this.mem.delete(blockId);
      this.mem.set(blockId, m);
      return m.records;
    }
    const d = this.disk.get(blockId);
    if (!d) return undefined;
    try {
      const out: unknown[] = [];
      for await (const b of readBatches(d.path)) for (const r of b) out.push(r);
      return out;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed meanwhile
      throw e;
    }
  }

  has(blockId: string): boolean {
    return this.mem.has(blockId) || this.disk.has(blockId);
  }

  /** Bytes a block takes in memory (estimated) and on disk now. */
  sizeOf(blockId: string): [memory: number, disk: number] {
    return [this.mem.get(blockId)?.size ?? 0, this.disk.get(blockId)?.size ?? 0];
  }

  /** Where a block is held now. */
  location(blockId: string): 'memory' | 'disk' | undefined {
    return this.mem.has(blockId) ? 'memory' : this.disk.has(blockId) ? 'disk' : undefined;
  }

  remove(blockId: string): Promise<void> {
    return this.serial(() => this.drop(blockId));
  }

  /** Removes every block of an RDD (unpersist); returns the ids removed. */
  removeRdd(rddId: number): Promise<string[]> {
    return this.serial(async () => {
      const prefix = `rdd_${rddId}_`;
      const ids = new Set<string>();
      for (const id of this.mem.keys()) if (id.startsWith(prefix)) ids.add(id);
      for (const id of this.disk.keys()) if (id.startsWith(prefix)) ids.add(id);
      for (const id of ids) await this.drop(id);
      return [...ids];
    });
  }

  blockIds(): string[] {
    return [...new Set([...this.mem.keys(), ...this.disk.keys()])];
  }

  memoryUsed(): number {
    return this.memBytes;
  }

  diskUsed(): number {
    return this.diskBytes;
  }

  /** Drops everything and deletes the block files. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      for (const id of this.blockIds()) await this.drop(id);
      this.closed = true;
    });
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const r = this.chain.then(f, f);
    this.chain = r.catch(() => {});
    return r;
  }

  private checkOpen(): void {
    if (this.closed) throw new CinderError('BLOCK_STORE_CLOSED', 'the block store is closed');
  }

  private async evictFor(size: number): Promise<void> {
    for (const [id, b] of this.mem) {
      if (this.memBytes + size <= this.o.memoryLimitBytes) return;
      this.mem.delete(id);
      this.memBytes -= b.size;
      if (this.disk.has(id)) continue;
      if (b.level === 'MEMORY_AND_DISK') await this.writeDisk(id, b.records);
      else this.o.onEvicted?.(id);
    }
  }

  private async writeDisk(blockId: string, records: unknown[]): Promise<void> {
    await fs.mkdir(this.o.dir, { recursive: true });
    const file = path.join(this.o.dir, `${blockId}.blk`);
    const tmp = `${file}.${process.pid}.tmp`;
    const w = await BatchFileWriter.create(tmp);
    try {
      await w.writeRecords(records);
      await w.close();
      await fs.rename(tmp, file);
    } catch (e) {
      await w.abort();
      throw e;
    }
    this.disk.set(blockId, { path: file, size: w.position });
    this.diskBytes += w.position;
  }

  private async drop(blockId: string): Promise<void> {
    const m = this.mem.get(blockId);
    if (m) {
      this.mem.delete(blockId);
      this.memBytes -= m.size;
    }
    const d = this.disk.get(blockId);
    if (d) {
      this.disk.delete(blockId);
      this.diskBytes -= d.size;
      await fs.rm(d.path, { force: true });
    }
  }
}
