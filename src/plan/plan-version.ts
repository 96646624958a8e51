/**
 * The plan's version: bumped on every change of the plan's shape (src/plan/schema.ts checks it on the
 * executor's side); the stage body carries it. Its own module so the driver, which only stamps it, does
 * not build the plan's zod schema at start (~20 ms of a local job's start-up).
 */
export const PLAN_VERSION = 1;
