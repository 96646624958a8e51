/**
 * Captures a user function at its call site as a FnRef: its source, the outer values it uses
 * (passed explicitly as a trailing capture object, checked here) and the imported modules it uses
 * (shipped as an imports bundle). A function that uses an outer variable that was not captured fails
 * here, on the driver, with a message naming the variable. Never evaluates user code; the executor
 * side is src/executor/fn-loader.ts.
 *
 * @example
 *   const k = 3;
 *   captureFn((x: number) => x * k, { k }, 'map(f)');   // ok
 *   captureFn((x: number) => x * k, undefined, 'map(f)'); // throws: uses 'k' ... rdd.map((x) => x * k, { k })
 */

import { createHash } from 'node:crypto';
import { bundlerRenamedFrom } from '../common/bundle-names.js';
import { CinderError } from '../common/errors.js';
import { loadModuleText, toPath } from '../common/module-text.js';
import { checkSerializable, encode } from '../common/serde.js';
import { originalPosition } from '../common/stack.js';
import type { CapRef, FnRef } from '../plan/fn-ref.js';
import { ENGINE_PARAM } from '../plan/fn-wire.js';
import { analyzeFnSource } from './free-vars.js';
import { buildImportsBundle, isEngineFile, type ModuleInfo, moduleInfo } from './imports-bundle.js';

export type { CapRef, FnRef } from '../plan/fn-ref.js';

/** Code of an imports bundle by id; the driver serves it to executors as `code/<id>.mjs`. */
export { getBundle } from './imports-bundle.js';

export type Captures = Record<string, unknown>;
/** Objects (Broadcast, Accumulator) with this method are captured as the ref it returns, not as data. */
export const SHIP_REF: unique symbol = Symbol.for('cinder.shipRef') as any;

/** Globals every executor has; functions may use them without capturing. */
const GLOBALS = new Set(
  (
    'globalThis undefined NaN Infinity Math JSON Reflect Proxy Object Function Array String Number Boolean Date ' +
    'RegExp Map Set WeakMap WeakSet WeakRef Promise Symbol BigInt Error TypeError RangeError SyntaxError ' +
    'ReferenceError EvalError URIError AggregateError Buffer console parseInt parseFloat isNaN isFinite Intl ' +
    'TextEncoder TextDecoder URL URLSearchParams structuredClone setTimeout clearTimeout setInterval clearInterval ' +
    'setImmediate clearImmediate queueMicrotask process Int8Array Uint8Array Uint8ClampedArray Int16Array ' +
    'Uint16Array Int32Array Uint32Array Float32Array Float64Array BigInt64Array BigUint64Array ArrayBuffer ' +
    'SharedArrayBuffer DataView Atomics encodeURIComponent decodeURIComponent encodeURI decodeURI atob btoa ' +
    'performance AbortController AbortSignal crypto'
  )
    .split(' ')
    .concat(ENGINE_PARAM),
);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (length ${v.length})`;
  switch (typeof v) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `a string (${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v)})`;
    case 'object': {
      const name = Object.getPrototypeOf(v)?.constructor?.name;
      return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
    }
    default:
      return `${typeof v} ${String(v)}`;
  }
}

function isShipRef(v: unknown): v is { [SHIP_REF](): CapRef } {
  return v !== null && typeof v === 'object' && typeof (v as Record<symbol, unknown>)[SHIP_REF] === 'function';
}

/** The first stack frame outside the engine: the user's call site. Uses raw call sites (not source-mapped). */
function userCallSite(): { file: string; line: number } | undefined {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 64;
    Error.prepareStackTrace = (_e, cs) => cs;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, userCallSite);
    for (const cs of holder.stack ?? []) {
      const file = toPath(cs.getFileName());
      if (file && !isEngineFile(file)) return { file, line: cs.getLineNumber() ?? 0 };
    }
  } catch {
    // stack introspection unavailable: captures still work, imports do not
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  return undefined;
}

class Capturer {
  private readonly done = new Map<Function, FnRef>();
  private readonly active = new Map<Function, { rid?: number }>();
  private readonly capRefs = new Map<string, CapRef>();
  private nextRid = 0;
  private rootSrc = '';

  constructor(
    private readonly caps: Captures,
    private readonly what: string,
    private readonly mod: ModuleInfo | undefined,
    private readonly callLine: number,
  ) {}

  /** label: 'the function' or "captured function 'g'" */
  fn(fn: Function, label: string, root: boolean): CapRef {
    const done = this.done.get(fn);
    if (done) return { t: 'f', f: done };
    const active = this.active.get(fn);
    if (active) {
      active.rid ??= this.nextRid++;
      return { t: 'r', rid: active.rid };
    }
    const src = Function.prototype.toString.call(fn);
    if (src.includes('[native code]'))
      throw new CinderError(
        'NOT_SHIPPABLE',
        `${this.what}: ${label} is a native or bound function (${fn.name || 'anonymous'}), which has no source to ship`,
        'wrap it in an arrow function, e.g. (x) => Math.sqrt(x), and capture any bound values explicitly',
      );
    if (root) this.rootSrc = src;
    const parsed = analyzeFnSource(src);
    if ('error' in parsed) throw new CinderError('NOT_SHIPPABLE', `${this.what}: ${label}: ${parsed.error}`);
    const origin = this.origin(src, root);
    const imports = origin && this.mod ? this.mod.imports : undefined;
    if (parsed.outerThis)
      throw new CinderError(
        'UNCAPTURED_VARIABLE',
        `${this.what}: ${label} uses 'this' of the code around it, which does not exist on executors`,
        'copy what you need into a local constant and capture it, e.g. const v = this.v; rdd.map((x) => x + v, { v })',
      );
    const missing: string[] = [];
    /** the name the function uses -> its key in the capture object (they differ only for bundled engine code) */
    const capNames = new Map<string, string>();
    const importNames: string[] = [];
    for (const name of [...parsed.free].sort()) {
      if (Object.hasOwn(this.caps, name)) capNames.set(name, name);
      else if (imports?.has(name)) importNames.push(name);
      else if (!GLOBALS.has(name)) {
        const key = bundlerRenamedFrom(name, src, (k) => Object.hasOwn(this.caps, k));
        if (key !== undefined) capNames.set(name, key);
        else missing.push(name);
      }
    }
    if (missing.length > 0) this.throwMissing(missing, label, root, origin);
    const entry: { rid?: number } = {};
    this.active.set(fn, entry);
    const caps: Record<string, CapRef> = {};
    for (const [name, key] of capNames) caps[name] = this.cap(key);
    this.active.delete(fn);
    const ref: FnRef = { hash: '', src, caps };
    if (importNames.length > 0 && this.mod)
      ref.imports = { id: buildImportsBundle(this.mod, importNames, this.what), names: importNames };
    if (origin) ref.origin = origin;
    if (entry.rid !== undefined) ref.rid = entry.rid;
    ref.hash = hashRef(ref);
    this.done.set(fn, ref);
    return { t: 'f', f: ref };
  }

  private cap(name: string): CapRef {
    const hit = this.capRefs.get(name);
    if (hit) return hit;
    const v = this.caps[name];
    let ref: CapRef;
    if (typeof v === 'function') ref = this.fn(v, `captured function '${name}'`, false);
    else if (isShipRef(v)) {
      ref = v[SHIP_REF]();
      if (ref.t !== 'b' && ref.t !== 'a') throw new Error(`captured variable '${name}': bad ship ref ${ref.t}`);
    } else {
      checkSerializable(v, `${this.what}: captured variable '${name}'`);
      ref = { t: 'v', v };
    }
    if (ref.t !== 'r') this.capRefs.set(name, ref);
    return ref;
  }

  private origin(src: string, root: boolean): FnRef['origin'] {
    const m = this.mod;
    if (!m) return undefined;
    const code = m.text.code;
    let best = -1;
    let bestLine = 0;
    for (let i = code.indexOf(src); i >= 0; i = code.indexOf(src, i + 1)) {
      const line = lineOf(m.lineStarts, i);
      if (best < 0 || (root && Math.abs(line - this.callLine) < Math.abs(bestLine - this.callLine))) {
        best = i;
        bestLine = line;
      }
      if (!root) break;
    }
    if (best < 0) return undefined;
    return { file: m.text.file, line: bestLine, column: best - m.lineStarts[bestLine - 1]! };
  }

  private throwMissing(missing: string[], label: string, root: boolean, origin: FnRef['origin']): never {
    const located = origin !== undefined;
    // where the function is in the user's source (through the transpile's source map)
    const at = origin ? originalPosition(origin.file, origin.line, origin.column + 1) : undefined;
    const quoted = missing.map((n) => `'${n}'`).join(', ');
    const op = /^[A-Za-z_$][\w$]*/.exec(this.what)?.[0] ?? 'map';
    const r = this.rootSrc;
    const shown = r.length <= 80 && !r.includes('\n') ? r : '<your function>';
    const names = [...new Set([...Object.keys(this.caps), ...missing])].join(', ');
    const one = missing.length === 1;
    const where =
      located || !this.mod
        ? ''
        : ` (cinder could not find this function's source in ${this.mod.text.file}, so it cannot use that module's imports either)`;
    throw new CinderError(
      'UNCAPTURED_VARIABLE',
      `${this.what}: ${label} uses ${quoted}, which ${one ? 'is' : 'are'} defined outside it and ${one ? 'was' : 'were'} not captured${where}. ` +
        `Pass ${one ? 'it' : 'them'} explicitly: rdd.${op}(${shown}, { ${names} })` +
        (at ? ` (the function is at ${at.file}:${at.line}:${at.column})` : ''),
      root
        ? 'functions run on other processes; every outer value they use must be listed in the trailing capture object'
        : 'captured functions see the same capture object: add what they use to it',
    );
  }
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function hashRef(ref: FnRef): string {
  const h = createHash('sha256');
  h.update(ref.src).update('\0');
  for (const name of Object.keys(ref.caps).sort()) {
    const c = ref.caps[name]!;
    h.update(`${name}:${c.t}:`);
    if (c.t === 'v') h.update(encode(c.v));
    else if (c.t === 'f') h.update(c.f.hash);
    else h.update(String(c.t === 'r' ? c.rid : c.id));
    h.update('\0');
  }
  if (ref.imports) h.update(`${ref.imports.id}:${ref.imports.names.join(',')}`);
  if (ref.rid !== undefined) h.update(`\0rid:${ref.rid}`);
  return h.digest('hex').slice(0, 32);
}

/**
 * Captures `fn` for shipping. `what` names the call for messages ("map(f)").
 * Throws CinderError here (on the driver) for a non-function, an unparsable/native function, an outer
 * variable used but not captured, or a captured value that cannot be serialized.
 */
export function captureFn(fn: unknown, caps: Captures | undefined, what: string): FnRef {
  if (typeof fn !== 'function')
    throw new CinderError(
      'NOT_A_FUNCTION',
      `${what}: expected a function, got ${describe(fn)}`,
      'pass a function, e.g. rdd.map((x) => x * 2)',
    );
  if (caps !== undefined) {
    const proto = caps === null || typeof caps !== 'object' ? undefined : Object.getPrototypeOf(caps);
    if (proto !== Object.prototype && proto !== null)
      throw new CinderError(
        'BAD_CAPTURES',
        `${what}: the capture object must be a plain object like { k }, got ${describe(caps)}`,
        'pass outer values as a trailing object: rdd.map((x) => x * k, { k })',
      );
  }
  const site = userCallSite();
  const text = site ? loadModuleText(site.file) : undefined;
  const mod = text ? moduleInfo(text) : undefined;
  const ref = new Capturer(caps ?? {}, what, mod, site?.line ?? 0).fn(fn, 'the function', true);
  return (ref as { t: 'f'; f: FnRef }).f;
}
