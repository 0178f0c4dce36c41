/**
 * `v2v verify DOMAIN.xml | NAME.yaml | DISK...`: the boot check of `--verify=boot` run
 * again on an existing conversion. The disks (and the firmware, memory,
 * vCPUs and machine type) come from a libvirt domain XML, e.g. the NAME.xml
 * of `-o local`, or the disks are given directly (BIOS unless --firmware
 * uefi). The disks are only read: the guest writes to throwaway overlays.
 */
import type { Arguments } from 'yargs';
import { reportError } from '../run/report-error.js';
import { join, resolve } from 'node:path';
import { rm } from 'node:fs/promises';
import { probeAccelerator } from '../../drivers/qemu-system.js';
import { makeRunTempDir } from '../host/tmpdir.js';
import { BootVerifyError, ExitCode, InterruptedError, UsageError } from '../errors.js';
import { bootFailureReason, runBootCheck, saveConsole, type BootCheckInput } from '../verify/boot-check.js';
import { BOOT_TIMEOUT_MS } from '../verify/boot-timeouts.js';
import { CONSOLE_LINES } from '../verify/report.js';
import { describeTarget } from '../verify/target.js';
import { printErr, printOut, safeText } from '../text/safe-text.js';

/** Runs `v2v verify` with its parsed command line (VERIFY_COMMAND in verify-spec.ts); resolves to the exit code. */
export async function verifyCli(parsed: Arguments): Promise<number> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => abort.abort(new InterruptedError(`Interrupted by ${signal}.`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const paths = (parsed['paths'] as string[]).map((p) => resolve(p));
    const timeout = parsed['timeout'] as number | undefined;
    if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout ${String(timeout)} is not a positive number of seconds.`);
    const target = await describeTarget(paths, parsed['firmware'] as 'bios' | 'uefi' | undefined);
    const kvm = await probeAccelerator('kvm');
    const accel = kvm.usable ? 'kvm' : 'tcg';
    const timeoutMs = timeout !== undefined ? timeout * 1000 : BOOT_TIMEOUT_MS[accel];
    printOut(
      safeText(
        `Booting ${target.name} (${target.disks.length} disk(s), ${target.firmware}) under ${accel}${kvm.usable ? '' : ` (KVM not usable: ${kvm.reason})`} with no network device, timeout ${Math.round(timeoutMs / 1000)} s`,
      ),
    );
    const workdir = await makeRunTempDir('v2v-verify-');
    let result;
    try {
      const input: BootCheckInput = { ...target, accel, workdir, timeoutMs, signal: abort.signal };
      result = await runBootCheck(input);
    } finally {
      await rm(workdir, { recursive: true, force: true });
    }
    const { report } = result;
    if (report.status === 'passed') {
      printOut(bootedLine(target.name, report.seconds, report.decidingLine));
      return ExitCode.ok;
    }
    const logPath = resolve((parsed['console-log'] as string | undefined) ?? join(target.logDir, `${target.name}.verify-console.log`));
    await saveConsole(logPath, result.console);
    printErr(consoleTail(report.consoleLines ?? []));
    throw new BootVerifyError(
      `The guest ${target.name} did not boot: ${bootFailureReason(report, timeoutMs)}; the whole console is in ${logPath}: fix the guest's boot (root device, initramfs drivers) and run "v2v verify" again.`,
    );
  } catch (error) {
    const failure = abort.signal.aborted ? new InterruptedError('interrupted; the guest was stopped and its overlays removed.') : error;
    return reportError(failure);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The line of a guest that booted: its name and the console line that decided, escaped (src/text/safe-text.ts). */
export function bootedLine(name: string, seconds: number, decidingLine: string | undefined): string {
  return safeText(`Booted: ${name} reached userspace in ${seconds.toFixed(1)} s ("${decidingLine ?? ''}")`);
}

/** The last console lines of a failed boot, each escaped: a guest cannot drive the terminal either. */
export function consoleTail(lines: readonly string[]): string {
  return `Last ${CONSOLE_LINES} console lines:\n${lines.map((l) => `  | ${safeText(l)}`).join('\n')}`;
}
