/**
 * The one place the engine imports pino from. `npm run build` replaces this module's output with pino
 * bundled into a single file (scripts/build.mjs, docs/decisions/0010-vendor-pino-msgpackr.md).
 */
export { pino } from 'pino';
