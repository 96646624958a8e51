/**
 * The one place the engine imports msgpackr from. `npm run build` replaces this module's output with
 * msgpackr bundled into a single file (scripts/build.mjs, docs/decisions/0010-vendor-pino-msgpackr.md);
 * its optional native string extractor (msgpackr-extract) is still loaded from node_modules.
 */
export { addExtension, isNativeAccelerationEnabled, Packr } from 'msgpackr';
