// Test helpers for io tests: temp dirs that are removed after the test file, and a seeded PRNG.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cinder-io-${prefix}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** mulberry32: small deterministic PRNG so failures are reproducible from the printed seed. */
export { rng } from '../../src/common/random.js';

export async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}
