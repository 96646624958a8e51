/**
 * The shell around the AM lifecycle table (am-lifecycle.ts): steps the table for each event at once
 * (so that the next event sees the new status) and carries out the effects one after another, in order;
 * the unregister's outcome comes back as an event. All I/O is behind AmIo, so a test can drive it.
 */
import { InvalidTransition } from '../../common/machine.js';
import { type AmEffect, type AmEvent, type AmState, amLifecycle } from './am-lifecycle.js';

export interface AmIo {
  log(line: string): void;
  tellDriverFailing(exitCode: number, diagnostics: string): void;
  stopExecutors(): Promise<void>;
  /** resolves when the RM recorded the end; rejects when it definitively did not */
  unregister(finalStatus: 'SUCCEEDED' | 'FAILED', diagnostics: string): Promise<void>;
  answerDriver(unregistered: boolean, diagnostics: string): void;
  closeDriver(): void;
  exit(code: number): void;
  /** an event the table does not take in the current status (left unchanged) */
  illegal(e: InvalidTransition): void;
}

export interface AmShell {
  dispatch(e: AmEvent): void;
  readonly state: AmState;
  /** resolves when every effect asked for so far was carried out */
  idle(): Promise<void>;
}

export function amShell(initial: AmState, io: AmIo): AmShell {
  let state = initial;
  let queue: Promise<void> = Promise.resolve();

  const perform = async (f: AmEffect): Promise<void> => {
    switch (f.type) {
      case 'log':
        return io.log(f.line);
      case 'tellDriverFailing':
        return io.tellDriverFailing(f.exitCode, f.diagnostics);
      case 'stopExecutors':
        return io.stopExecutors().catch((e: Error) => io.log(`stopping the executors failed: ${e.message}`));
      case 'unregister':
        return io.unregister(f.finalStatus, f.diagnostics).then(
          () => dispatch({ type: 'UNREGISTERED' }),
          (e: Error) => dispatch({ type: 'UNREGISTER_FAILED', why: e.message.split('\n')[0] ?? '' }),
        );
      case 'answerDriver':
        return io.answerDriver(f.unregistered, f.diagnostics);
      case 'closeDriver':
        return io.closeDriver();
      case 'exit':
        return io.exit(f.code);
    }
  };

  function dispatch(e: AmEvent): void {
    let effects: AmEffect[];
    try {
      const t = amLifecycle.step(state, e);
      state = t.state;
      effects = t.effects;
    } catch (err) {
      if (!(err instanceof InvalidTransition)) throw err;
      io.illegal(err);
      return;
    }
    if (effects.length === 0) return;
    queue = queue.then(async () => {
      for (const f of effects) await perform(f);
    });
  }

  return {
    dispatch,
    get state() {
      return state;
    },
    async idle() {
      // effects may dispatch events whose effects queue behind them
      let seen: Promise<void> | undefined;
      while (seen !== queue) {
        seen = queue;
        await queue;
      }
    },
  };
}
