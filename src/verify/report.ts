/**
 * What verification found: written by the verify stage (ctx.verification),
 * shown in the summary, in `--machine-readable` events, in `-o json` and in
 * the batch report. Absent checks were not asked for.
 */

/** Result of `--verify=checksum`. */
export interface ChecksumReport {
  status: 'passed' | 'failed' | 'skipped';
  /** Wall seconds of all comparisons. */
  seconds: number;
  /** Disks compared. */
  disks: number;
  /** Why it was skipped, or the first difference found. */
  reason?: string;
}

/** Result of `--verify=boot` or `v2v verify`. */
export interface BootReport {
  status: 'passed' | 'failed' | 'timeout' | 'skipped';
  /** Wall seconds from qemu's start to the decision (0 when skipped). */
  seconds: number;
  /** Accelerator the guest ran under. */
  accel?: 'kvm' | 'tcg';
  firmware?: 'bios' | 'uefi';
  /** The console line that decided (a login prompt, "Gave up waiting for root ..."). */
  decidingLine?: string;
  /** The last serial-console lines (at most {@link CONSOLE_LINES}). */
  consoleLines?: string[];
  /** Where the whole console was saved (failures only). */
  consoleLog?: string;
  /** Why it was skipped. */
  reason?: string;
}

/** What `--verify` found. */
export interface VerifyReport {
  checksum?: ChecksumReport;
  boot?: BootReport;
}

/** How many console lines reports and errors carry. */
export const CONSOLE_LINES = 15;

/** One phrase for the summary line, e.g. "verified: checksum passed (2.1 s), boot passed (login in 31.0 s, tcg)". */
export function describeVerifyReport(report: VerifyReport): string {
  const parts: string[] = [];
  if (report.checksum) {
    const c = report.checksum;
    parts.push(
      c.status === 'skipped'
        ? `checksum skipped (${c.reason ?? ''})`
        : `checksum ${c.status} (${c.disks} disk(s), ${c.seconds.toFixed(1)} s)`,
    );
  }
  if (report.boot) {
    const b = report.boot;
    parts.push(
      b.status === 'skipped'
        ? `boot skipped (${b.reason ?? ''})`
        : `boot ${b.status} (${b.status === 'passed' ? `userspace reached in ${b.seconds.toFixed(1)} s` : `after ${b.seconds.toFixed(1)} s`}${b.accel ? `, ${b.accel}` : ''})`,
    );
  }
  return parts.join(', ');
}
