/**
 * Channel: Application Master <-> driver, in client deploy mode (the AM dials the driver, which
 * lives in the submitting client). In cluster mode the driver runs inside the AM process and this
 * channel is not used. Authenticated with the application's secret (principal = app id).
 * The AM renews a lease with every message; the driver answers Pings so the AM can tell a dead or
 * unreachable client from a quiet one.
 */
import { z } from '../common/zod.js';
import { parser } from './common.js';

export const AmToDriver = z.discriminatedUnion('type', [
  /** request: first message of an AM attempt (the driver resets executor bookkeeping on a new attempt) */
  z.object({
    type: z.literal('RegisterClusterManager'),
    appId: z.string(),
    attemptId: z.string(),
    amHost: z.string(),
    /** the uid/gid the app's containers run as (the submitting user's on NMs that isolate containers) */
    uid: z.number().int().optional(),
    gid: z.number().int().optional(),
  }),
  /** an executor container ended; reason carries the exit status and the NM's diagnostics */
  z.object({
    type: z.literal('ExecutorExited'),
    executorId: z.string(),
    containerId: z.string(),
    exitStatus: z.number(),
    diagnostics: z.string(),
    countsAsFailure: z.boolean(),
  }),
  /** the app is failing on the cluster side (e.g. too many executor failures) */
  z.object({ type: z.literal('AppFailing'), exitCode: z.number(), diagnostics: z.string() }),
  /** request: liveness probe; the driver answers */
  z.object({ type: z.literal('Ping'), at: z.number() }),
]);
export type AmToDriver = z.infer<typeof AmToDriver>;

export const DriverToAm = z.discriminatedUnion('type', [
  /** the total number of executors the driver wants (not a delta) */
  z.object({
    type: z.literal('RequestExecutors'),
    total: z.number().int().nonnegative(),
    memoryMB: z.number().int().positive(),
    cores: z.number().int().positive(),
  }),
  z.object({ type: z.literal('KillExecutors'), executorIds: z.array(z.string()) }),
  /** client mode: the next lines of the driver's event log, for the AM's container log dir (final = closed) */
  z.object({ type: z.literal('EventLog'), data: z.string(), final: z.boolean() }),
  /** the driver is done: the AM unregisters with this outcome and exits */
  z.object({ type: z.literal('Shutdown'), succeeded: z.boolean(), diagnostics: z.string() }),
]);
export type DriverToAm = z.infer<typeof DriverToAm>;

export const parseAmToDriver = parser(AmToDriver);
export const parseDriverToAm = parser(DriverToAm);
