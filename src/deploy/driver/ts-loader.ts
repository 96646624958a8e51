/**
 * Node module-loader hooks that let the driver run a user's TypeScript app as is (Node 20 cannot):
 * .ts/.mts/.tsx files are transpiled by esbuild exactly as src/common/module-text.ts does (so the
 * closure analysis sees the same code that runs), `./x.js` falls back to `./x.ts`, and the bare
 * specifier `cinder` resolves to this engine when the app has no installed copy of it.
 * Registered with module.register() by src/deploy/run-app.ts.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';

const TS = /\.(m|c)?tsx?$/;
const ENGINE_INDEX = new URL('../../index.js', import.meta.url).href;

interface ResolveContext {
  parentURL?: string | undefined;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string | null }>;
type NextLoad = (url: string, context: unknown) => Promise<{ format: string; source?: string | Buffer | null }>;

/** Set when the CLI runs from its bundle: `cinder` is then that bundle's engine (src/deploy/driver/bundled-engine.ts). */
let engineFacade: string | undefined;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve) {
  if (engineFacade && specifier === 'cinder') return { url: engineFacade, shortCircuit: true };
  try {
    const r = await next(specifier, context);
    // this engine's index by any other name (its path, the package's self-reference): the same one engine
    return engineFacade && r.url === ENGINE_INDEX ? { url: engineFacade, shortCircuit: true } : r;
  } catch (e) {
    if (specifier === 'cinder') return { url: ENGINE_INDEX, shortCircuit: true };
    if (
      (specifier.startsWith('.') || specifier.startsWith('/')) &&
      /\.(m|c)?js$/.test(specifier) &&
      context.parentURL
    ) {
      const ts = new URL(specifier.replace(/\.(m|c)?js$/, '.$1ts'), context.parentURL);
      if (fs.existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
    }
    throw e;
  }
}

/** TS files the driver thread transpiled already (cinder submit), by path: served without esbuild here. */
const transpiled = new Map<string, { mtimeMs: number; code: string; map: string }>();

export function initialize(data: {
  transpiled?: Array<{ file: string; mtimeMs: number; code: string; map: string }>;
  engineFacade?: string;
}) {
  for (const t of data?.transpiled ?? []) transpiled.set(t.file, t);
  engineFacade = data?.engineFacade;
}

export async function load(url: string, context: unknown, next: NextLoad) {
  if (url.startsWith('file:') && TS.test(url)) {
    const file = fileURLToPath(url);
    const t = transpiled.get(file);
    if (t && fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs === t.mtimeMs) {
      // the same esbuild transform as below, its source map inlined as esbuild's 'inline' option does
      const inline = `//# sourceMappingURL=data:application/json;base64,${Buffer.from(t.map).toString('base64')}\n`;
      return { format: 'module', source: t.code + inline, shortCircuit: true };
    }
    const text = await fs.promises.readFile(file, 'utf8');
    // loaded on the first TypeScript file only: a JavaScript app's hooks thread starts ~100 ms sooner
    // through require: importing esbuild's CommonJS entry as ESM costs ~30 ms more (its exports are lexed)
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
    const r = await esbuild.transform(text, {
      loader: file.endsWith('x') ? 'tsx' : 'ts',
      format: 'esm',
      sourcemap: 'inline',
      sourcefile: file,
    });
    return { format: 'module', source: r.code, shortCircuit: true };
  }
  return next(url, context);
}
