/**
 * Executor side of shipped functions: loads imports bundles (once per id per process) and turns a
 * FnRef back into a callable function. The compiled factory is cached by hash; binding (captured
 * values, broadcasts, task-local accumulators) happens on every compileFn call, so call it once per
 * task. User code is compiled with the file name `cinder-fn:<hash>` so its stack frames can be mapped
 * back to the user's source on the driver (src/common/stack.ts). Does not talk to the driver itself.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { mapKey } from '../common/map-key.js';
import type { CapRef, FnRef } from '../plan/fn-ref.js';
import {
  ENGINE_MARKER,
  ENGINE_PARAM,
  ENGINE_SPECIFIER,
  type EngineHelpers,
  type FnShape,
  wrapSource,
} from '../plan/fn-wire.js';
import { compareKeys, portableHash } from '../shuffle/partitioner.js';
import { importModule } from './code-cache.js';

export interface FnEnv {
  /** gets `code/<id>.mjs` from the driver */
  fetchFile(name: string): Promise<Uint8Array>;
  /** where fetched bundles are written before import() */
  codeDir: string;
  /** value of a broadcast (already fetched by the caller) */
  broadcast(id: number): unknown;
  /** task-local accumulator object */
  accumulator(id: number, terms?: boolean): unknown;
  /**
   * functions are compiled once per scope (the stage): V8 keeps type feedback per compiled function, so
   * a function used by two stages with differently shaped data (a reduceByKey function merging fresh
   * map-side tuples and decoded reduce-side ones) would otherwise run with the mixed, slower feedback
   */
  scope?: string | undefined;
}

/**
 * Returns [fn, set(values)]: fn closes over `let` bindings that set() fills (so recursion works).
 * Its one parameter (ENGINE_PARAM) gives engine-written functions the engine helpers.
 */
type Factory = (engine: EngineHelpers) => [Function, (values: unknown[]) => void];

const ENGINE_HELPERS: EngineHelpers = Object.freeze({ compareKeys, mapKey, portableHash });

const bundles = new Map<string, Record<string, unknown>>();
const loading = new Map<string, Promise<void>>();
const factories = new Map<string, { factory: Factory; names: string[] }>();
/** Number of compiled function factories held (diagnostics and tests). */
export function compiledFactoryCount(): number {
  return factories.size;
}
/** compiled factories kept (oldest dropped first) */
const MAX_FACTORIES = 512;

/** Every imports bundle id used by a function and the functions it captures. */
export function collectBundleIds(ref: FnRef, out = new Set<string>(), seen = new Set<FnRef>()): string[] {
  if (seen.has(ref)) return [...out];
  seen.add(ref);
  if (ref.imports) out.add(ref.imports.id);
  for (const c of Object.values(ref.caps)) if (c.t === 'f') collectBundleIds(c.f, out, seen);
  return [...out];
}

async function loadBundle(id: string, env: Pick<FnEnv, 'fetchFile' | 'codeDir'>): Promise<void> {
  const bytes = await env.fetchFile(`code/${id}.mjs`);
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== id) throw new Error(`imports bundle ${id}: fetched code has hash ${got}; the driver sent the wrong file`);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // a bundle that imports 'cinder' gets this executor's engine module (loaded only then: start-up stays short)
  const code = text.startsWith(ENGINE_MARKER)
    ? text.replace(JSON.stringify(ENGINE_SPECIFIER), JSON.stringify(new URL('../index.js', import.meta.url).href))
    : bytes;
  fs.mkdirSync(env.codeDir, { recursive: true });
  const file = path.join(env.codeDir, `${id}.mjs`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  }
  bundles.set(id, (await importModule(pathToFileURL(file).href)) as Record<string, unknown>);
}

/** Loads the imports bundles the functions need. Call before compileFn. */
export async function prepareFns(refs: Iterable<FnRef>, env: FnEnv): Promise<void> {
  const ids = new Set<string>();
  for (const r of refs) collectBundleIds(r, ids);
  await prepareBundles(ids, env);
}

/** Loads (imports) bundles by id, each once per process: a module that registers classes runs here. */
export async function prepareBundles(ids: Iterable<string>, env: Pick<FnEnv, 'fetchFile' | 'codeDir'>): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const id of ids) {
    if (bundles.has(id)) continue;
    let p = loading.get(id);
    if (!p) {
      p = loadBundle(id, env).finally(() => loading.delete(id));
      loading.set(id, p);
    }
    waits.push(p);
  }
  await Promise.all(waits);
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

function compileFactory(ref: FnRef, scope: string): { factory: Factory; names: string[] } {
  const key = `${ref.hash}/${scope}`;
  const hit = factories.get(key);
  if (hit) return hit;
  const names = [...(ref.imports?.names ?? []), ...Object.keys(ref.caps)];
  for (const n of names) if (!IDENT.test(n)) throw new Error(`shipped function ${ref.hash}: bad binding name '${n}'`);
  const decl = names.length > 0 ? `let ${names.join(', ')};` : '';
  const set = names.map((n, i) => `${n} = __cinder$v[${i}];`).join(' ');
  let lastErr: unknown;
  for (const shape of ['expr', 'method'] as FnShape[]) {
    const body = `'use strict'; ${decl} return [${wrapSource(ref.src, shape)}, function (__cinder$v) { ${set} }];`;
    try {
      const factory = vm.compileFunction(body, [ENGINE_PARAM], {
        filename: `cinder-fn:${ref.hash}`,
      }) as unknown as Factory;
      const entry = { factory, names };
      factories.set(key, entry);
      if (factories.size > MAX_FACTORIES) factories.delete(factories.keys().next().value!);
      return entry;
    } catch (e) {
      lastErr = e;
    }
  }
  throw lastErr;
}

function bind(ref: FnRef, env: FnEnv, rids: Map<number, Function>): Function {
  const { factory, names } = compileFactory(ref, env.scope ?? '');
  const [fn, set] = factory(ENGINE_HELPERS);
  if (ref.rid !== undefined) rids.set(ref.rid, fn);
  const values: unknown[] = [];
  if (ref.imports) {
    const ns = bundles.get(ref.imports.id);
    if (!ns) throw new Error(`imports bundle ${ref.imports.id} is not loaded: call prepareFns() before compileFn()`);
    for (const n of ref.imports.names) values.push(ns[n]);
  }
  for (const n of names.slice(values.length)) values.push(resolveCap(ref.caps[n]!, env, rids));
  set(values);
  return fn;
}

function resolveCap(c: CapRef, env: FnEnv, rids: Map<number, Function>): unknown {
  switch (c.t) {
    case 'v':
      return c.v;
    case 'f':
      return bind(c.f, env, rids);
    case 'b':
      return env.broadcast(c.id);
    case 'a':
      return env.accumulator(c.id, c.terms === true);
    case 'r': {
      const f = rids.get(c.rid);
      if (!f) throw new Error(`shipped function: dangling back-reference ${c.rid}`);
      return f;
    }
  }
}

/** The callable function for a ref, bound to this task's captures. Synchronous; after prepareFns. */
export function compileFn<F extends Function>(ref: FnRef, env: FnEnv): F {
  return bind(ref, env, new Map()) as unknown as F;
}
