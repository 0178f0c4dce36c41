/**
 * qemu-system-x86_64: finds out whether KVM really works here, and boots
 * converted disks to check they reach userspace (see the boot check below).
 *
 * /dev/kvm existing is not enough: on some hosts qemu aborts setting MSR 0x10a
 * with `-cpu host`, or the guest hangs at boot. So we run a real guest: a
 * 64 KiB firmware whose reset vector writes to qemu's isa-debug-exit port.
 * qemu then exits with (value << 1) | 1. If that does not happen within a few
 * seconds under KVM, KVM is unusable and everything must use TCG.
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync, constants, accessSync } from 'node:fs';
import { join } from 'node:path';
import { guardedCommand, rootSignal, run, traceCommand, type Command } from '../src/host/exec.js';
import { makeRunTempDir } from '../src/host/tmpdir.js';

const QEMU_SYSTEM = 'qemu-system-x86_64';
const EXIT_PORT = 0xf4;
const EXIT_VALUE = 0x31;
/** qemu's exit status after the probe firmware wrote EXIT_VALUE to the debug-exit port. */
export const PROBE_EXIT_CODE = (EXIT_VALUE << 1) | 1;

/** The probe firmware: 64 KiB whose reset vector (offset 0xFFF0) does `mov al,0x31; out 0xf4,al; hlt; jmp $-1`. */
export function probeFirmware(): Buffer {
  const rom = Buffer.alloc(64 * 1024, 0xf4); // hlt everywhere else
  Buffer.from([0xb0, EXIT_VALUE, 0xe6, EXIT_PORT, 0xf4, 0xeb, 0xfd]).copy(rom, 0xfff0);
  return rom;
}

/** Builds the qemu command that boots the probe firmware with the given accelerator. */
export function acceleratorProbeCommand(firmware: string, accel: 'kvm' | 'tcg'): Command {
  return {
    program: QEMU_SYSTEM,
    args: [
      '-accel',
      accel,
      '-machine',
      'pc',
      ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-m',
      '16',
      '-bios',
      firmware,
      '-device',
      `isa-debug-exit,iobase=0x${EXIT_PORT.toString(16)},iosize=0x01`,
    ],
  };
}

/** Whether an accelerator can run a guest, and if not, why. */
export interface AcceleratorCheck {
  usable: boolean;
  reason: string;
}

/** Runs the probe firmware under `accel`; usable only if it reached the exit port. */
export async function probeAccelerator(accel: 'kvm' | 'tcg'): Promise<AcceleratorCheck> {
  if (accel === 'kvm') {
    if (!existsSync('/dev/kvm')) return { usable: false, reason: '/dev/kvm does not exist' };
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      return { usable: false, reason: '/dev/kvm is not accessible' };
    }
  }
  // Marked as the run's, so a run killed during the probe leaves nothing for good.
  const dir = await makeRunTempDir('v2v-accel-');
  try {
    const firmware = join(dir, 'probe.rom');
    writeFileSync(firmware, probeFirmware());
    const result = await run(acceleratorProbeCommand(firmware, accel), { kind: 'accelProbe', allowFailure: true }).catch(
      (error: unknown) => ({ exitCode: -1, stderr: error instanceof Error ? error.message : String(error) }),
    );
    if (result.exitCode === PROBE_EXIT_CODE) return { usable: true, reason: `${accel} ran a test guest` };
    const detail = result.stderr.trim().split('\n').at(-1) ?? '';
    return { usable: false, reason: `a test guest under ${accel} failed (exit code ${result.exitCode}${detail ? `: ${detail}` : ''})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Boot check: boot disks with no network device and watch the serial console.
// Used by `--verify=boot`, `v2v verify` and the e2e tests' boot helper.
// ---------------------------------------------------------------------------

/** One disk of a boot check: qemu opens it as given (use a throwaway overlay to keep the real disk untouched). */
export interface BootDisk {
  path: string;
  format: string;
  /** virtio-blk (default), or an AHCI (SATA) port for 'sata' and 'ide' (q35 has no IDE). */
  bus?: 'virtio' | 'sata' | 'ide';
}

/** What {@link bootCheckCommand} needs. */
export interface BootCheckSpec {
  /** Disks in boot order (the first boots). */
  disks: BootDisk[];
  accel: 'kvm' | 'tcg';
  machine: 'q35' | 'pc';
  memoryMiB: number;
  vcpus: number;
  /** UEFI: OVMF code (read-only) and a writable per-boot copy of its variable store; absent: BIOS. */
  uefi?: { code: string; vars: string };
}

/** Doubles commas: qemu's option syntax uses `,,` for a literal comma in a value. */
function qemuValue(text: string): string {
  return text.replace(/,/g, ',,');
}

/**
 * Builds the qemu command of a boot check: no network device (`-nic none`
 * and `-nodefaults`), no display, the serial console on stdout, `-no-reboot`
 * so a guest that resets (a triple fault, a reboot loop) ends the check. Pure.
 */
export function bootCheckCommand(spec: BootCheckSpec): Command {
  const args = [
    '-accel',
    spec.accel,
    '-machine',
    spec.machine,
    ...(spec.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m',
    String(spec.memoryMiB),
    '-smp',
    String(spec.vcpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-nic',
    'none',
    // SeaBIOS prints "No bootable device" on VGA only: reboot at once instead, which -no-reboot turns into qemu exiting.
    '-boot',
    'reboot-timeout=0',
    '-no-reboot',
    '-chardev',
    'stdio,id=serial0,signal=off',
    '-serial',
    'chardev:serial0',
  ];
  if (spec.uefi) {
    args.push(
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${qemuValue(spec.uefi.code)}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${qemuValue(spec.uefi.vars)}`,
    );
  }
  if (spec.disks.some((disk) => (disk.bus ?? 'virtio') !== 'virtio')) args.push('-device', 'ahci,id=ahci0');
  spec.disks.forEach((disk, index) => {
    const boot = index === 0 ? ',bootindex=0' : '';
    args.push('-drive', `file=${qemuValue(disk.path)},format=${disk.format},if=none,id=disk${index}`);
    if ((disk.bus ?? 'virtio') === 'virtio') args.push('-device', `virtio-blk-pci,drive=disk${index}${boot}`);
    else args.push('-device', `ide-hd,drive=disk${index},bus=ahci0.${index}${boot}`);
  });
  return { program: QEMU_SYSTEM, args };
}

/** Serial-console text meaning a Linux guest reached userspace: a login prompt or systemd's multi-user target. */
export const BOOTED_PATTERN = /login:|Reached target .*Multi-User System|Reached target multi-user\.target/;

/**
 * Serial-console text meaning the boot failed: initramfs-tools giving up on
 * the root device or dropping to its shell, systemd's emergency mode, a
 * dracut emergency shell or timeout, a kernel panic, no bootable disk.
 */
export const BOOT_FAILED_PATTERN =
  /Gave up waiting for root|\(initramfs\)|emergency mode|Kernel panic|Dropping to a shell|dracut-initqueue.*timeout|dracut:\/#|Entering emergency|No bootable device|Boot failed/;

/** How a boot check ended. */
export type BootOutcome = 'booted' | 'failed' | 'timeout';

/** Result of {@link watchBoot}. */
export interface BootWatch {
  outcome: BootOutcome;
  /** Wall seconds from start to the outcome. */
  seconds: number;
  /** The whole serial console (and qemu's stderr, marked), as captured. */
  console: string;
  /** The console line that decided the outcome (absent on a timeout or when qemu exited by itself). */
  decidingLine?: string;
}

/** Options of {@link watchBoot}. */
export interface WatchBootOptions {
  timeoutMs: number;
  /**
   * Give up earlier when the console stays completely silent this long: the
   * bootloader never started a kernel that talks to the serial port (or the
   * guest does not use one). Absent: only `timeoutMs`.
   */
  silenceTimeoutMs?: number;
  /** Success pattern (default {@link BOOTED_PATTERN}). */
  booted?: RegExp;
  /** Failure pattern (default {@link BOOT_FAILED_PATTERN}). */
  failed?: RegExp;
  /** Called with every console chunk as it arrives (a log file, live output). */
  onConsole?: (text: string) => void;
  /** Stops the guest early; the promise then rejects with the signal's reason (default: the run's root signal, SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/**
 * Console text without ANSI escapes and carriage returns: what a person
 * reads. An escape cut off at the end (a chunk that ended inside one, as
 * systemd's colored "multi-user.target\e[0m" can) goes too.
 */
export function plainConsole(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[()][0-9A-Za-z]|\u001bc|\u001b(\[[0-9;?]*|[()])?$/g, '').replace(/\r/g, '');
}

/** The last `count` non-empty lines of console text, plain. */
export function lastConsoleLines(text: string, count: number): string[] {
  return plainConsole(text)
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-count);
}

/**
 * Runs a boot check command and classifies the boot from its serial console:
 * the first match of the success or failure pattern decides, else the
 * timeout. qemu is stopped (SIGTERM, then SIGKILL) before this resolves,
 * whatever happened, so nothing is left running.
 */
export async function watchBoot(cmd: Command, options: WatchBootOptions): Promise<BootWatch> {
  const booted = options.booted ?? BOOTED_PATTERN;
  const signal = options.signal ?? rootSignal();
  const failed = options.failed ?? BOOT_FAILED_PATTERN;
  const started = Date.now();
  traceCommand(cmd);
  // A parent-death signal, as every child of the exec wrapper: a boot never outlives v2v.
  const exe = guardedCommand(cmd);
  const child = nodeSpawn(exe.program, exe.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LANG: 'C', LC_ALL: 'C', ...cmd.env },
  });
  liveBoots.add(child);
  installBootExitHook();
  let log = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  let silence: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const decision = await new Promise<{ outcome: BootOutcome; line?: string }>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: BootOutcome, line?: string): void => {
        if (settled) return;
        settled = true;
        resolve(line === undefined ? { outcome } : { outcome, line });
      };
      // Patterns are matched on a bounded tail, so one split across chunks is still seen.
      let tail = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        log += text;
        options.onConsole?.(text);
        tail = (tail + text).slice(-4096);
        const plain = plainConsole(tail);
        const good = booted.exec(plain);
        const bad = failed.exec(plain);
        // The earlier match decides (a failure message then a rescue shell's "login:" is a failure).
        if (bad && (!good || bad.index <= good.index)) finish('failed', lineAround(plain, bad.index));
        else if (good) finish('booted', lineAround(plain, good.index));
      });
      child.stderr.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        stderr += text;
        options.onConsole?.(`[qemu stderr] ${text}`);
      });
      child.once('error', (error) => {
        if (!settled) {
          settled = true;
          reject(error);
        }
      });
      child.once('exit', (code, signal) => {
        // qemu went away by itself: bad arguments, or the guest reset under -no-reboot.
        log += `\n[qemu exited: code ${code ?? '-'}, signal ${signal ?? '-'}]\n${stderr}`;
        const why =
          code === 0
            ? ': the guest reset or powered off (no bootable disk, a reboot, a triple fault)'
            : stderr.trim()
              ? `: ${stderr.trim().split('\n').at(-1)}`
              : '';
        finish('failed', `qemu exited by itself (code ${code ?? '-'}${signal ? `, signal ${signal}` : ''})${why}`);
      });
      timer = setTimeout(() => finish('timeout'), options.timeoutMs);
      if (options.silenceTimeoutMs !== undefined) {
        const seconds = Math.round(options.silenceTimeoutMs / 1000);
        silence = setTimeout(() => {
          if (log === '') finish('timeout', `nothing on the serial console within ${seconds} s`);
        }, options.silenceTimeoutMs);
      }
      if (signal) {
        onAbort = () => {
          if (!settled) {
            settled = true;
            reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          }
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    return {
      outcome: decision.outcome,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      console: log,
      ...(decision.line === undefined ? {} : { decidingLine: decision.line }),
    };
  } finally {
    if (timer) clearTimeout(timer);
    if (silence) clearTimeout(silence);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await stopChild(child);
    liveBoots.delete(child);
  }
}

/** The whole console line containing offset `index` of `text`. */
function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end === -1 ? undefined : end).trim();
}

/** Stops a qemu: SIGTERM, SIGKILL after 3 s; waits for it to be gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
  if (!graceful) {
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
}

const liveBoots = new Set<ChildProcess>();
let bootExitHookInstalled = false;

/** Last resort: a process exiting (even on an uncaught error) never leaves a boot-check qemu behind. */
function installBootExitHook(): void {
  if (bootExitHookInstalled) return;
  bootExitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveBoots) child.kill('SIGKILL');
  });
}
