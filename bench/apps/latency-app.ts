/**
 * Launch-latency probe, run by `cinder submit` (bench/suite.ts case launch-latency): prints epoch
 * timestamps of its first line, of the context being ready, and of its first task running on an
 * executor, then `count=1 expected=1` and `BENCH_METRICS {json}`.
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
await sc.stop();
process.stdout.write('count=1 expected=1\n');
process.stdout.write(`BENCH_METRICS ${JSON.stringify({ firstLineEpoch, contextEpoch, firstTaskEpoch, jobEpoch })}\n`);
