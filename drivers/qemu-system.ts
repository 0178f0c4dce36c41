/**
 * qemu-system-x86_64, used only to find out whether KVM really works here.
 *
 * /dev/kvm existing is not enough: on some hosts qemu aborts setting MSR 0x10a
 * with `-cpu host`, or the guest hangs at boot. So we run a real guest: a
 * 64 KiB firmware whose reset vector writes to qemu's isa-debug-exit port.
 * qemu then exits with (value << 1) | 1. If that does not happen within a few
 * seconds under KVM, KVM is unusable and everything must use TCG.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, constants, accessSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type Command } from '../src/exec.js';

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
      '-accel', accel, '-machine', 'pc', ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
      '-nodefaults', '-no-user-config', '-display', 'none', '-m', '16',
      '-bios', firmware,
      '-device', `isa-debug-exit,iobase=0x${EXIT_PORT.toString(16)},iosize=0x01`,
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
  const dir = mkdtempSync(join(tmpdir(), 'v2v-accel-'));
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
