/**
 * The end of a client-mode application, where the driver's result, the RM's record and the exit code
 * used to disagree: the AM dies after the output is committed but before the driver's Shutdown reaches
 * it. With an attempt left, the driver hands its result to the next AM attempt (SUCCEEDED, exit 0);
 * with none, the RM's record is FAILED and the client must not exit 0.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FAST, readWhenWritten, record, SLOW_SAVE, SLOW_SAVE_LINES } from './outcome-harness.js';
import { AM_PROCESS, appProcesses, deployCluster, outputLines, submit } from './submit-harness.js';

describe('client mode: the AM lost near the end', { timeout: 120_000 }, () => {
  const fx = deployCluster('client-end');

  /** Runs slow-save in client mode, SIGKILLs the AM once the output is committed, then lets main stop. */
  async function killAmAtTheEnd(name: string, attempts: number) {
    const marker = path.join(fx.tmp, `${name}-marker`);
    const out = path.join(fx.tmp, `${name}-out`);
    const hold = path.join(fx.tmp, `${name}-hold`);
    const run = submit(
      [
        '--master',
        fx.mc.master,
        ...FAST,
        '--conf',
        `cinder.yarn.maxAppAttempts=${attempts}`,
        SLOW_SAVE,
        marker,
        out,
        '1',
        hold,
      ],
      fx.env,
    );
    const appId = await readWhenWritten(fx.mc, marker, 40_000);
    await fx.mc.waitFor(() => fs.existsSync(`${hold}.ready`), 30_000, 'the output to be committed');
    const am = appProcesses(appId, AM_PROCESS);
    assert.equal(am.length, 1);
    process.kill(am[0]!, 'SIGKILL');
    fs.writeFileSync(hold, '');
    const r = await run.done;
    return { appId, out, r, rec: await record(fx.mc, appId) };
  }

  test('an attempt left: the next AM attempt carries the driver result -> SUCCEEDED, exit 0', async () => {
    const { appId, out, r, rec } = await killAmAtTheEnd('retry', 2);
    assert.deepEqual(outputLines(out), SLOW_SAVE_LINES);
    // client mode says what cluster mode says: the app id, its tracking address (the RM's proxy), its states
    assert.match(r.stderr, new RegExp(`submitted application ${appId} \\(client mode, queue default\\)`));
    assert.match(r.stderr, new RegExp(`${appId} RUNNING tracking=https?://[^/]+/proxy/${appId}/`));
    assert.match(r.stderr, new RegExp(`final: ${appId} name="slow-save" state=FINISHED finalStatus=SUCCEEDED`));
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'FINISHED/SUCCEEDED', `${rec.diagnostics}\n${r.stderr}`);
    assert.equal(rec.attempts, 2);
    assert.equal(r.code, 0, r.stderr);
  });

  test('no attempt left: the RM records FAILED with why, and the client exits non-zero saying so', async () => {
    const { out, r, rec } = await killAmAtTheEnd('last', 1);
    assert.deepEqual(outputLines(out), SLOW_SAVE_LINES, 'the output was committed before the AM died');
    assert.equal(`${rec.state}/${rec.finalStatus}`, 'FAILED/FAILED');
    assert.match(rec.diagnostics, /AM container \S+ on \S+ exited with status/);
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /the ResourceManager recorded FAILED/);
    await fx.mc.waitFor(() => fx.mc.liveContainerGroups().length === 0, 10_000, 'no container left');
  });
});
