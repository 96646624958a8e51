/**
 * `cinder submit --typecheck`: type-checks a TypeScript app with the TypeScript compiler before anything
 * starts (without the flag a .ts app only has its types stripped). Uses the app's nearest tsconfig.json
 * (else strict defaults) and resolves `cinder` to the engine's declarations when the app's project does
 * not have it installed.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CinderError } from '../../common/errors.js';

const MAX_SHOWN = 10;

const ENGINE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The engine's declarations (build/types), or its source when they were not built. */
function engineTypes(): string {
  const root = ENGINE_ROOT;
  const built = path.join(root, 'build', 'types', 'src', 'index.d.ts');
  return fs.existsSync(built) ? built : path.join(root, 'src', 'index.ts');
}

function ancestorsAtTypes(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const t = path.join(d, 'node_modules', '@types');
    if (fs.existsSync(t)) out.push(t);
    if (path.dirname(d) === d) return out;
  }
}

export async function typecheck(app: string): Promise<void> {
  let ts: typeof import('typescript');
  try {
    // required (it is CommonJS): the CLI bundle runs from a code cache, where import() is not available
    ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  } catch {
    throw new CinderError(
      'NO_TYPESCRIPT',
      '--typecheck needs the typescript package, which is not installed',
      'npm install --save-dev typescript (or run without --typecheck)',
    );
  }
  const cfgPath = ts.findConfigFile(path.dirname(app), ts.sys.fileExists, 'tsconfig.json');
  let options: import('typescript').CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    // an app is run as an ES module whatever its package.json says (top-level await works)
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
  };
  // no tsconfig: Node's types from the app's project, else the ones installed with the engine
  const engineAtTypes = path.join(ENGINE_ROOT, 'node_modules', '@types');
  if (fs.existsSync(path.join(engineAtTypes, 'node'))) {
    options.types = ['node'];
    options.typeRoots = [...ancestorsAtTypes(path.dirname(app)), engineAtTypes];
  }
  if (cfgPath) {
    const cfg = ts.readConfigFile(cfgPath, ts.sys.readFile);
    options = ts.parseJsonConfigFileContent(cfg.config, ts.sys, path.dirname(cfgPath)).options;
  }
  options = { ...options, noEmit: true, paths: { cinder: [engineTypes()], ...(options.paths ?? {}) } };
  const program = ts.createProgram([app], options);
  const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (diags.length === 0) return;
  const shown = diags.slice(0, MAX_SHOWN).map((d) => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
    if (!d.file || d.start === undefined) return `  ${msg}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const rel = path.relative(process.cwd(), d.file.fileName);
    return `  ${rel.startsWith('..') ? d.file.fileName : rel}:${line + 1}:${character + 1}: ${msg}`;
  });
  throw new CinderError(
    'APP_TYPE_ERRORS',
    `application ${app} has ${diags.length} type error${diags.length === 1 ? '' : 's'}${diags.length > MAX_SHOWN ? ` (first ${MAX_SHOWN})` : ''}:\n${shown.join('\n')}`,
    'fix them; nothing was started (without --typecheck, cinder submit strips types without checking them)',
  );
}
