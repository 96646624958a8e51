// What the CommonJS bundles run from a V8 code cache have in common (the executor's two, the AM's, the
// CLI's): import.meta.url of code that is not ours (the vendored packages, msgpackr's native extractor) is
// the bundle's own URL, set by the banner. Used by scripts/build.mjs, and by
// test/closure/bundle-renames.test.ts to build its bundle as the build does.
export const cachedBundleOptions = {
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  define: { 'import.meta.url': '__cinderBundleUrl' },
  banner: { js: "var __cinderBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};
