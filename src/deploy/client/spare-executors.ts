/**
 * `cinder submit` with a local master starts the app's executors before it compiles and loads the app
 * (src/executor/spare.ts, decision 0017), with the shape the context will ask for unless the app's own
 * code sets another executor size (then the context starts fresh ones and these end unused).
 * `--conf cinder.local.spareExecutors=false` turns it off.
 */
import { type Conf, DEFAULTS, intConf, parseMaster, parseMb, strConf } from '../../common/conf.js';
import { startSpareExecutors } from '../../scheduler/executor-processes.js';
import type { SubmitRequest } from './submit-options.js';

export function startSparesFor(req: SubmitRequest): void {
  const conf: Conf = { ...DEFAULTS, ...req.conf };
  if (conf['cinder.local.spareExecutors'] === 'false') return;
  let n: number;
  let shape: { coresPerExecutor: number; memoryMb: number; heartbeatMs: number };
  try {
    const m = parseMaster(req.master);
    if (m.kind !== 'local') return;
    n = m.executors;
    shape = {
      coresPerExecutor: intConf(conf, 'cinder.executor.cores'),
      memoryMb: parseMb(strConf(conf, 'cinder.executor.memory')!, 'cinder.executor.memory'),
      heartbeatMs: intConf(conf, 'cinder.executor.heartbeatInterval'),
    };
  } catch {
    return; // a bad setting: the context reports it when the app starts it
  }
  startSpareExecutors(n, shape);
}
