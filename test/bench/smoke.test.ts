/**
 * Smoke test of the benchmark suite: every workload on tiny data (a few hundred KiB) through the
 * same code path as `npm run bench` (runSuite → measured child processes → answer checks), with
 * Cinder's answer compared against the baseline's. CI runs this, not the full benchmark.
 * About 28 CPU-seconds (15 Cinder processes): ~20 s on a quiet 2-core machine, far more under load.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ALL_CASES, PRESETS, type SuiteConfig } from '../../bench/lib/config.js';
import { markdown, summarize } from '../../bench/lib/report.js';
import { runSuite } from '../../bench/suite.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-bench-smoke-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('every benchmark workload runs on tiny data and matches its baseline', { timeout: 180_000 }, async () => {
  const logs: string[] = [];
  const cfg: SuiteConfig = {
    mode: 'tiny',
    sizes: PRESETS.tiny,
    reps: 1,
    spillReps: 1,
    master: 'local[2]',
    // spill-sort is the sort workload with a memory conf: left out to keep CI fast
    cases: ALL_CASES.filter((c) => c !== 'spill-sort'),
    peers: false,
    dataDir: path.join(tmp, 'data'),
    workDir: path.join(tmp, 'work'),
    resultsDir: path.join(tmp, 'results'),
    timeoutS: 60,
    log: (m) => logs.push(m),
  };
  const res = await runSuite(cfg);
  const measured = res.cases.filter((c) => !c.notMeasured).map((c) => c.name);
  for (const c of cfg.cases) if (c !== 'launch-latency') assert.ok(measured.includes(c), c);
  for (const c of res.cases) {
    if (c.notMeasured) continue;
    for (const impl of c.impls) {
      const v = res.verdicts[`${c.name}/${impl.name}`];
      assert.match(v ?? 'missing', /^(same|ok)/, `${c.name}/${impl.name}: ${v}\n${logs.join('\n')}`);
    }
  }
  // Cinder printed the baseline's answer (not just an equal failure)
  const wc = res.runs.find((r) => r.case === 'wordcount' && r.impl === 'cinder');
  assert.match(wc?.answer ?? '', /^words=\d+ distinct=\d+ top10=/);
  const km = res.runs.find((r) => r.case === 'kmeans' && r.impl === 'cinder');
  assert.equal(km?.metrics.passSeconds?.length, PRESETS.tiny.passes);
  const spill = res.runs.find((r) => r.case === 'spill-groupbykey' && r.impl === 'cinder');
  assert.ok((spill?.metrics.executorPeakKB ?? []).length >= 1, 'executor peak RSS was sampled');
  const ll = res.runs.find((r) => r.case === 'launch-latency');
  if (ll)
    assert.ok(
      ll.metrics.firstLineMs > 0 && ll.metrics.firstLineMs <= ll.metrics.firstTaskMs,
      JSON.stringify(ll.metrics),
    );
  const md = markdown(res);
  assert.match(md, /\| wordcount \| cinder \|/);
  // one summary row per case; launch latency and the RM simulation have one per implementation
  const rows = summarize(res);
  for (const c of res.cases)
    assert.ok(
      rows.some((r) => r.case.startsWith(c.name)),
      `summary row for ${c.name}`,
    );
  // the user-function cases also run their two-process floor (bench/hand/split2.ts), compared in the summary
  for (const c of ['wordfreq', 'jsongroup', 'cpumap']) {
    assert.ok(
      res.runs.some((r) => r.case === c && r.impl === 'split2' && r.code === 0),
      `${c} floor ran`,
    );
    assert.ok(
      rows.some((r) => r.case === `${c} floor` && r.value > 0),
      `${c} floor row`,
    );
  }
  const launch = res.cases.find((c) => c.name === 'launch-latency');
  if (launch && !launch.notMeasured)
    for (const impl of launch.impls)
      assert.ok(
        rows.some((r) => r.case === `launch-latency (${impl.name})`),
        `launch latency row for ${impl.name}`,
      );
});
