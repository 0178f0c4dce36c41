/**
 * The boot check behind `--verify=boot` and `v2v verify`: the target disks
 * are booted through throwaway qcow2 overlays (the targets are only ever
 * read), with no network device, and the serial console decides, within
 * the timeouts of boot-timeouts.ts.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createOverlay } from '../../drivers/qemu-img.js';
import { bootCheckCommand, lastConsoleLines, watchBoot, type BootDisk, type BootWatch } from '../../drivers/qemu-system.js';
import { OVMF } from '../output/qemu.js';
import { BOOT_TIMEOUT_MS, SILENCE_TIMEOUT_MS } from './boot-timeouts.js';
import { CONSOLE_LINES, type BootReport } from './report.js';

/** Most RAM and vCPUs a boot check gives the guest, whatever the source had: it only has to reach userspace. */
const MAX_MEMORY_MIB = 2048;
const MAX_VCPUS = 2;

/** A disk to boot: the real target, opened only as the backing file of an overlay. */
export type CheckedDisk = BootDisk;

/** What a boot check needs. */
export interface BootCheckInput {
  disks: CheckedDisk[];
  firmware: 'bios' | 'uefi';
  accel: 'kvm' | 'tcg';
  machine: 'q35' | 'pc';
  memoryMiB: number;
  vcpus: number;
  /** A directory for the overlays and the UEFI variable store (a subdirectory is made and removed). */
  workdir: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Each console chunk as it arrives. */
  onConsole?: (text: string) => void;
}

/** A finished boot check: the report and the whole console. */
export interface BootCheckResult {
  report: BootReport;
  console: string;
}

/** Boots the disks through overlays in a fresh subdirectory of `workdir`, removed afterwards. */
export async function runBootCheck(input: BootCheckInput): Promise<BootCheckResult> {
  const dir = await mkdtemp(join(input.workdir, 'verify-'));
  try {
    const overlays: CheckedDisk[] = [];
    for (const [index, disk] of input.disks.entries()) {
      const overlay = join(dir, `disk${index}.qcow2`);
      await createOverlay(overlay, disk.path, disk.format);
      overlays.push({ path: overlay, format: 'qcow2', ...(disk.bus ? { bus: disk.bus } : {}) });
    }
    let uefi: { code: string; vars: string } | undefined;
    if (input.firmware === 'uefi') {
      // A fresh copy of the empty variable store: the check leaves no boot entry anywhere.
      uefi = { code: OVMF.code, vars: join(dir, 'VARS.fd') };
      await copyFile(OVMF.vars, uefi.vars);
    }
    const command = bootCheckCommand({
      disks: overlays,
      accel: input.accel,
      machine: input.machine,
      memoryMiB: Math.min(input.memoryMiB, MAX_MEMORY_MIB),
      vcpus: Math.max(1, Math.min(input.vcpus, MAX_VCPUS)),
      ...(uefi ? { uefi } : {}),
    });
    const watch = await watchBoot(command, {
      timeoutMs: input.timeoutMs ?? BOOT_TIMEOUT_MS[input.accel],
      silenceTimeoutMs: Math.min(SILENCE_TIMEOUT_MS[input.accel], input.timeoutMs ?? Infinity),
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.onConsole ? { onConsole: input.onConsole } : {}),
    });
    return { report: bootReport(watch, input), console: watch.console };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Turns a watched boot into a report. Pure. */
export function bootReport(watch: BootWatch, input: Pick<BootCheckInput, 'accel' | 'firmware'>): BootReport {
  return {
    status: watch.outcome === 'booted' ? 'passed' : watch.outcome === 'failed' ? 'failed' : 'timeout',
    seconds: watch.seconds,
    accel: input.accel,
    firmware: input.firmware,
    ...(watch.decidingLine !== undefined ? { decidingLine: watch.decidingLine } : {}),
    consoleLines: lastConsoleLines(watch.console, CONSOLE_LINES),
  };
}

/** Saves a failed check's whole console to `path`; returns the path. */
export async function saveConsole(path: string, consoleText: string): Promise<string> {
  await writeFile(path, consoleText);
  return path;
}

/** The one-sentence reason a boot check did not pass, for errors. */
export function bootFailureReason(report: BootReport, timeoutMs: number): string {
  if (report.status === 'timeout' && report.decidingLine !== undefined)
    return `${report.decidingLine} (the bootloader did not start a kernel using the serial console)`;
  if (report.status === 'timeout') {
    return `it did not reach a login prompt or the multi-user target within ${Math.round(timeoutMs / 1000)} s (last console line: "${report.consoleLines?.at(-1) ?? 'none'}")`;
  }
  return `its console showed "${report.decidingLine ?? report.consoleLines?.at(-1) ?? 'nothing'}" after ${report.seconds.toFixed(0)} s`;
}
