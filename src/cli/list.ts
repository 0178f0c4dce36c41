/**
 * `v2v list -ic URI -ip FILE [--ca-file FILE] [--json]`: the VMs of a vCenter
 * datacenter or an ESXi host (name, power state, guest OS, disks and sizes),
 * so a migration script can pick VMs and write a batch manifest. One API
 * session, logged out before returning, on failure and on Ctrl-C alike.
 */
import type { Arguments } from 'yargs';
import { reportError } from '../run/report-error.js';
import { ExitCode } from '../errors.js';
import { listVms, loginWithOptions } from '../input/vsphere/inventory.js';
import { normalizeVsphereOptions } from '../input/vsphere/options.js';
import type { VsphereVmSummary } from '../../drivers/vsphere-vm.js';
import { jsonText, printErr, printOut, safeText } from '../text/safe-text.js';

/** Runs `v2v list` with its parsed command line (LIST_COMMAND in list-spec.ts); resolves to the exit code. */
export async function listCli(parsed: Arguments): Promise<number> {
  let logout: (() => Promise<void>) | undefined;
  const onSignal = (): void => {
    void (logout?.() ?? Promise.resolve()).finally(() => process.exit(ExitCode.interrupted));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const options = normalizeVsphereOptions(
      parsed['ic'] as string | undefined,
      {
        ip: parsed['ip'] as string | undefined,
        caFile: parsed['ca-file'] as string | undefined,
      },
      parsed._.map(String),
      true,
    );
    if (parsed._.length > 0) printErr(`v2v: warning: v2v list takes no VM name; ignored: ${safeText(parsed._.join(' '))}`);
    const session = await loginWithOptions(options);
    logout = () => session.logout().catch(() => undefined);
    try {
      const vms = await listVms(session, options.uri);
      printOut(parsed['json'] ? jsonText(vms, undefined, 2) : formatVmTable(vms));
    } finally {
      await logout();
    }
    return ExitCode.ok;
  } catch (error) {
    return reportError(error);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** Bytes as GiB with one decimal ("16.0 GiB"), or MiB below 1 GiB. */
function size(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The VMs as an aligned text table, one VM per line; what the inventory says is escaped (src/text/safe-text.ts) before the columns are aligned. */
export function formatVmTable(vms: VsphereVmSummary[]): string {
  const rows = [
    ['NAME', 'POWER', 'GUEST OS', 'DISKS'],
    ...vms.map((vm) =>
      [
        vm.name,
        vm.powerState,
        vm.guestFullName ?? vm.guestId ?? '-',
        vm.disks.length === 0 ? '-' : vm.disks.map((d) => size(d.capacityBytes)).join(', '),
      ].map((cell) => safeText(cell)),
    ),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')).join('\n') + '\n';
}
