/**
 * Pure text edits of Linux configuration files made during conversion:
 * device renames (sd/hd/xvd → vd), kernel arguments, initramfs module lists.
 */
import { type SourceDisk, driveLetters } from '../../model.js';

/** Old device base name (sda, hdb, xvda) → new one (vda, vdb). */
export type DeviceMap = Map<string, string>;

/**
 * Predicts the names the source guest used for its disks and maps them to
 * the virtio names they get, in target order. SCSI, SATA and (libata) IDE
 * disks are sdX in source order; legacy IDE names hdX and Xen names xvdX map
 * by position too, so an fstab written in any of these styles is fixed.
 */
export function buildDeviceMap(disks: SourceDisk[]): DeviceMap {
  const map: DeviceMap = new Map();
  let ide = 0;
  disks.forEach((disk, index) => {
    const target = `vd${driveLetters(index)}`;
    if (disk.bus === 'nvme') return; // nvmeXnY names are stable; nothing to map
    map.set(`sd${driveLetters(index)}`, target);
    map.set(`xvd${driveLetters(index)}`, target);
    if (disk.bus === 'ide') map.set(`hd${driveLetters(ide++)}`, target);
  });
  return map;
}

/** Kernel arguments for a serial console (reachable with `virsh console`), and how to see one is already set. */
export const SERIAL_CONSOLE_ARGS = 'console=tty0 console=ttyS0,115200';
export const SERIAL_CONSOLE_RE = /console=ttyS\d/;

/** A device reference that conversion renames: /dev/sda, /dev/sda1, /dev/hdb2, /dev/xvda. */
const DEVICE_RE = /\/dev\/((?:sd|hd|xvd)[a-z]+)(\d*)(?![A-Za-z_])/g;

/** Result of a rename: the new text and what changed. */
export interface RemapResult {
  text: string;
  /** "old → new" for each rename made. */
  changes: string[];
  /** Device names found that the map does not know (left as they were). */
  unknown: string[];
}

/** Renames /dev/sdX-style references in a config file's text. */
export function remapDeviceNames(text: string, map: DeviceMap): RemapResult {
  const changes = new Set<string>();
  const unknown = new Set<string>();
  const out = text.replace(DEVICE_RE, (whole, base: string, part: string) => {
    const target = map.get(base);
    if (!target) {
      unknown.add(`/dev/${base}${part}`);
      return whole;
    }
    changes.add(`/dev/${base}${part} → /dev/${target}${part}`);
    return `/dev/${target}${part}`;
  });
  return { text: out, changes: [...changes], unknown: [...unknown] };
}

/**
 * Makes sure `GRUB_CMDLINE_LINUX` in /etc/default/grub contains `arg`
 * (when no argument with the same key and value prefix is present).
 * Returns the text unchanged when already there.
 */
export function ensureGrubCmdlineArg(text: string, arg: string, present: RegExp): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^\s*GRUB_CMDLINE_LINUX=/.test(l));
  if (at === -1) {
    return `${text.replace(/\n?$/, '\n')}GRUB_CMDLINE_LINUX="${arg}"\n`;
  }
  const line = lines[at] ?? '';
  const match = /^(\s*GRUB_CMDLINE_LINUX=)(["']?)(.*?)\2\s*$/.exec(line);
  const value = match?.[3] ?? '';
  if (present.test(value)) return text;
  const quote = match?.[2] || '"';
  lines[at] = `${match?.[1] ?? 'GRUB_CMDLINE_LINUX='}${quote}${value ? `${value} ` : ''}${arg}${quote}`;
  return lines.join('\n');
}

/** A grub.cfg line that loads a Linux kernel: `linux`, `linux16` or `linuxefi`, then the kernel path. */
const GRUB_LINUX_LINE = /^(\s*linux(?:16|efi)?\s+\S+.*?)(\s*)$/;

/**
 * Adds `arg` to the command line of every kernel a generated grub.cfg boots
 * (each `linux` line whose arguments `present` does not match), the way
 * grub-mkconfig would after the same change to GRUB_CMDLINE_LINUX, which it
 * appends to normal and recovery entries alike. Returns the new text and how
 * many entries changed; zero entries found means the file is not one we can
 * edit (the caller regenerates it instead).
 */
export function ensureGrubCfgLinuxArg(cfg: string, arg: string, present: RegExp): { text: string; changed: number; entries: number } {
  let changed = 0;
  let entries = 0;
  const text = cfg
    .split('\n')
    .map((line) => {
      const match = GRUB_LINUX_LINE.exec(line);
      if (!match) return line;
      entries++;
      if (present.test(line)) return line;
      changed++;
      return `${match[1]} ${arg}`;
    })
    .join('\n');
  return { text, changed, entries };
}

/** Appends the modules missing from an initramfs-tools `modules` file, one per line. */
export function ensureModuleLines(text: string, modules: string[]): { text: string; added: string[] } {
  const listed = new Set(
    text
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim().split(/\s+/)[0])
      .filter((m): m is string => !!m),
  );
  const added = modules.filter((m) => !listed.has(m));
  if (added.length === 0) return { text, added };
  const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return { text: `${base}# added by v2v: virtio drivers for KVM\n${added.join('\n')}\n`, added };
}

/** Reads `MODULES=` from initramfs.conf (Debian's default is "most"). */
export function initramfsModulesPolicy(conf: string): string {
  const match = /^\s*MODULES=["']?(\w+)["']?\s*$/m.exec(conf);
  return match?.[1] ?? 'most';
}

/** Sets `MODULES=` in initramfs.conf. */
export function setInitramfsModulesPolicy(conf: string, policy: string): string {
  return /^\s*MODULES=.*$/m.test(conf) ? conf.replace(/^\s*MODULES=.*$/m, `MODULES=${policy}`) : `${conf}\nMODULES=${policy}\n`;
}
