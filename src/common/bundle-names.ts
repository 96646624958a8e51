/**
 * Names the bundler gave. In a bundle (the CLI's, decision 0035) esbuild renames a local symbol that
 * shares its name with a top-level symbol of any module in the bundle (`num` → `num2`), the free variables
 * of the engine's own shipped closures included, while their capture objects keep the names as written
 * (`{ num }`: esbuild keeps property names). Closure capture asks here which capture key such a variable
 * was renamed from, only for functions whose source is the running bundle's own text (never a user's).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Defined by the banner of the CommonJS bundles (scripts/build.mjs); absent in the per-file build. */
declare const __cinderBundleUrl: string | undefined;

let bundleText: string | null | undefined;

function runningBundle(): string | null {
  if (bundleText === undefined) {
    try {
      bundleText =
        typeof __cinderBundleUrl === 'string' ? fs.readFileSync(fileURLToPath(__cinderBundleUrl), 'utf8') : null;
    } catch {
      bundleText = null;
    }
  }
  return bundleText;
}

/**
 * The capture key free variable `name` of function source `src` was renamed from by the bundler, when
 * `src` is the bundle's own code and stripping the digits esbuild appended gives a key `hasKey` knows.
 */
export function bundlerRenamedFrom(name: string, src: string, hasKey: (key: string) => boolean): string | undefined {
  if (!/\d$/.test(name)) return undefined;
  const text = runningBundle();
  if (!text?.includes(src)) return undefined;
  for (let stem = name.slice(0, -1); stem.length > 0; stem = stem.slice(0, -1)) {
    if (hasKey(stem)) return stem;
    if (!/\d$/.test(stem)) return undefined;
  }
  return undefined;
}
