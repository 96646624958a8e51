/**
 * The one binary codec for records and messages (msgpackr, measured fastest in ../shared/bench/limits).
 * Records move in batches: encode an array of records at once, never one call per record.
 *
 * What travels (records, captures, broadcasts, results, accumulator values; decision 0020): what
 * structured clone carries — null/undefined, booleans, numbers, strings, BigInts (always BigInts again),
 * arrays, plain objects, Map (any keys), Set, Date, RegExp, Error, Buffer/Uint8Array and every typed
 * array, ArrayBuffer, nested in any way — plus instances of classes given to registerClass(). Not:
 * functions, symbols, instances of other classes, reference cycles (checkSerializable says which).
 *
 * Plain objects are msgpackr "records" (their keys written once per shape in a batch), which also lets a
 * msgpack map mean a Map: pairs of strings and numbers keep their column format (record-codec.ts).
 */

import { CinderError } from './errors.js';
import { addExtension, Packr } from './msgpackr.js';

const packr = new Packr({
  structuredClone: false,
  useRecords: true,
  mapsAsObjects: false,
  moreTypes: true,
  int64AsType: 'bigint',
  useBigIntExtension: true,
} as any);

export function encode(value: unknown): Buffer {
  if (changes.n !== synced) syncClasses();
  return packr.pack(value);
}

export function decode<T = unknown>(buf: Uint8Array): T {
  if (changes.n !== synced) syncClasses();
  // msgpack bins decode as views of the source: a Buffer source gives Buffers, as they were sent
  // (Uint8Arrays and other typed arrays have their own extension and stay what they were)
  return packr.unpack(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)) as T;
}

/** Changes at each registration (a task decodes its input again if its functions or modules registered classes). */
export function registeredClassCount(): number {
  return changes.n;
}

// ------------------------------------------------------------------ registered classes
/** msgpack extension type of registered class instances: [name, own enumerable fields] */
const CLASS_EXT = 0x43;
/** A class (a constructor function) whose instances {@link registerClass} makes shippable. */
export type Ctor = new (...args: any[]) => unknown;
/**
 * name -> class, for the whole process: an executor's task thread loads this module twice (its bundle
 * and the engine that a shipped function's `import 'cinder'` brings), so the registry is global and each
 * copy of this module adds the msgpack extensions it has not yet added before it encodes or decodes.
 */
const registry: Map<string, Ctor> = ((globalThis as Record<symbol, unknown>)[Symbol.for('cinder.registeredClasses')] ??=
  new Map<string, Ctor>()) as Map<string, Ctor>;
/** registrations so far in this process (a class replacing another of its name counts: size would not) */
const changes: { n: number } = ((globalThis as Record<symbol, unknown>)[Symbol.for('cinder.registeredClassChanges')] ??=
  { n: 0 }) as { n: number };
let synced = -1;
const added = new Set<Ctor>();
/** name -> the file of the module that registered the class (the driver ships it to executors) */
const classFiles: Map<string, string> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('cinder.registeredClassFiles')
] ??= new Map<string, string>()) as Map<string, string>;

/** The modules that registered classes, by class name (files as their stack frames name them). */
export function registeredClassFiles(): ReadonlyMap<string, string> {
  return classFiles;
}

/**
 * The file of the code that called `fn`: the file that runs (a call site's own name), not the one a
 * source map would show.
 */
function callerFile(fn: Function): string | undefined {
  const holder: { stack?: unknown } = {};
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_e, sites) => sites;
  Error.stackTraceLimit = 1;
  try {
    Error.captureStackTrace(holder, fn);
    const sites = holder.stack as NodeJS.CallSite[] | undefined;
    return sites?.[0]?.getFileName() ?? undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/** instances of a class no process registered arrive as plain objects with their fields */
class NotRegistered {}
addExtension({
  Class: NotRegistered,
  type: CLASS_EXT,
  write: (v: object) => ['', { ...v }],
  read: readInstance,
} as any);

function readInstance([n, fields]: [string, object]): unknown {
  const c = registry.get(n);
  return c ? Object.assign(Object.create(c.prototype), fields) : fields;
}

function syncClasses(): void {
  for (const [name, cls] of registry) {
    if (added.has(cls)) continue;
    added.add(cls);
    addExtension({
      Class: cls,
      type: CLASS_EXT,
      // a copy of the class that another copy of its module replaced keeps the name
      write: (v: object) => [nameOf(v.constructor) ?? name, { ...v }],
      read: readInstance,
    } as any);
  }
  synced = changes.n;
}

function nameOf(cls: unknown): string | undefined {
  for (const [n, c] of registry) if (c === cls) return n;
  return undefined;
}

/**
 * Lets instances of `cls` travel as data: they are sent as their own enumerable fields and rebuilt
 * with `cls`'s prototype (the constructor is not called) wherever `cls` is registered under the same
 * name; where it is not, they arrive as plain objects with those fields. Register the class at the top
 * level of the module that defines it: the driver bundles that module (with what it imports) and every
 * executor loads it before a task runs, so instances keep their class on the executors even where no
 * shipped function names the class (records read from a shuffle, a cache, a broadcast). A class
 * registered in the app's main file is known only where the main file runs (the driver) and where a
 * function that imports it runs: keep registered classes in a module of their own. Private (#) fields
 * do not travel.
 * @example
 *   export class Point { constructor(public x: number, public y: number) {} norm() { return Math.hypot(this.x, this.y); } }
 *   registerClass(Point);
 */
export function registerClass(cls: Ctor, name: string = cls?.name): void {
  if (typeof cls !== 'function' || !cls.prototype)
    throw new CinderError('BAD_ARGUMENT', 'registerClass: pass a class (a constructor function)');
  if (!name)
    throw new CinderError('BAD_ARGUMENT', 'registerClass: the class has no name; pass one: registerClass(C, "C")');
  const known = registry.get(name);
  if (known === cls) return;
  const file = callerFile(registerClass);
  if (file && !classFiles.has(name)) classFiles.set(name, file);
  // the same class from another copy of its module (two function bundles on an executor) takes over
  if (known && known.toString() !== cls.toString())
    throw new CinderError(
      'BAD_ARGUMENT',
      `registerClass: another class is already registered as '${name}'`,
      'pass a distinct name: registerClass(C, "module.C")',
    );
  registry.set(name, cls);
  changes.n++;
}

/** Whether instances of this constructor (or a registered base class) travel as data. */
function isRegistered(o: object): boolean {
  for (let p = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
    if (nameOf(p.constructor) !== undefined) return true;
  return false;
}

// ------------------------------------------------------------------ the driver-side check
/**
 * Throws a CinderError naming the path of the first value that cannot travel between processes
 * (functions, symbols, instances of unregistered classes, cycles).
 * `what` says where the value came from ("captured variable 'x'", "parallelize() data").
 */
export function checkSerializable(value: unknown, what: string, maxNodes = 100_000): void {
  const seen = new Set<object>();
  let nodes = 0;
  const visit = (v: unknown, path: string): void => {
    if (++nodes > maxNodes) return; // sampled check on big data; encode() still fails loudly later
    const t = typeof v;
    if (v === null || v === undefined || t === 'number' || t === 'string' || t === 'boolean' || t === 'bigint') return;
    if (t === 'function')
      throw new CinderError(
        'NOT_SERIALIZABLE',
        `${what}: ${path} is a function, which cannot be sent as data`,
        'pass functions as captures, e.g. rdd.map((x) => f(x), { f })',
      );
    if (t === 'symbol')
      throw new CinderError('NOT_SERIALIZABLE', `${what}: ${path} is a symbol, which cannot be serialized`);
    const o = v as object;
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof Date || o instanceof RegExp) return;
    if (seen.has(o)) throw new CinderError('NOT_SERIALIZABLE', `${what}: ${path} is part of a reference cycle`);
    seen.add(o);
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) visit(o[i], `${path}[${i}]`);
    } else if (o instanceof Map) {
      let i = 0;
      for (const [k, x] of o) {
        visit(k, `${path}.keys()[${i}]`);
        visit(x, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : `keys()[${i}]`})`);
        i++;
      }
    } else if (o instanceof Set) {
      let i = 0;
      for (const x of o) visit(x, `${path}.values()[${i++}]`);
    } else if (o instanceof Error) {
      // name, message and stack travel
    } else {
      const proto = Object.getPrototypeOf(o);
      if (proto !== Object.prototype && proto !== null && !isRegistered(o)) {
        const name = (o as { constructor?: { name?: string } }).constructor?.name || 'an anonymous class';
        throw new CinderError(
          'NOT_SERIALIZABLE',
          `${what}: ${path} is an instance of ${name}, which cannot travel as data`,
          `register the class once where it is defined: registerClass(${name}) (import { registerClass } from 'cinder'), or convert it to plain data`,
        );
      }
      for (const k of Object.keys(o)) visit((o as Record<string, unknown>)[k], `${path}.${k}`);
    }
    seen.delete(o);
  };
  visit(value, 'value');
}
