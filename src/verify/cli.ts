/**
 * `v2v verify DOMAIN.xml | DISK...`: the boot check of `--verify=boot` run
 * again on an existing conversion. The disks (and the firmware, memory,
 * vCPUs and machine type) come from a libvirt domain XML, e.g. the NAME.xml
 * of `-o local`, or the disks are given directly (BIOS unless --firmware
 * uefi). The disks are only read: the guest writes to throwaway overlays.
 */
import { reportError } from '../main.js';
import { subcommandArgs, type SubcommandSpec } from '../subcommand.js';
import { dirname, join, resolve } from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import { imageInfo } from '../../drivers/qemu-img.js';
import { probeAccelerator } from '../../drivers/qemu-system.js';
import { makeRunTempDir, tmpParent } from '../run-tmpdir.js';
import { BootVerifyError, CommandError, ExitCode, InterruptedError, SourceError, UsageError } from '../errors.js';
import { parseLibvirtXml } from '../input/libvirtxml-parse.js';
import type { DiskBus } from '../model.js';
import { BOOT_TIMEOUT_MS, bootFailureReason, runBootCheck, saveConsole, type BootCheckInput, type CheckedDisk } from './boot-check.js';
import { CONSOLE_LINES } from './report.js';

const EPILOG = `The guest is booted under qemu (KVM when usable, else TCG) with no network
device, its disks behind throwaway overlays (never written), and passes when
its serial console shows a login prompt or systemd's multi-user target. It
fails on "Gave up waiting for root", an initramfs or dracut shell, emergency
mode or a kernel panic, or when nothing decides within the timeout (${BOOT_TIMEOUT_MS.tcg / 1000} s under
TCG, ${BOOT_TIMEOUT_MS.kvm / 1000} s under KVM). Linux guests only: the guest must use a serial
console (v2v adds console=ttyS0 when it converts).

Exit codes: 0 booted; 2 usage error; 4 unreadable XML or disk; 7 did not boot
(the console is saved, see --console-log); 130 interrupted.`;

/** What the check is run on. */
export interface Target {
  name: string;
  disks: CheckedDisk[];
  firmware: 'bios' | 'uefi';
  machine: 'q35' | 'pc';
  memoryMiB: number;
  vcpus: number;
  /** Default directory of the console log. */
  logDir: string;
}

/** The command line of `v2v verify`. */
export const VERIFY_COMMAND: SubcommandSpec = {
  name: 'verify',
  usage: 'Usage: v2v verify DOMAIN.xml | DISK... [--firmware bios|uefi] [--timeout SECONDS] [--console-log FILE]\n\nBoot a converted guest read-only and check it reaches userspace.',
  positional: {
    command: '$0 <paths..>',
    describe: 'Boot-check the guest of DOMAIN.xml, or these disks (first one boots)',
    name: 'paths',
    options: { type: 'string', array: true, describe: 'A libvirt domain XML, or disk images' },
    missing: 'No guest given: pass a domain XML or the disk images, e.g. "v2v verify /var/tmp/out/guest.xml".',
  },
  options: {
    firmware: { type: 'string', choices: ['bios', 'uefi'], describe: 'Firmware for disks given directly (default bios; an XML says its own)' },
    timeout: { type: 'number', describe: 'Seconds to wait for the guest to reach userspace (default by accelerator)' },
    'console-log': { type: 'string', describe: 'Where a failed boot\'s console is saved (default: NAME.verify-console.log next to the XML, else in $TMPDIR or /var/tmp)' },
  },
  epilog: EPILOG,
  shortOptionGroups: true,
};

/** Parses `v2v verify` arguments (after the word "verify") and runs; resolves to the exit code. */
export async function verifyCli(argv: string[]): Promise<number> {
  const parsed = await subcommandArgs(VERIFY_COMMAND, argv);
  if (typeof parsed === 'number') return parsed;
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
    process.stdout.write(`Booting ${target.name} (${target.disks.length} disk(s), ${target.firmware}) under ${accel}${kvm.usable ? '' : ` (KVM not usable: ${kvm.reason})`} with no network device, timeout ${Math.round(timeoutMs / 1000)} s\n`);
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
      process.stdout.write(`Booted: ${target.name} reached userspace in ${report.seconds.toFixed(1)} s ("${report.decidingLine ?? ''}")\n`);
      return ExitCode.ok;
    }
    const logPath = resolve((parsed['console-log'] as string | undefined) ?? join(target.logDir, `${target.name}.verify-console.log`));
    await saveConsole(logPath, result.console);
    process.stderr.write(`Last ${CONSOLE_LINES} console lines:\n${(report.consoleLines ?? []).map((l) => `  | ${l}`).join('\n')}\n`);
    throw new BootVerifyError(`The guest ${target.name} did not boot: ${bootFailureReason(report, timeoutMs)}; the whole console is in ${logPath}: fix the guest's boot (root device, initramfs drivers) and run "v2v verify" again.`);
  } catch (error) {
    const failure = abort.signal.aborted ? new InterruptedError('interrupted; the guest was stopped and its overlays removed.') : error;
    return reportError(failure);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The guest to boot: from a domain XML (disks, firmware, machine, memory, vCPUs), or from disk images (probed). */
export async function describeTarget(paths: string[], firmware: 'bios' | 'uefi' | undefined): Promise<Target> {
  const first = paths[0];
  if (first === undefined) throw new UsageError('No guest given: pass a domain XML or the disk images.');
  if (first.endsWith('.xml')) {
    if (paths.length > 1) throw new UsageError(`Pass one domain XML, or disk images, not both: ${paths.join(' ')}.`);
    if (firmware !== undefined) throw new UsageError(`--firmware only applies to disks given directly: the XML ${first} says its own firmware.`);
    const text = await readFile(first, 'utf8').catch((error: unknown) => {
      throw new UsageError(`Cannot read ${first} (${error instanceof Error ? error.message : String(error)}): pass the domain XML of a conversion.`);
    });
    const source = parseLibvirtXml(text, first);
    const disks: CheckedDisk[] = [];
    for (const disk of source.disks) disks.push({ path: disk.path, format: disk.format ?? (await probeFormat(disk.path)), bus: bootBus(disk.bus) });
    return {
      name: source.name,
      disks,
      firmware: source.firmware,
      machine: /<type\b[^>]*\bmachine=['"]pc(-i440fx[^'"]*)?['"]/.test(text) ? 'pc' : 'q35',
      memoryMiB: source.memoryMiB,
      vcpus: source.vcpus,
      logDir: dirname(first),
    };
  }
  const disks: CheckedDisk[] = [];
  for (const path of paths) disks.push({ path, format: await probeFormat(path), bus: 'virtio' });
  return { name: (first.split('/').at(-1) ?? 'guest').replace(/\.[^.]*$/, ''), disks, firmware: firmware ?? 'bios', machine: 'q35', memoryMiB: 1024, vcpus: 2, logDir: tmpParent() };
}

/** Probes a disk's format (it is the user's own image, read only). */
async function probeFormat(path: string): Promise<string> {
  try {
    return (await imageInfo(path)).format;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new SourceError(`Cannot open the disk ${path} (${error.stderr || error.message}): pass an existing disk image.`);
  }
}

/** The bus a boot check uses for a disk the XML put on `bus`: SATA and IDE stay emulated, the rest is virtio. */
function bootBus(bus: DiskBus): CheckedDisk['bus'] {
  return bus === 'sata' || bus === 'ide' ? bus : 'virtio';
}
