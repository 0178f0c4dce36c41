/**
 * Boot a disk image under qemu (TCG, -snapshot; no network, or one virtio-net
 * NIC on an isolated hub that reaches nothing) and classify the outcome from
 * the serial console. Used by end-to-end tests to prove a converted guest
 * really boots.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchBoot } from '../../drivers/qemu-system.js';
import { OVMF } from '../../src/output/qemu.js';

/** Disk bus the boot disk is attached to. */
export type BootBus = 'virtio' | 'ide' | 'sata' | 'scsi';

/** Options for {@link bootDisk}. */
export interface BootOptions {
  disk: string;
  format: 'raw' | 'qcow2' | 'vmdk';
  bus: BootBus;
  /** Give up after this long (default 300000 ms). */
  timeoutMs?: number;
  /** Also write the serial console (and qemu's stderr) to this file. */
  logFile?: string;
  /** Guest RAM (default 1024 MiB). */
  memoryMiB?: number;
  /** 'uefi' boots with OVMF (no secure boot) and a fresh copy of its empty variable store (default 'bios'). */
  firmware?: 'bios' | 'uefi';
  /**
   * One virtio-net NIC with this MAC, on a qemu hub with no other port: the
   * guest sees a link that reaches nothing (default: no NIC at all).
   */
  nic?: { mac: string };
  /** More disks after the boot disk, each on virtio-blk (vdb, vdc, ...) with -snapshot too: a converted guest's data disks. */
  extraDisks?: Array<{ disk: string; format: 'raw' | 'qcow2' }>;
  /** After `login:`, keep reading the console until this (every one of these) matched (or `afterLoginMs` passed); the outcome stays 'login'. */
  waitFor?: RegExp | RegExp[];
  /** How long to wait for `waitFor` after `login:` (default 60000 ms). */
  afterLoginMs?: number;
}

/** Where the UEFI variable store of one boot lives (a writable copy of OVMF's template). */
export interface UefiVars {
  varsPath: string;
}

/** Result of {@link bootDisk}: outcome, wall seconds, serial console text. */
export interface BootResult {
  outcome: 'login' | 'failed' | 'timeout';
  seconds: number;
  log: string;
}

/** Serial-console text meaning the guest reached a login prompt. */
export const LOGIN_PATTERN = /login:/;

/** Serial-console text meaning the boot failed early (root not found, shell, panic). */
export const FAILURE_PATTERN =
  /Gave up waiting for root|\(initramfs\)|emergency mode|Kernel panic|Dropping to a shell|No bootable device|Boot failed/;

/** Build the qemu-system-x86_64 argument list for a boot (exported for tests). */
export function qemuArgs(
  opts: Pick<BootOptions, 'disk' | 'format' | 'bus' | 'memoryMiB' | 'firmware' | 'nic' | 'extraDisks'> & Partial<UefiVars>,
): string[] {
  const mem = String(opts.memoryMiB ?? 1024);
  // -snapshot + snapshot=on: all guest writes go to a temporary overlay.
  const drive = (extra: string) => `file=${opts.disk.replace(/,/g, ',,')},format=${opts.format},snapshot=on,${extra}`;
  const args = [
    '-accel',
    'tcg',
    '-machine',
    opts.bus === 'sata' ? 'q35' : 'pc',
    '-m',
    mem,
    '-smp',
    '2',
    '-nodefaults',
    '-display',
    'none',
    // hubport with no other port on hub 0: a link up, isolated from everything.
    ...(opts.nic === undefined
      ? ['-nic', 'none']
      : ['-netdev', 'hubport,id=n0,hubid=0', '-device', `virtio-net-pci,netdev=n0,mac=${opts.nic.mac}`]),
    '-no-reboot',
    '-snapshot',
    '-chardev',
    'stdio,id=serial0,signal=off',
    '-serial',
    'chardev:serial0',
  ];
  if (opts.firmware === 'uefi') {
    if (opts.varsPath === undefined) throw new Error('a UEFI boot needs varsPath, a writable copy of OVMF_VARS');
    // Code read-only; variables in a per-boot copy, so no boot entry survives.
    args.push(
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${opts.varsPath.replace(/,/g, ',,')}`,
    );
  }
  switch (opts.bus) {
    case 'virtio':
      args.push('-drive', drive('if=virtio'));
      break;
    case 'ide':
      args.push('-drive', drive('if=ide,index=0,media=disk'));
      break;
    case 'sata':
      args.push('-drive', drive('if=none,id=disk0'), '-device', 'ahci,id=ahci0', '-device', 'ide-hd,drive=disk0,bus=ahci0.0,bootindex=0');
      break;
    case 'scsi':
      // LSI 53C895A (guest driver sym53c8xx): a non-virtio SCSI HBA.
      args.push(
        '-drive',
        drive('if=none,id=disk0'),
        '-device',
        'lsi53c895a,id=scsi0',
        '-device',
        'scsi-hd,drive=disk0,bus=scsi0.0,bootindex=0',
      );
      break;
    default:
      throw new Error(`unknown bus ${String(opts.bus)}`);
  }
  for (const extra of opts.extraDisks ?? []) {
    args.push('-drive', `file=${extra.disk.replace(/,/g, ',,')},format=${extra.format},snapshot=on,if=virtio`);
  }
  return args;
}

/** Boot `disk` read-only-safely on `bus` and report whether it reached `login:`. */
export async function bootDisk(opts: BootOptions): Promise<BootResult> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  let varsDir: string | undefined;
  if (opts.firmware === 'uefi') {
    varsDir = await mkdtemp(join(tmpdir(), 'v2v-boot-vars-'));
    await copyFile(OVMF.vars, join(varsDir, 'VARS.fd'));
  }
  try {
    return await bootWithArgs(
      opts,
      qemuArgs({ ...opts, ...(varsDir === undefined ? {} : { varsPath: join(varsDir, 'VARS.fd') }) }),
      timeoutMs,
    );
  } finally {
    if (varsDir !== undefined) await rm(varsDir, { recursive: true, force: true });
  }
}

/**
 * Runs qemu with `args` through the boot-check runner v2v itself uses
 * (drivers/qemu-system.ts watchBoot: console matching, qemu always stopped,
 * an exit hook as last resort), with the tests' own patterns.
 */
async function bootWithArgs(opts: BootOptions, args: string[], timeoutMs: number): Promise<BootResult> {
  let logStream: WriteStream | undefined;
  if (opts.logFile) {
    logStream = createWriteStream(opts.logFile);
    logStream.write(`# qemu-system-x86_64 ${args.join(' ')}\n`);
  }
  const started = Date.now();
  const waitFor = opts.waitFor === undefined ? [] : [opts.waitFor].flat();
  // With waitFor, login alone does not end the boot: the console is read on
  // until every waitFor pattern has been seen (or afterLoginMs passed since
  // login:), then the boot is stopped through this controller; the outcome
  // is still 'login'.
  const enough = new AbortController();
  let log = '';
  let grace: NodeJS.Timeout | undefined;
  const onConsole = (text: string): void => {
    logStream?.write(text);
    if (waitFor.length === 0) return;
    log += text;
    if (!LOGIN_PATTERN.test(log)) return;
    grace ??= setTimeout(() => enough.abort(), opts.afterLoginMs ?? 60_000);
    if (waitFor.every((pattern) => pattern.test(log))) enough.abort();
  };
  try {
    const watch = await watchBoot(
      { program: 'qemu-system-x86_64', args },
      { timeoutMs, booted: waitFor.length === 0 ? LOGIN_PATTERN : /(?!)/, failed: FAILURE_PATTERN, onConsole, signal: enough.signal },
    );
    return { outcome: watch.outcome === 'booted' ? 'login' : watch.outcome, seconds: watch.seconds, log: watch.console };
  } catch (error) {
    if (!enough.signal.aborted) throw error;
    return { outcome: 'login', seconds: Math.round((Date.now() - started) / 100) / 10, log };
  } finally {
    if (grace) clearTimeout(grace);
    if (logStream) await new Promise<void>((r) => logStream.end(() => r()));
  }
}
