/**
 * Conversion of RPM-based guests: the RHEL family (RHEL, CentOS, Alma, Rocky,
 * Oracle, Fedora) and, with another profile, SUSE. Remove VMware tools with
 * rpm, rename disks to vdX in fstab/crypttab/grub/BLS entries, add a serial
 * console, rebuild every initramfs with the virtio drivers (dracut), update
 * grub, make the best kernel the default (kernel-choice.ts), and ask for an
 * SELinux relabel at first boot.
 *
 * Guest commands are built by the pure functions of rpm-commands.ts and run
 * through the guest's own /bin/sh inside the appliance, on the overlay only.
 */
import type { Guestfs } from '../../../drivers/guestfish.js';
import { parseLines } from '../../../drivers/guestfish.js';
import { ConversionError } from '../../errors.js';
import type { ConvertInput, ConvertResult } from '../convert-input.js';
import { ensureBlsOption, GUEST_PATH_PRELUDE, kernelsWithVirtio, remapGuestFile, selinuxNeedsRelabel, shellLine } from './common.js';
import { findGrubMenuEntry } from './grub-menu.js';
import { pinNetworkNames } from './network/pin.js';
import { chooseBestKernel, type KernelChoice } from './kernel-choice.js';
import { buildDeviceMap, ensureGrubCmdlineArg, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE, type DeviceMap } from './config.js';
import {
  dracutArgv,
  grub2MkconfigArgv,
  grub2SetDefaultArgv,
  grubbySetDefaultArgv,
  grubConfigTarget,
  mkinitrdArgv,
  rpmEraseArgv,
  rpmListAllArgv,
  rpmQueryArgv,
  RPM_HYPERVISOR_TOOLS,
} from './rpm-commands.js';
import { isPinFile } from './network/pin-plan.js';

/** What differs between RPM-based families. */
export interface RpmFamilyProfile {
  /** For messages: "RHEL-family", "SUSE". */
  name: string;
  /** Whether old mkinitrd may be used when dracut is absent (SUSE before 13). */
  mkinitrdFallback: boolean;
  /** UEFI grub.cfg on the ESP is used (RHEL family); SUSE always uses /boot/grub2/grub.cfg. */
  efiGrubConfig: boolean;
}

/** RHEL, CentOS, Alma, Rocky, Oracle Linux, Fedora. */
export const RHEL_PROFILE: RpmFamilyProfile = { name: 'RHEL-family', mkinitrdFallback: false, efiGrubConfig: true };

/** Converts a mounted RHEL-family guest. */
export function convertRhel(input: ConvertInput): Promise<ConvertResult> {
  return convertRpmGuest(input, RHEL_PROFILE);
}

/** Converts a mounted RPM-based guest with the given family profile. */
export async function convertRpmGuest(input: ConvertInput, profile: RpmFamilyProfile): Promise<ConvertResult> {
  const { g, inspection, log } = input;
  const kernels = kernelsWithVirtio(inspection);
  const best = chooseBestKernel(inspection.kernels);
  await removeHypervisorTools(input);
  const map = buildDeviceMap(input.source.disks);
  for (const file of ['/etc/fstab', '/etc/crypttab']) await remapGuestFile(g, file, map, input);
  const serialConsole = await configureDefaultGrub(input, map);
  await configureBlsEntries(input, map);
  // Before the initramfs rebuild, so dracut's copy of /etc/systemd/network holds the pin.
  const network = await pinNetworkNames(input);
  const pinFiles = [...new Set((network ?? []).flatMap((r) => r.files.filter(isPinFile)))];
  await rebuildInitramfs(
    input,
    kernels.map((k) => k.version),
    profile,
    pinFiles,
  );
  const grubConfig = await updateGrub(input, map, profile);
  if (best && grubConfig) await setDefaultKernel(input, best, grubConfig);
  await requestSelinuxRelabel(input);
  log('conversion of the guest finished');
  return { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', serialConsole, network };
}

/** Runs one argv in the guest's shell; a failure names the command and the fix. */
async function runInGuest(g: Guestfs, argv: string[], fix: string): Promise<string> {
  try {
    return await g.sh(`${GUEST_PATH_PRELUDE} ${shellLine(argv)} 2>&1`);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ConversionError(`Running "${shellLine(argv)}" in the guest failed (${why}): ${fix}`, { cause: error });
  }
}

/** Whether a command exists in the guest (in the usual sbin/bin directories). */
async function guestHasCommand(g: Guestfs, name: string): Promise<boolean> {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (await g.exists(`${dir}/${name}`)) return true;
  }
  return false;
}

/** Erases VMware (and other hypervisors') tools with rpm, then checks they are gone. */
async function removeHypervisorTools({ g, inspection, log }: ConvertInput): Promise<void> {
  const hasRpm = await guestHasCommand(g, 'rpm');
  // The guest's own rpm reads its database even where libguestfs' cannot
  // (sqlite rpmdb, see stages/inspect.ts): ask it too.
  const listed = hasRpm ? parseLines(await g.sh(`${GUEST_PATH_PRELUDE} ${shellLine(rpmListAllArgv())} 2>/dev/null || true`)) : [];
  const packages = [...new Set([...inspection.packages, ...listed.map((l) => l.trim())])].filter((p) => RPM_HYPERVISOR_TOOLS.test(p));
  if (packages.length === 0) {
    log('no VMware or other hypervisor tools installed');
    return;
  }
  if (!hasRpm) {
    throw new ConversionError(
      `The guest lists ${packages.join(', ')} as installed but has no rpm command: remove the VMware tools in the source VM and retry.`,
    );
  }
  log(`removing ${packages.join(', ')}`);
  // rpm, not dnf/zypper: no network or repositories needed. Scriptlets see a
  // chroot with no running systemd, so they skip stopping services.
  await runInGuest(g, rpmEraseArgv(packages), 'remove the VMware tools in the source VM and retry.');
  const left = parseLines(await g.sh(`${GUEST_PATH_PRELUDE} ${shellLine(rpmQueryArgv(packages))} 2>/dev/null || true`)).filter((name) =>
    packages.includes(name.trim()),
  );
  if (left.length > 0)
    throw new ConversionError(`Removing ${left.join(', ')} from the guest failed: remove the VMware tools in the source VM and retry.`);
}

/** Renames devices in /etc/default/grub and adds a serial console to GRUB_CMDLINE_LINUX. */
async function configureDefaultGrub(input: ConvertInput, map: DeviceMap): Promise<boolean> {
  const { g, log } = input;
  const path = '/etc/default/grub';
  if (!(await g.exists(path))) return false;
  await remapGuestFile(g, path, map, input);
  const before = await g.readFile(path);
  const text = ensureGrubCmdlineArg(before, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE);
  if (text !== before) {
    await g.writeFile(path, text);
    log(`${path}: serial console added`);
  }
  return true;
}

/** BLS entries (RHEL 8+, Fedora 30+) hold each kernel's command line: rename devices, add the serial console. */
async function configureBlsEntries(input: ConvertInput, map: DeviceMap): Promise<void> {
  const { g, log } = input;
  const entries = parseLines(await g.call('glob-expand', '/boot/loader/entries/*.conf'));
  for (const path of entries) {
    await remapGuestFile(g, path, map, input);
    const before = await g.readFile(path);
    const text = ensureBlsOption(before, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE);
    if (text !== before) {
      await g.writeFile(path, text);
      log(`${path}: serial console added`);
    }
  }
}

/**
 * Rebuilds the initramfs of every kernel that has virtio, forcing the virtio
 * drivers in: RHEL's initramfs is host-only, built on VMware without them.
 */
async function rebuildInitramfs(
  { g, log }: ConvertInput,
  versions: string[],
  profile: RpmFamilyProfile,
  pinFiles: string[],
): Promise<void> {
  const dracut = await guestHasCommand(g, 'dracut');
  const mkinitrd = !dracut && profile.mkinitrdFallback && (await guestHasCommand(g, 'mkinitrd'));
  if (!dracut && !mkinitrd) {
    throw new ConversionError(
      `The ${profile.name} guest has no dracut${profile.mkinitrdFallback ? ' or mkinitrd' : ''} to rebuild its initramfs with the virtio drivers: install dracut in the source VM and retry.`,
    );
  }
  for (const version of versions) {
    log(`rebuilding the initramfs of ${version} with the virtio drivers (slow under TCG)`);
    await runInGuest(
      g,
      dracut ? dracutArgv(version, pinFiles) : mkinitrdArgv(version),
      `check that kernel ${version} is complete in the source VM, or remove it, and retry.`,
    );
  }
}

/** Regenerates grub.cfg with grub2-mkconfig (when present), then renames devices it may still name; returns its path, if any. */
async function updateGrub(input: ConvertInput, map: DeviceMap, profile: RpmFamilyProfile): Promise<string | undefined> {
  const { g, inspection, log, warn } = input;
  const efiConfigs: Array<{ path: string; text: string }> = [];
  if (inspection.firmware === 'uefi' && profile.efiGrubConfig) {
    for (const path of parseLines(await g.call('glob-expand', '/boot/efi/EFI/*/grub.cfg')))
      efiConfigs.push({ path, text: await g.readFile(path) });
  }
  const target = grubConfigTarget(profile.efiGrubConfig ? inspection.firmware : 'bios', efiConfigs);
  if (!(await g.exists(target))) {
    warn(`no ${target} found: the bootloader was not updated`);
    return undefined;
  }
  if (await guestHasCommand(g, 'grub2-mkconfig')) {
    log(`regenerating ${target}`);
    await runInGuest(g, grub2MkconfigArgv(target), `fix the guest's grub2 configuration (/etc/default/grub) in the source VM and retry.`);
  } else {
    warn(`the guest has no grub2-mkconfig: ${target} was only edited, not regenerated`);
  }
  // Inside the appliance grub2-mkconfig sees the appliance's disk names (sdX).
  await remapGuestFile(g, target, map, input);
  return target;
}

/**
 * Makes the chosen kernel the default: with grubby where the guest has it
 * (RHEL 7+, Fedora: it handles BLS and grub.cfg alike); else, with BLS
 * entries, grub2-set-default with the entry's id; else (SUSE) with
 * grub2-set-default and the entry's path in the regenerated grub.cfg, unless
 * it is already the first entry. Runs after grub2-mkconfig, which would
 * otherwise reset what it points at.
 */
async function setDefaultKernel(input: ConvertInput, { kernel, reason }: KernelChoice, grubConfig: string): Promise<void> {
  const { g, log, warn } = input;
  const version = kernel.version;
  const fix = `make kernel ${version} the default in the source VM and retry.`;
  log(`default kernel: ${version} (${reason})`);
  if (await guestHasCommand(g, 'grubby')) {
    await runInGuest(g, grubbySetDefaultArgv(version), fix);
    return;
  }
  const hasSetDefault = await guestHasCommand(g, 'grub2-set-default');
  const bls = parseLines(await g.call('glob-expand', `/boot/loader/entries/*-${version}.conf`))[0];
  if (bls) {
    const id = bls.replace(/^.*\//, '').replace(/\.conf$/, '');
    if (hasSetDefault) await runInGuest(g, grub2SetDefaultArgv(id), fix);
    else warn(`the guest has neither grubby nor grub2-set-default: kernel ${version} was not made the default`);
    return;
  }
  const entry = findGrubMenuEntry(await g.readFile(grubConfig), version);
  if (!entry) {
    warn(`${grubConfig} has no menu entry for kernel ${version}: it was not made the default`);
    return;
  }
  const grubDefault = (await g.exists('/etc/default/grub'))
    ? /^\s*GRUB_DEFAULT=["']?([^"'\s]*)/m.exec(await g.readFile('/etc/default/grub'))?.[1]
    : undefined;
  if (grubDefault === 'saved' && hasSetDefault) {
    // saved_entry may name an older kernel: point it at this one.
    await runInGuest(g, grub2SetDefaultArgv(entry.path), fix);
  } else if (entry.first && (grubDefault === undefined || grubDefault === '0')) {
    log(`kernel ${version} is already grub's first entry`);
  } else {
    warn(
      `GRUB_DEFAULT=${grubDefault ?? ''} in /etc/default/grub: kernel ${version} was not made the default (its entry is "${entry.path}")`,
    );
  }
}

/** Files we wrote have no SELinux labels: with SELinux on, the guest must relabel at first boot. */
async function requestSelinuxRelabel({ g, log }: ConvertInput): Promise<void> {
  const config = '/etc/selinux/config';
  if (!(await g.exists(config)) || !selinuxNeedsRelabel(await g.readFile(config))) return;
  await g.call('touch', '/.autorelabel');
  log('SELinux is enabled: /.autorelabel created (the guest relabels its files at first boot)');
}
