/**
 * Maps stack traces of errors thrown by shipped user functions back to the user's source, on the
 * driver: frames `cinder-fn:<hash>:L:C` (executor-compiled code, see src/executor/fn-loader.ts) become
 * positions in the driver-side JS file the function came from, then, through that file's source map,
 * positions in the original .ts file. Frames it cannot map are left as they are. Never throws.
 */
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FnRef } from '../plan/fn-ref.js';
import { SRC_FIRST_LINE } from '../plan/fn-wire.js';
import { sourceMapOf } from './module-text.js';

type Origin = NonNullable<FnRef['origin']>;

function collectOrigins(refs: Iterable<FnRef>, out: Map<string, Origin>, seen: Set<FnRef>): void {
  for (const r of refs) {
    if (seen.has(r)) continue;
    seen.add(r);
    if (r.origin) out.set(r.hash, r.origin);
    collectOrigins(
      Object.values(r.caps).flatMap((c) => (c.t === 'f' ? [c.f] : [])),
      out,
      seen,
    );
  }
}

const maps = new Map<string, { map: SourceMap; dir: string } | null>();

function mapFor(file: string): { map: SourceMap; dir: string } | null {
  let m = maps.get(file);
  if (m === undefined) {
    const sm = sourceMapOf(file);
    m = null;
    try {
      if (sm) m = { map: new SourceMap(sm.payload), dir: path.resolve(sm.dir, sm.payload.sourceRoot ?? '') };
    } catch {
      m = null;
    }
    maps.set(file, m);
  }
  return m;
}

/** Position (1-based line and column) in `file`'s running JS → original source position, if mapped. */
export function originalPosition(
  file: string,
  line: number,
  column: number,
): { file: string; line: number; column: number } {
  const m = mapFor(file);
  if (!m) return { file, line, column };
  const e = m.map.findEntry(line - 1, column - 1) as {
    originalSource?: string;
    originalLine?: number;
    originalColumn?: number;
  };
  if (!e || e.originalSource === undefined || e.originalLine === undefined) return { file, line, column };
  const src = e.originalSource.startsWith('file://')
    ? fileURLToPath(e.originalSource)
    : path.resolve(m.dir, e.originalSource);
  return { file: src, line: e.originalLine + 1, column: (e.originalColumn ?? 0) + 1 };
}

/**
 * Rewrites `cinder-fn:<hash>:L:C` frames of `stack` to the user's source positions, using the origins
 * recorded in `refs` (nested captured functions included).
 */
export function remapStack(stack: string, refs: Iterable<FnRef>): string {
  const origins = new Map<string, Origin>();
  collectOrigins(refs, origins, new Set());
  if (origins.size === 0) return stack;
  return stack.replace(/cinder-fn:([0-9a-f]+):(\d+):(\d+)/g, (whole, hash: string, l: string, c: string) => {
    const o = origins.get(hash);
    if (!o) return whole;
    try {
      const srcLine = Number(l) - SRC_FIRST_LINE; // 0-based line within the function's source
      if (srcLine < 0) return whole;
      const line = o.line + srcLine;
      const column = srcLine === 0 ? o.column + Number(c) : Number(c); // 1-based
      const p = originalPosition(o.file, line, column);
      return `${p.file}:${p.line}:${p.column}`;
    } catch {
      return whole;
    }
  });
}

/**
 * Rewrites the `file:///PATH:L:C` frames of a driver-side stack (an error thrown by the app's own code,
 * such as a forgotten capture) to positions in the user's source, for the files `mapped` accepts that
 * have a source map (the app's transpiled TypeScript, a bundled app): Node reports positions in the code
 * that runs, which for a .ts file is esbuild's output. Frames it cannot map are left as they are.
 */
export function remapFileFrames(stack: string, mapped: (file: string) => boolean): string {
  return stack.replace(/(file:\/\/[^\s()]+?):(\d+):(\d+)/g, (whole, url: string, l: string, c: string) => {
    try {
      const file = fileURLToPath(url);
      if (!mapped(file)) return whole;
      const p = originalPosition(file, Number(l), Number(c));
      return `${pathToFileURL(p.file).href}:${p.line}:${p.column}`;
    } catch {
      return whole;
    }
  });
}
