/**
 * Pieces every Linux converter shares: renaming devices in a guest file,
 * quoting commands for the guest's shell, the SELinux relabel decision.
 */
import type { Guestfs } from '../../../drivers/guestfish.js';
import { ConversionError } from '../../errors.js';
import type { GuestKernel, Inspection } from '../../model.js';
import { remapDeviceNames, type DeviceMap } from './config.js';

/** Shell prelude for commands run in a non-Debian guest: a sane PATH, C locale. */
export const GUEST_PATH_PRELUDE = 'export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C;';

/** Quotes one word for a POSIX shell (only when it needs it). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Turns an argv into the command line the guest's /bin/sh runs. */
export function shellLine(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** Whether /etc/selinux/config asks for SELinux (enforcing or permissive): files we wrote then need relabelling at boot. */
export function selinuxNeedsRelabel(config: string): boolean {
  const match = /^\s*SELINUX\s*=\s*["']?(\w+)["']?\s*$/m.exec(config);
  return match?.[1] === 'enforcing' || match?.[1] === 'permissive';
}

/**
 * The guest's kernels that have virtio drivers; refuses a guest with none,
 * since nothing we write would let it find its disk on KVM.
 */
export function kernelsWithVirtio(inspection: Inspection): GuestKernel[] {
  const kernels = inspection.kernels.filter((k) => k.hasVirtio);
  if (kernels.length === 0) {
    throw new ConversionError(
      `None of the guest's kernels (${inspection.kernels.map((k) => k.version).join(', ') || 'none found'}) has virtio drivers: install a distribution kernel in the guest before converting it.`,
    );
  }
  return kernels;
}

/** How a converter reports. */
export interface Reporter {
  log: (message: string) => void;
  warn: (message: string) => void;
}

/** Rewrites sdX/hdX/xvdX device names in one guest file, if it exists; returns whether it changed. */
export async function remapGuestFile(g: Guestfs, path: string, map: DeviceMap, { log, warn }: Reporter): Promise<boolean> {
  if (!(await g.exists(path))) return false;
  const before = await g.readFile(path);
  const { text, changes, unknown } = remapDeviceNames(before, map);
  if (unknown.length > 0) warn(`${path} refers to ${unknown.join(', ')}, which is not one of the converted disks; left unchanged`);
  if (changes.length === 0) return false;
  await g.writeFile(path, text);
  log(`${path}: ${changes.join(', ')}`);
  return true;
}

/**
 * Makes sure a BLS entry's `options` line contains `arg` (unless `present`
 * matches an option already there). BLS entries carry the kernel command
 * line themselves on RHEL 8+/Fedora, so /etc/default/grub alone is not enough.
 */
export function ensureBlsOption(entry: string, arg: string, present: RegExp): string {
  const lines = entry.split('\n');
  const at = lines.findIndex((l) => /^options(\s|$)/.test(l));
  if (at === -1) return `${entry.replace(/\n?$/, '\n')}options ${arg}\n`;
  const value = (lines[at] ?? '').replace(/^options\s*/, '');
  if (present.test(value)) return entry;
  lines[at] = `options ${value ? `${value.trimEnd()} ` : ''}${arg}`;
  return lines.join('\n');
}
