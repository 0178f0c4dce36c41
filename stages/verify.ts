/**
 * Stage 8: prove the copy and the conversion before the output is declared
 * done (`--verify`). Runs after the copy and before output, so `-o libvirt`
 * defines no domain for a guest that failed here; a failure removes the
 * target disks like a failed copy (the copy stage's cleanup), because a
 * guest that does not boot is not a result — the console log is kept.
 *
 * - checksum: `qemu-img compare` of each target with the converted overlay
 *   it was copied from (guest-visible content); a difference is a copy
 *   failure (exit 5).
 * - boot: the targets booted through throwaway overlays, no network device;
 *   a console showing a failure, or a timeout, is exit 7.
 */
import { copiedPath } from '../src/output/reservation.js';
import { join } from 'node:path';
import type { ListrTask } from 'listr2';
import { compareImages } from '../drivers/qemu-img.js';
import { BootVerifyError, CopyError } from '../src/errors.js';
import type { TargetDisk } from '../src/model.js';
import { bootFirmware } from '../src/output/firmware.js';
import { isDirectoryOutput } from '../src/output/options.js';
import { emitEvent } from '../src/progress/reporter.js';
import { corruptTargetForTest } from '../src/verify/test-corrupt.js';
import { bootFailureReason, runBootCheck, saveConsole } from '../src/verify/boot-check.js';
import { BOOT_TIMEOUT_MS } from '../src/verify/boot-timeouts.js';
import { describeVerify } from '../src/verify/choice.js';
import { describeVerifyReport, type BootReport, type ChecksumReport, type VerifyReport } from '../src/verify/report.js';
import { tmpParent } from './source.js';
import { need, type Context } from './context.js';

/** Runs the checks `--verify` asked for. */
export function verifyStage(): ListrTask<Context> {
  return {
    title: 'Verifying the converted guest',
    enabled: (ctx) => ctx.options.verify.checksum || ctx.options.verify.boot,
    // -o null keeps nothing to verify (--verify is refused with it; a batch or script may still get here).
    skip: (ctx) => (ctx.options.output.mode === 'null' ? '-o null discards the disks: nothing to verify' : false),
    task: async (ctx, task) => {
      task.title = `Verifying the converted guest (${describeVerify(ctx.options.verify)})`;
      const report: VerifyReport = {};
      ctx.verification = report;
      try {
        if (ctx.options.verify.checksum) {
          task.output = 'comparing every target disk with the converted image';
          report.checksum = await verifyChecksums(need(ctx, 'targets'));
          if (report.checksum.status === 'failed')
            throw new CopyError(report.checksum.reason ?? 'a target differs from the converted image');
          task.output = `checksum: ${report.checksum.status} (${report.checksum.disks} disk(s) identical to the converted images, ${report.checksum.seconds.toFixed(1)} s)`;
        }
        if (ctx.options.verify.boot) {
          report.boot = await verifyBoot(ctx, (line) => (task.output = line));
        }
      } finally {
        emitEvent({ type: 'info', stage: 'verify', message: describeVerifyReport(report), verify: report });
      }
      task.title = `Verified the converted guest: ${describeVerifyReport(report)}`;
    },
  };
}

/** Compares every target with its overlay, up to the first difference (reported as failed, with the error sentence as reason). */
async function verifyChecksums(targets: TargetDisk[]): Promise<ChecksumReport> {
  const started = Date.now();
  await corruptTargetForTest(targets[0]);
  for (const [index, target] of targets.entries()) {
    const result = await compareImages(target.overlay, 'qcow2', copiedPath(target), target.format);
    if (!result.identical) {
      return {
        status: 'failed',
        seconds: (Date.now() - started) / 1000,
        disks: index + 1,
        reason: `Disk ${index + 1} copied to ${target.path} differs from the converted image (qemu-img compare: ${result.difference}), so the copy is corrupt and was removed: check the target storage (and the network, for a remote source), then run again.`,
      };
    }
  }
  return { status: 'passed', seconds: (Date.now() - started) / 1000, disks: targets.length };
}

/** Boots the targets; a skip (Windows, no serial console) is reported, never counted as a pass. */
async function verifyBoot(ctx: Context, show: (line: string) => void): Promise<BootReport> {
  const inspection = need(ctx, 'inspection');
  const caps = need(ctx, 'caps');
  if (inspection.type !== 'linux') {
    const reason = `boot verification is not available for ${inspection.type} guests yet (no reliable serial-console signal): the guest was NOT boot-tested`;
    ctx.warnings.push(reason);
    return { status: 'skipped', seconds: 0, reason };
  }
  if (!caps.serialConsole) {
    const reason = 'the converted guest has no serial console, so its boot cannot be watched: the guest was NOT boot-tested';
    ctx.warnings.push(reason);
    return { status: 'skipped', seconds: 0, reason };
  }
  const source = need(ctx, 'source');
  const accel = need(ctx, 'accel').tcg ? 'tcg' : 'kvm';
  const timeoutMs = BOOT_TIMEOUT_MS[accel];
  show(`booting the target disks under ${accel} with no network device (timeout ${timeoutMs / 1000} s)`);
  let lastShown = 0;
  const { report, console } = await runBootCheck({
    disks: need(ctx, 'targets').map((t) => ({ path: copiedPath(t), format: t.format, bus: caps.blockBus })),
    firmware: bootFirmware(source, inspection),
    accel,
    machine: caps.machine,
    memoryMiB: source.memoryMiB,
    vcpus: source.vcpus,
    workdir: need(ctx, 'tmpdir'),
    timeoutMs,
    onConsole: () => {
      const now = Date.now();
      if (now - lastShown < 5_000) return;
      lastShown = now;
      show(`booting (${accel}): console active`);
    },
  });
  for (const line of report.consoleLines ?? []) emitEvent({ type: 'info', stage: 'verify', message: `console: ${line}` });
  if (report.status === 'passed') {
    show(`boot: reached userspace in ${report.seconds.toFixed(1)} s ("${report.decidingLine ?? ''}")`);
    return report;
  }
  const name = need(ctx, 'name');
  const path = join(consoleDirectory(ctx), `${name}.verify-console.log`);
  report.consoleLog = await saveConsole(path, console);
  (ctx.verification ??= {}).boot = report;
  throw new BootVerifyError(
    `The converted guest ${name} did not boot: ${bootFailureReason(report, timeoutMs)}; the whole console is in ${path} and the target disks were removed: check the warnings of the conversion, or convert with --verify=checksum to keep the disks and re-check them with "v2v verify".`,
  );
}

/** Where a failed boot's console goes: the output directory, else (libvirt pools, whose directories hold only volumes) $TMPDIR or /var/tmp. */
function consoleDirectory(ctx: Context): string {
  return isDirectoryOutput(ctx.options.output.mode) ? ctx.options.output.storage : tmpParent();
}
