/**
 * `v2v verify DOMAIN.xml | DISK...`: the boot check of `--verify=boot` run
 * again on an existing conversion. The disks (and the firmware, memory,
 * vCPUs and machine type) come from a libvirt domain XML, e.g. the NAME.xml
 * of `-o local`, or the disks are given directly (BIOS unless --firmware
 * uefi). The disks are only read: the guest writes to throwaway overlays.
 */
import type { Arguments } from 'yargs';
import { reportError } from '../run/report-error.js';
import { dirname, join, resolve } from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import { imageInfo } from '../../drivers/qemu-img.js';
import { probeAccelerator } from '../../drivers/qemu-system.js';
import { makeRunTempDir, tmpParent } from '../host/tmpdir.js';
import { BootVerifyError, CommandError, ExitCode, InterruptedError, SourceError, UsageError } from '../errors.js';
import { parseLibvirtXml } from '../input/libvirtxml/parse.js';
import type { DiskBus } from '../model.js';
import { bootFailureReason, runBootCheck, saveConsole, type BootCheckInput, type CheckedDisk } from '../verify/boot-check.js';
import { BOOT_TIMEOUT_MS } from '../verify/boot-timeouts.js';
import { CONSOLE_LINES } from '../verify/report.js';

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
