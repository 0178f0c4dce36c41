/**
 * Stage 7: `qemu-img convert` overlay → target, always the last heavy step.
 * Disks are copied in parallel, each into the name the output reserved for
 * the copy (`NAME-sdX.v2v-partial` for the directory outputs): a disk gets
 * its final name only in the output stage, so a copy that did not finish
 * never passes for a finished disk. On failure the output's discard (set up
 * in preflight) removes what this run created.
 */
import { statSync } from 'node:fs';
import { copiedPath } from '../src/output/reservation.js';
import type { ListrTask } from 'listr2';
import { commit, convert, rebaseUnsafe } from '../drivers/qemu-img.js';
import { formatBytes } from '../src/host/disk-space.js';
import { CommandError, CopyError } from '../src/errors.js';
import { flushToStorage } from '../src/output/flush.js';
import type { TargetDisk } from '../src/model.js';
import { isLiveRenderer, reportCopyProgress } from '../src/progress/reporter.js';
import { need, type Context } from './context.js';

/** How often progress is reported when output is not a live terminal. */
const PIPED_PROGRESS_MS = 5_000;

/**
 * Formats a progress line: percent, the bytes really written so far (the
 * target's allocation, when it can be read) or else the share of the virtual
 * size, the write rate and the ETA from the percentage.
 */
export function formatProgress(percent: number, totalBytes: number, elapsedMs: number, writtenBytes?: number): string {
  const seconds = elapsedMs / 1000;
  const eta = percent > 0 && percent < 100 ? Math.round((seconds * (100 - percent)) / percent) : undefined;
  if (writtenBytes !== undefined) {
    const rate = seconds > 0 ? writtenBytes / seconds : 0;
    return `${percent.toFixed(1)}% (${formatBytes(writtenBytes)} written of ${formatBytes(totalBytes)} virtual, ${formatBytes(rate)}/s${eta !== undefined ? `, ETA ${eta} s` : ''})`;
  }
  const done = (percent / 100) * totalBytes;
  const rate = seconds > 0 ? done / seconds : 0;
  return `${percent.toFixed(1)}% (${formatBytes(done)} of ${formatBytes(totalBytes)}, ${formatBytes(rate)}/s${eta !== undefined ? `, ETA ${eta} s` : ''})`;
}

/** Bytes allocated by a target file so far (what the copy really wrote), or undefined (a device, the null sink). */
export function allocatedBytes(path: string): number | undefined {
  try {
    const info = statSync(path);
    return info.isFile() ? info.blocks * 512 : undefined;
  } catch {
    return undefined;
  }
}

/** Copies every overlay to its target. */
export function copyStage(): ListrTask<Context> {
  return {
    title: 'Copying disks',
    task: (ctx, task) => {
      const targets = need(ctx, 'targets');
      task.title = `Copying ${targets.length} disk(s) to ${ctx.output.describe}`;
      return task.newListr(
        targets.map((target, index) => copyDiskTask(ctx, target, index, targets.length)),
        { concurrent: true, exitOnError: true },
      );
    },
  };
}

function copyDiskTask(ctx: Context, target: TargetDisk, index: number, count: number): ListrTask<Context> {
  const commitPlan = ctx.commits?.get(target);
  if (commitPlan !== undefined) return commitDiskTask(ctx, target, commitPlan.precopy, index, count);
  return {
    title: `Copying disk ${index + 1}/${count} to ${target.path}`,
    task: async (_ctx, task) => {
      const started = Date.now();
      const live = isLiveRenderer(); // -v/-x use the line renderer even on a terminal
      let lastReport = 0;
      let finished = false; // qemu-img prints 100% more than once: one 100 % line
      try {
        await convert(
          {
            source: target.overlay,
            sourceFormat: 'qcow2',
            target: copiedPath(target),
            targetFormat: target.format,
            existing: target.existing ?? false,
            ...(ctx.options.output.compressed && target.format === 'qcow2' ? { compressed: true } : {}),
            preallocation: ctx.options.output.allocation === 'preallocated' ? (target.format === 'raw' ? 'falloc' : 'metadata') : 'off',
          },
          (percent) => {
            reportCopyProgress(index + 1, percent, target.virtualSize);
            const now = Date.now();
            if (!live && now - lastReport < PIPED_PROGRESS_MS && percent < 100) return;
            if (percent >= 100 && finished) return;
            finished ||= percent >= 100;
            lastReport = now;
            task.output = formatProgress(percent, target.virtualSize, now - started, allocatedBytes(copiedPath(target)));
          },
        );
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        // A remote source that still fails after nbdkit's retries: say so, not qemu's NBD jargon.
        const remote = ctx.overlays?.find((o) => o.path === target.overlay)?.disk.backing;
        if (remote) {
          throw new CopyError(
            `Reading the remote source ${remote.display} failed after retries (${error.stderr || error.message}): check the server and the network, then run again.`,
            { cause: error },
          );
        }
        throw new CopyError(error.message, { cause: error });
      }
      // Durable before it is called copied: qemu-img left part of it in the page cache.
      task.output = 'writing the cached data to storage';
      try {
        await flushToStorage(copiedPath(target));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        throw new CopyError(
          `Disk ${index + 1} could not be written to storage (${code} on ${copiedPath(target)}): check the target storage, then run again.`,
          { cause: error },
        );
      }
      task.title = `Copied disk ${index + 1}/${count} to ${target.path} in ${((Date.now() - started) / 1000).toFixed(1)} s`;
    },
  };
}

/**
 * A warm migration's disk written without a second copy
 * (docs/warm-migration.md): the converted overlay is committed into the
 * pre-copy under it (only what the conversion changed is written), the
 * pre-copy takes the place of the copy the output reserved, and the overlay
 * is pointed at it there, so it stays the converted image over the disk that
 * --verify compares with. The state says the pre-copy is consumed first: a
 * run killed from then on copies the disks in full the next time.
 */
function commitDiskTask(ctx: Context, target: TargetDisk, precopy: string, index: number, count: number): ListrTask<Context> {
  return {
    title: `Committing disk ${index + 1}/${count} into its pre-copy, then ${target.path}`,
    task: async (_ctx, task) => {
      const started = Date.now();
      const live = isLiveRenderer();
      let lastReport = 0;
      try {
        await need(ctx, 'warm').beforeCommit();
        await commit(target.overlay, (percent) => {
          reportCopyProgress(index + 1, percent, target.virtualSize);
          const now = Date.now();
          if (!live && now - lastReport < PIPED_PROGRESS_MS) return;
          lastReport = now;
          task.output = `${percent.toFixed(1)}% committed`;
        });
        const output = ctx.output;
        if (output.adoptDisk === undefined) throw new Error(`internal: ${output.describe} cannot take a committed disk`);
        await output.adoptDisk(target, precopy);
        await rebaseUnsafe(target.overlay, copiedPath(target), 'raw');
        task.output = 'writing the cached data to storage';
        await flushToStorage(copiedPath(target));
      } catch (error) {
        const reason =
          error instanceof CommandError ? error.stderr || error.message : ((error as NodeJS.ErrnoException).code ?? String(error));
        throw new CopyError(
          `Committing the converted disk ${index + 1} into its pre-copy ${precopy} and moving it to ${copiedPath(target)} failed (${reason}): check the storage there, then run again (the pre-copy is no longer a copy of the VM: the disks are copied in full).`,
          { cause: error },
        );
      }
      task.title = `Committed disk ${index + 1}/${count} into its pre-copy, now ${target.path}, in ${((Date.now() - started) / 1000).toFixed(1)} s (no second copy)`;
    },
  };
}
