/**
 * Imports bundles: the modules a shipped function uses through its defining module's `import`s,
 * bundled by esbuild (the app's own files and node_modules) into one ESM file that executors load
 * by id (`code/<id>.mjs`, id = sha256 of the code). Imports of the engine itself are never bundled:
 * they import ENGINE_SPECIFIER, which the executor points at its own engine's public module.
 * Driver side only; owns the bundle registry. Does not evaluate user code.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import type * as Esbuild from 'esbuild';
import { CinderError } from '../common/errors.js';
import { esbuild } from '../common/lazy-esbuild.js';
import type { ModuleText } from '../common/module-text.js';
import { ENGINE_MARKER, ENGINE_SPECIFIER } from '../plan/fn-wire.js';

export interface ImportBinding {
  /** name of the binding in the importing module */
  local: string;
  source: string;
  kind: 'default' | 'namespace' | 'named';
  /** exported name for `named` */
  imported: string;
}

export interface ModuleInfo {
  text: ModuleText;
  imports: Map<string, ImportBinding>;
  /** 0-based offsets of line starts in text.code */
  lineStarts: number[];
}

function findEngineRoot(): { root: string; name: string } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) return { root: dir, name: JSON.parse(fs.readFileSync(pj, 'utf8')).name ?? 'cinder' };
    const up = path.dirname(dir);
    if (up === dir)
      return { root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'), name: 'cinder' };
    dir = up;
  }
}

const ENGINE = findEngineRoot();
const ENGINE_DIRS = [path.join(ENGINE.root, 'src') + path.sep, path.join(ENGINE.root, 'build', 'src') + path.sep];

/** True for the engine's own source/build files (their stack frames are not user call sites). */
export function isEngineFile(file: string): boolean {
  return ENGINE_DIRS.some((d) => file.startsWith(d));
}

function isEngineSpecifier(spec: string, dir: string): boolean {
  if (spec === ENGINE.name || spec.startsWith(`${ENGINE.name}/`)) return true;
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:')) {
    const p = spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(dir, spec);
    return isEngineFile(p);
  }
  return false;
}

const infos = new WeakMap<ModuleText, ModuleInfo>();

/** Import bindings and line index of a module's running JS text (cached with the text). */
export function moduleInfo(text: ModuleText): ModuleInfo {
  const hit = infos.get(text);
  if (hit) return hit;
  const imports = new Map<string, ImportBinding>();
  try {
    const ast = parse(text.code, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true }) as any;
    for (const st of ast.body) {
      if (st.type !== 'ImportDeclaration') continue;
      const source = String(st.source.value);
      for (const sp of st.specifiers) {
        const local = sp.local.name as string;
        if (sp.type === 'ImportDefaultSpecifier')
          imports.set(local, { local, source, kind: 'default', imported: 'default' });
        else if (sp.type === 'ImportNamespaceSpecifier')
          imports.set(local, { local, source, kind: 'namespace', imported: '*' });
        else {
          const imported = sp.imported.type === 'Identifier' ? sp.imported.name : String(sp.imported.value);
          imports.set(local, { local, source, kind: 'named', imported });
        }
      }
    }
  } catch {
    // not an ES module (or not parsable): no imports are available to its functions
  }
  const lineStarts = [0];
  for (let i = text.code.indexOf('\n'); i >= 0; i = text.code.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const info = { text, imports, lineStarts };
  infos.set(text, info);
  return info;
}

const bundles = new Map<string, string>();
const built = new Map<string, string>(); // file|mtime|names -> bundle id

/** Code of a bundle by id (the driver serves it to executors as `code/<id>.mjs`). */
export function getBundle(id: string): string | undefined {
  return bundles.get(id);
}

/** Registers code as a bundle (also used by tests and by the driver for prebuilt code); returns its id. */
export function registerBundle(code: string): string {
  const id = createHash('sha256').update(code).digest('hex');
  bundles.set(id, code);
  return id;
}

const ENGINE_VAR = '__cinderEngine$';

function engineExport(b: ImportBinding): string {
  const value =
    b.kind === 'namespace'
      ? ENGINE_VAR
      : b.kind === 'default'
        ? `(${ENGINE_VAR}.default ?? ${ENGINE_VAR})`
        : `${ENGINE_VAR}[${JSON.stringify(b.imported)}]`;
  return `export const ${b.local} = ${value};`;
}

/** Rewrites `import ... from "cinder"` left external in esbuild output into reads of the engine module. */
function rewriteEngineImports(code: string): { code: string; usesEngine: boolean } {
  if (!code.includes('import ')) return { code, usesEngine: false };
  const ast = parse(code, { ecmaVersion: 'latest', sourceType: 'module' }) as any;
  let out = '';
  let last = 0;
  let usesEngine = false;
  for (const st of ast.body) {
    if (st.type !== 'ImportDeclaration' || !isEngineSpecifier(String(st.source.value), ENGINE.root)) continue;
    const parts: string[] = [];
    for (const sp of st.specifiers) {
      if (sp.type === 'ImportNamespaceSpecifier') parts.push(`const ${sp.local.name} = ${ENGINE_VAR};`);
      else if (sp.type === 'ImportDefaultSpecifier')
        parts.push(`const ${sp.local.name} = ${ENGINE_VAR}.default ?? ${ENGINE_VAR};`);
      else {
        const imported = sp.imported.type === 'Identifier' ? sp.imported.name : String(sp.imported.value);
        parts.push(`const ${sp.local.name} = ${ENGINE_VAR}[${JSON.stringify(imported)}];`);
      }
    }
    out += code.slice(last, st.start) + parts.join(' ');
    last = st.end;
    usesEngine = true;
  }
  return { code: out + code.slice(last), usesEngine };
}

/**
 * Builds (or reuses) the bundle exporting the given imported bindings of a module; returns its id.
 * Throws CinderError naming the module when esbuild cannot bundle them.
 */
export function buildImportsBundle(info: ModuleInfo, names: string[], what: string): string {
  const key = `${info.text.file}|${info.text.mtimeMs}|${names.join(',')}`;
  const hit = built.get(key);
  if (hit) return hit;
  const dir = path.dirname(info.text.file);
  const bindings = names.map((n) => info.imports.get(n)!);
  const engine = bindings.filter((b) => isEngineSpecifier(b.source, dir));
  const others = bindings.filter((b) => !isEngineSpecifier(b.source, dir));
  let code = '';
  let usesEngine = engine.length > 0;
  if (others.length > 0) {
    const stdin = others
      .map((b) => {
        const from = JSON.stringify(b.source);
        if (b.kind === 'namespace') return `export * as ${b.local} from ${from};`;
        return `export { ${JSON.stringify(b.imported)} as ${b.local} } from ${from};`;
      })
      .join('\n');
    let rewritten: { code: string; usesEngine: boolean };
    try {
      rewritten = bundleStdin(stdin, dir);
    } catch (e) {
      const first = (e as { errors?: Array<{ text: string }> }).errors?.[0]?.text ?? String(e);
      throw new CinderError(
        'BUNDLE_FAILED',
        `${what}: could not bundle the imports the function uses (${others.map((b) => `'${b.local}' from '${b.source}'`).join(', ')}) in ${info.text.file}: ${first}`,
        'functions may use modules that esbuild can bundle (your files and node_modules, no native addons); otherwise compute the value before the call and capture it',
      );
    }
    code = rewritten.code;
    usesEngine ||= rewritten.usesEngine;
  }
  const id = registerBundle(withEngine(code, usesEngine, engine.map(engineExport)));
  built.set(key, id);
  return id;
}

/**
 * Imports left to the executor's own engine: `cinder`, and the engine reached by a path (a module that
 * imports it by a relative path) or a file URL (the app bundled for cluster mode does).
 */
const ENGINE_EXTERNAL = [ENGINE.name, `${ENGINE.name}/*`, 'file:*', ...ENGINE_DIRS.map((d) => `${d}*`)];

/** esbuild of an entry given as text (resolved from resolveDir), the engine left to the executor's copy. */
function bundleStdin(contents: string, resolveDir: string): { code: string; usesEngine: boolean } {
  const r: Esbuild.BuildResult = esbuild().buildSync({
    stdin: { contents, resolveDir, sourcefile: 'cinder-imports.js', loader: 'js' },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // a class keeps its name (registerClass names it by cls.name; esbuild renames a class that refers to itself)
    keepNames: true,
    external: ENGINE_EXTERNAL,
    // engine paths left outside are written relative to this dir (rewriteEngineImports resolves them so)
    absWorkingDir: ENGINE.root,
    banner: {
      js: "import { createRequire as __cinderRequire$ } from 'node:module';\nconst require = __cinderRequire$(import.meta.url);",
    },
    logLevel: 'silent',
  });
  return rewriteEngineImports(r.outputFiles?.[0]?.text ?? '');
}

function withEngine(code: string, usesEngine: boolean, exports: string[] = []): string {
  if (!usesEngine) return code;
  return `${ENGINE_MARKER}\nimport * as ${ENGINE_VAR} from ${JSON.stringify(ENGINE_SPECIFIER)};\n${code}\n${exports.join('\n')}\n`;
}

/**
 * Builds (or reuses) a bundle that runs a module for its side effects: a module that registered classes
 * (registerClass), which executors load before a task so the classes are registered there too. Throws
 * esbuild's error when the module cannot be bundled.
 */
export function buildModuleBundle(file: string): string {
  const key = `${file}|${fs.statSync(file).mtimeMs}|*run`;
  const hit = built.get(key);
  if (hit) return hit;
  const r = bundleStdin(`import ${JSON.stringify(file)};`, path.dirname(file));
  const id = registerBundle(withEngine(r.code, r.usesEngine));
  built.set(key, id);
  return id;
}
