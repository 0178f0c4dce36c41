/**
 * Stage 0 of a warm migration (docs/warm-migration.md): pre-copy passes
 * while the VM runs, until the cut-over is due (or, with --cutover never,
 * one pass or one per interval). Each pass's progress (bytes read of the
 * pass's total, rate) goes to every renderer and, as `progress` events, to
 * --machine-readable; each completed pass to an `info` event with `pass`.
 */
import type { ListrTask } from 'listr2';
import { formatBytes } from '../src/host/disk-space.js';
import { rootSignal } from '../src/host/exec.js';
import type { StageKey } from '../src/progress/events.js';
import { emitEvent, isLiveRenderer, reportPassProgress } from '../src/progress/reporter.js';
import type { WarmStageRun } from '../src/warm/migration.js';
import type { PassProgress } from '../src/warm/pass.js';
import { need, type Context } from './context.js';

/** How often progress is shown when output is not a live terminal (as the copy's). */
const PIPED_PROGRESS_MS = 5_000;
/** How often the countdown to the next pass is shown when output is not a live terminal. */
const PIPED_WAITING_MS = 600_000;

/** "pass 2: disk 1/2: 120.0 MiB of 300.0 MiB read (45.0 MiB/s)": a pass's progress in a line. Pure. */
export function describePassProgress(p: PassProgress, elapsedMs: number): string {
  switch (p.step) {
    case 'snapshot':
      return `pass ${p.pass}: creating the snapshot`;
    case 'query':
      return `pass ${p.pass}: asking what changed`;
    case 'remove':
      return `pass ${p.pass}: removing the snapshot`;
    default: {
      const rate = elapsedMs > 0 ? (p.bytesRead * 1000) / elapsedMs : 0;
      const disk = p.disk !== undefined ? `disk ${p.disk}/${p.disks ?? p.disk}: ` : '';
      const sync = p.step === 'sync' ? ', writing it to storage' : '';
      return `pass ${p.pass}: ${disk}${formatBytes(p.bytesRead)} of ${formatBytes(p.bytesTotal)} read (${formatBytes(rate)}/s), ${formatBytes(p.bytesWritten)} written${sync}`;
    }
  }
}

/** The callbacks a warm stage hands the migration: task output, events, warnings, cleanup. */
export function warmStageRun(ctx: Context, stage: StageKey, output: (line: string) => void): WarmStageRun {
  const live = isLiveRenderer();
  let lastProgress = 0;
  let lastWaiting = 0;
  let passStarted = Date.now();
  let passNumber = 0;
  const signal = rootSignal();
  return {
    cleanup: ctx.cleanup,
    ...(signal ? { signal } : {}),
    warn: (message) => ctx.warnings.push(message),
    show: output,
    waiting: (line) => {
      const now = Date.now();
      if (now - lastWaiting < (live ? 1000 : PIPED_WAITING_MS)) return;
      lastWaiting = now;
      output(line);
    },
    progress: (p) => {
      if (p.pass !== passNumber) {
        passNumber = p.pass;
        passStarted = Date.now();
      }
      const line = describePassProgress(p, Date.now() - passStarted);
      if (p.step === 'copy' || p.step === 'sync') reportPassProgress(stage, p.disk ?? 1, p.bytesRead, p.bytesTotal, line);
      const now = Date.now();
      if (p.step === 'copy' && now - lastProgress < (live ? 200 : PIPED_PROGRESS_MS)) return;
      lastProgress = now;
      output(line);
    },
    passDone: (pass, line) => {
      output(line);
      const { number, bytesChanged, bytesRead, bytesWritten, seconds, full, final } = pass;
      emitEvent({ type: 'info', stage, message: line, pass: { number, bytesChanged, bytesRead, bytesWritten, seconds, full, final } });
    },
    cutoverStep: (step, line) => emitEvent({ type: 'info', stage, message: line, cutover: step }),
  };
}

/** Pre-copies the running VM. */
export function precopyStage(): ListrTask<Context> {
  return {
    title: 'Pre-copying the running VM',
    task: async (ctx, task) => {
      const warm = need(ctx, 'warm');
      task.title = `Pre-copying "${warm.vsphere.vmName}" while it runs (into ${warm.options.precopyDir})`;
      await warm.precopy(warmStageRun(ctx, 'precopy', (line) => (task.output = line)));
      const last = warm.passes.at(-1);
      task.title = `Pre-copied "${warm.vsphere.vmName}": ${warm.passes.length} pass(es)${last ? `, the last read ${formatBytes(last.bytesRead)}` : ''}`;
    },
  };
}
