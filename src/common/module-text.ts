/**
 * The JavaScript text that actually runs for a driver-side source file, and its source map:
 * .ts/.mts/.cts/.tsx files are transpiled with esbuild exactly as a TS loader would (ESM), other files
 * are read as they are. Cached per file and mtime. Used by closure capture (to find a function's
 * position and its module's imports) and by stack remapping. Never evaluates the code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';
import { esbuild } from './lazy-esbuild.js';

export interface ModuleText {
  file: string;
  mtimeMs: number;
  /** the JS that runs */
  code: string;
  /** source map of `code` back to the file's own source (TS files), if we produced one */
  tsMap?: string | undefined;
}

const cache = new Map<string, { mtimeMs: number; value: ModuleText | undefined }>();

const TS_LOADERS: Record<string, Esbuild.Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx' };

/** Turns a stack-trace / call-site file name (path or file: URL) into a path, or undefined for node: etc. */
export function toPath(fileOrUrl: string | null | undefined): string | undefined {
  if (!fileOrUrl) return undefined;
  if (fileOrUrl.startsWith('file://')) return fileURLToPath(fileOrUrl);
  return path.isAbsolute(fileOrUrl) ? fileOrUrl : undefined;
}

/**
 * Transpiles TypeScript files ahead of their first loadModuleText (which is synchronous: esbuild's sync API
 * blocks the driver ~150 ms on its first call while it starts a service) with esbuild's async API, whose
 * service the submit's compile check has already started. Same options as loadModuleText, so the same
 * text. Errors are left for loadModuleText to meet.
 */
export async function primeModuleTexts(files: string[]): Promise<void> {
  await Promise.all(
    files.map(async (file) => {
      const loader = TS_LOADERS[path.extname(file)];
      if (!loader) return;
      try {
        const mtimeMs = fs.statSync(file).mtimeMs;
        const text = await fs.promises.readFile(file, 'utf8');
        const r = await esbuild().transform(text, { loader, format: 'esm', sourcemap: 'external', sourcefile: file });
        // a file changed while this ran (mtime differs) is left to loadModuleText
        if (fs.statSync(file).mtimeMs === mtimeMs && !cache.has(file))
          cache.set(file, { mtimeMs, value: { file, mtimeMs, code: r.code, tsMap: r.map } });
      } catch {
        // loadModuleText reports or falls back as usual
      }
    }),
  );
}

/** Texts transpiled by an earlier run (src/deploy/client/compile-cache.ts) for files whose content is unchanged. */
export function seedModuleTexts(texts: TranspiledText[]): void {
  for (const t of texts)
    if (!cache.has(t.file))
      cache.set(t.file, {
        mtimeMs: t.mtimeMs,
        value: { file: t.file, mtimeMs: t.mtimeMs, code: t.code, tsMap: t.map },
      });
}

/** The transpiled TypeScript files held (for the TS loader hooks, which then need no esbuild of their own). */
export function transpiledTexts(files: string[]): TranspiledText[] {
  const out: TranspiledText[] = [];
  for (const file of files) {
    const v = cache.get(file)?.value;
    if (v?.tsMap) out.push({ file, mtimeMs: v.mtimeMs, code: v.code, map: v.tsMap });
  }
  return out;
}

export interface TranspiledText {
  file: string;
  mtimeMs: number;
  code: string;
  map: string;
}

export function loadModuleText(file: string): ModuleText | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.value;
  let out: ModuleText | undefined;
  try {
    const text = fs.readFileSync(file, 'utf8');
    const loader = TS_LOADERS[path.extname(file)];
    if (loader) {
      const r = esbuild().transformSync(text, { loader, format: 'esm', sourcemap: 'external', sourcefile: file });
      out = { file, mtimeMs, code: r.code, tsMap: r.map };
    } else out = { file, mtimeMs, code: text };
  } catch {
    out = undefined; // unreadable or not parsable as TS: callers fall back to the function source alone
  }
  cache.set(file, { mtimeMs, value: out });
  return out;
}

/** Source map for the code that runs for `file` (its transpile map, or its `//# sourceMappingURL`). */
export function sourceMapOf(file: string): { payload: any; dir: string } | undefined {
  const m = loadModuleText(file);
  if (!m) return undefined;
  try {
    if (m.tsMap) return { payload: JSON.parse(m.tsMap), dir: path.dirname(file) };
    const i = m.code.lastIndexOf('//# sourceMappingURL=');
    if (i < 0) return undefined;
    const url = m.code.slice(i + 21).split(/\s/)[0] ?? '';
    if (url.startsWith('data:')) {
      const comma = url.indexOf(',');
      const data = url.slice(comma + 1);
      const json = url.slice(0, comma).endsWith(';base64')
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeURIComponent(data);
      return { payload: JSON.parse(json), dir: path.dirname(file) };
    }
    const mapFile = path.resolve(path.dirname(file), url);
    return { payload: JSON.parse(fs.readFileSync(mapFile, 'utf8')), dir: path.dirname(mapFile) };
  } catch {
    return undefined;
  }
}
