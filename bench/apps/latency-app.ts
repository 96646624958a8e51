/**
 * Launch-latency probe, run by `cinder submit` (bench/suite.ts case launch-latency): prints epoch
 * timestamps of its first line, of the context being ready, and of its first task running on an
 * executor, then `count=1 expected=1` and `BENCH_METRICS {json}` (with each executor's time from its launch
 * request, at the NM or the local spawn, to its registration with this driver, read from the driver's
 * status API as a user would).
 *
 * Owns: nothing but the probe. Must not: do real work (it measures start-up only).
 */
import { CinderContext } from '../../src/index.js';

const firstLineEpoch = Date.now();
process.stdout.write(`latency probe started at ${firstLineEpoch}\n`);
const sc = await CinderContext.getOrCreate({ appName: 'bench-launch-latency' });
const contextEpoch = Date.now();
const [firstTaskEpoch] = await sc
  .parallelize([0], 1)
  .map(() => Date.now())
  .collect();
const jobEpoch = Date.now();
let launchToRegisterMs: number[] = [];
// on a cluster the driver UI answers only the RM's web proxy (a user's token), so the probe reads it
// directly in local mode only; executors' launch-to-register times are in their Spark-shaped attributes
if (sc.uiWebUrl && sc.master.startsWith('local')) {
  const res = await fetch(`${sc.uiWebUrl}/api/v1/applications/${sc.applicationId}/executors`);
  const executors = (await res.json()) as Array<{ id: string; attributes?: { launchToRegisterMs?: string } }>;
  launchToRegisterMs = executors
    .filter((e) => e.id !== 'driver')
    .map((e) => Number(e.attributes?.launchToRegisterMs ?? Number.NaN));
}
await sc.stop();
process.stdout.write('count=1 expected=1\n');
process.stdout.write(
  `BENCH_METRICS ${JSON.stringify({ firstLineEpoch, contextEpoch, firstTaskEpoch, jobEpoch, launchToRegisterMs })}\n`,
);
