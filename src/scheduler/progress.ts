/**
 * Console progress bar, like Spark's: `[Stage 3:=====>      (12 + 2) / 40]`, redrawn in place on a
 * TTY at most every 200 ms, and nothing at all when stderr is not a TTY.
 */
import type { EventEmitter } from 'node:events';

interface StageProgress {
  stageId: number;
  total: number;
  done: number;
  running: number;
}

export function renderBar(s: StageProgress, width: number): string {
  const label = `[Stage ${s.stageId}:`;
  const counts = `(${s.done} + ${s.running}) / ${s.total}]`;
  const barWidth = Math.max(10, width - label.length - counts.length);
  const filled = s.total === 0 ? barWidth : Math.floor((barWidth * s.done) / s.total);
  const bar = filled >= barWidth ? '='.repeat(barWidth) : `${'='.repeat(filled)}>${' '.repeat(barWidth - filled - 1)}`;
  return `${label}${bar}${counts}`;
}

export function attachProgressBar(events: EventEmitter, out: NodeJS.WriteStream): void {
  if (!out.isTTY) return;
  const stages = new Map<number, StageProgress>();
  let timer: NodeJS.Timeout | undefined;
  let shown = false;
  const draw = () => {
    timer = undefined;
    const active = [...stages.values()].slice(0, 3);
    if (active.length === 0) return;
    const width = Math.min((out.columns || 80) - 1, 120);
    const per = Math.floor(width / active.length);
    out.write(`\r${active.map((s) => renderBar(s, per)).join('')}`);
    shown = true;
  };
  const schedule = () => {
    if (!timer) timer = setTimeout(draw, 200).unref();
  };
  events.on('stageSubmitted', (e: { stageId: number; numTasks: number }) => {
    stages.set(e.stageId, { stageId: e.stageId, total: e.numTasks, done: 0, running: 0 });
    schedule();
  });
  events.on('taskStart', (e: { stageId: number }) => {
    const s = stages.get(e.stageId);
    if (s) s.running++;
    schedule();
  });
  events.on('taskEnd', (e: { stageId: number }) => {
    const s = stages.get(e.stageId);
    if (s) {
      s.done++;
      s.running = Math.max(0, s.running - 1);
    }
    schedule();
  });
  events.on('stageCompleted', (e: { stageId: number }) => {
    stages.delete(e.stageId);
    if (stages.size === 0 && shown) {
      out.write(`\r${' '.repeat(Math.min(out.columns || 80, 120))}\r`);
      shown = false;
    }
  });
}
