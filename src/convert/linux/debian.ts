/**
 * Conversion of Debian-family guests (Debian, Ubuntu, Linux Mint): remove
 * VMware tools, put virtio drivers in the initramfs, rename disks to vdX in
 * fstab/crypttab/grub/resume, make sure a serial console exists, update grub.
 *
 * Everything runs inside the appliance on the overlay; the source is never
 * written. Each step reports what it changed through `log`.
 */
import type { Guestfs } from '../../../drivers/guestfish.js';
import { ConversionError } from '../../errors.js';
import type { ConvertInput, ConvertResult } from '../convert-input.js';
import {
  buildDeviceMap,
  ensureGrubCfgLinuxArg,
  ensureGrubCmdlineArg,
  ensureModuleLines,
  initramfsModulesPolicy,
  remapDeviceNames,
  SERIAL_CONSOLE_ARGS,
  SERIAL_CONSOLE_RE,
  setInitramfsModulesPolicy,
  type DeviceMap,
} from './config.js';
import { kernelsWithVirtio, remapGuestFile } from './common.js';
import { extendInitramfsTools } from './initramfs/extend.js';
import { pinNetworkNames } from './network/pin.js';
import { isPinFile } from './network/pin-plan.js';

/** Drivers a guest needs in its initramfs to find its root disk on KVM. */
export const VIRTIO_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net', 'virtio_console'];

/** Names the fast initramfs path in the log (tests look for it). */
export const INITRAMFS_FAST_PATH = 'initramfs extended on the host';

/** Packages of other hypervisors that must go (VMware first: our main source). */
export const HYPERVISOR_TOOL_PACKAGES =
  /^(open-vm-tools(-desktop|-sdmp|-containerinfo)?|vmware-tools.*|virtualbox-guest-.*|xe-guest-utilities)$/;

/** Shell prelude for commands run in the guest: a sane PATH, no prompts. */
const GUEST_SH = 'export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C;';

/** Converts a mounted Debian-family guest; returns the devices it can now use. */
export async function convertDebian(input: ConvertInput): Promise<ConvertResult> {
  const { log } = input;
  kernelsWithVirtio(input.inspection);
  await removeHypervisorTools(input);
  const deviceMap = buildDeviceMap(input.source.disks);
  for (const file of ['/etc/fstab', '/etc/crypttab', '/etc/initramfs-tools/conf.d/resume', '/boot/grub/device.map']) {
    await remapGuestFile(input.g, file, deviceMap, input);
  }
  const serialConsole = await configureGrub(input, deviceMap);
  // Before the initramfs rebuild, so an initramfs that copies .link files holds the pin.
  const network = await pinNetworkNames(input);
  // initramfs-tools' udev hook copies /etc/systemd/network/*.link and the
  // persistent-net rules into the initramfs, whose udev names the virtio NIC
  // first: a new pin must be in it.
  const pinFiles = [...new Set(network.flatMap((r) => r.files))].filter(isPinFile);
  await ensureVirtioInitramfs(input, pinFiles);
  await updateGrubConfig(input, deviceMap, serialConsole);
  log('conversion of the guest finished');
  return { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', serialConsole, network };
}

/** Purges VMware (and other hypervisors') guest tools with dpkg. */
async function removeHypervisorTools({ g, inspection, log }: ConvertInput): Promise<void> {
  const packages = inspection.packages.filter((p) => HYPERVISOR_TOOL_PACKAGES.test(p));
  if (packages.length === 0) {
    log('no VMware or other hypervisor tools installed');
    return;
  }
  log(`removing ${packages.join(', ')}`);
  // dpkg, not apt: it needs no network and no package lists. Maintainer
  // scripts see a chroot, so they skip starting/stopping services.
  await g.sh(`${GUEST_SH} dpkg --purge ${packages.join(' ')}`);
  const left = (await g.sh(`${GUEST_SH} dpkg-query -W -f='\${Package} \${Status}\\n' ${packages.join(' ')} 2>/dev/null || true`))
    .split('\n')
    .filter((line) => / installed$/.test(line));
  if (left.length > 0)
    throw new ConversionError(`Removing ${left.join(', ')} from the guest failed: remove the VMware tools in the source VM and retry.`);
}

/**
 * Renames devices in /etc/default/grub and adds a serial console, so the
 * guest is reachable with `virsh console` on a host with no display.
 */
async function configureGrub(input: ConvertInput, map: DeviceMap): Promise<boolean> {
  const { g, log } = input;
  const path = '/etc/default/grub';
  if (!(await g.exists(path))) return false;
  const before = await g.readFile(path);
  const remapped = remapDeviceNames(before, map);
  const text = ensureGrubCmdlineArg(remapped.text, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE);
  if (text !== before) {
    await g.writeFile(path, text);
    log(`${path}: ${[...remapped.changes, ...(text !== remapped.text ? ['serial console added'] : [])].join(', ')}`);
  }
  return true;
}

/**
 * Lists the virtio modules missing from a kernel's initramfs. A driver built
 * into the kernel (modules.builtin; Ubuntu's generic kernels build virtio_blk,
 * virtio_pci and virtio_net in) is never in an initramfs and is not missing.
 */
async function missingFromInitramfs(g: Guestfs, version: string): Promise<string[]> {
  const listing = await g.sh(`${GUEST_SH} lsinitramfs /boot/initrd.img-${version} | grep -E '/virtio[^/]*\\.ko' || true`);
  const present = new Set([...listing.matchAll(/\/(virtio[^/]*)\.ko/g)].map((m) => (m[1] ?? '').replace(/-/g, '_')));
  const builtin = `/lib/modules/${version}/modules.builtin`;
  if (await g.exists(builtin)) {
    for (const m of (await g.readFile(builtin)).matchAll(/\/(virtio[^/\s]*)\.ko/g)) present.add((m[1] ?? '').replace(/-/g, '_'));
  }
  return VIRTIO_MODULES.filter((m) => !present.has(m));
}

/**
 * Puts the virtio drivers into the initramfs of every kernel, and the network
 * name pins just written (pin.ts) where the initramfs' udev reads
 * them. Each image is extended on the host (initramfs/extend.ts: no guest
 * binary runs, ~35 s less under TCG than update-initramfs); an image that
 * code does not understand is rebuilt with update-initramfs, and the log
 * says why. The guest's config is changed as well, so the next kernel
 * update builds a correct image by itself: the modules listed in
 * /etc/initramfs-tools/modules, and MODULES=dep switched to "most" (dep
 * run on KVM would select the devices of the moment, not future ones; run
 * inside our appliance, the appliance's).
 */
async function ensureVirtioInitramfs({ g, inspection, log, tmpdir }: ConvertInput, pinFiles: string[]): Promise<void> {
  const conf = '/etc/initramfs-tools/initramfs.conf';
  if (await g.exists(conf)) {
    const text = await g.readFile(conf);
    if (initramfsModulesPolicy(text) === 'dep') {
      await g.writeFile(conf, setInitramfsModulesPolicy(text, 'most'));
      log(`${conf}: MODULES=dep changed to MODULES=most`);
    }
  }
  const modulesFile = '/etc/initramfs-tools/modules';
  const modulesText = (await g.exists(modulesFile)) ? await g.readFile(modulesFile) : '';
  const { text, added } = ensureModuleLines(modulesText, VIRTIO_MODULES);
  if (added.length > 0) {
    await g.writeFile(modulesFile, text);
    log(`${modulesFile}: added ${added.join(', ')}`);
  }
  for (const kernel of inspection.kernels.filter((k) => k.hasVirtio)) {
    const version = kernel.version;
    const image = `/boot/initrd.img-${version}`;
    if (!(await g.exists(image))) continue;
    const outcome = await extendInitramfsTools({ g, tmpdir, version, image, modules: VIRTIO_MODULES, pinFiles });
    if (outcome.status === 'current') {
      log(`${image} already holds the virtio drivers${pinFiles.length > 0 ? ' and the network name pins' : ''}: unchanged`);
      continue;
    }
    if (outcome.status === 'extended') {
      const what = [...(outcome.modules.length > 0 ? [outcome.modules.join(', ')] : []), ...outcome.pins];
      log(`${image}: added ${what.join(', ')} to the image directly (${INITRAMFS_FAST_PATH}, update-initramfs not run)`);
      continue;
    }
    log(`${image}: ${outcome.reason}: rebuilding it with update-initramfs instead (slow under TCG)`);
    await g.sh(`${GUEST_SH} update-initramfs -u -k ${version}`);
    const missing = await missingFromInitramfs(g, version);
    if (missing.length > 0) {
      throw new ConversionError(
        `The rebuilt initramfs of kernel ${version} still lacks ${missing.join(', ')}: check /etc/initramfs-tools in the guest.`,
      );
    }
  }
}

/**
 * Brings /boot/grub/grub.cfg in line with /etc/default/grub by editing it in
 * place: the serial console on every kernel line (as grub-mkconfig puts
 * GRUB_CMDLINE_LINUX on normal and recovery entries alike), then renamed
 * devices. update-grub would write the same kernel lines, but it costs ~20 s
 * of emulated CPU under TCG and re-probes the disks from inside the
 * appliance; it runs only when grub.cfg has no kernel line to edit.
 */
async function updateGrubConfig(input: ConvertInput, map: DeviceMap, serialConsole: boolean): Promise<void> {
  const { g, log, warn } = input;
  const path = '/boot/grub/grub.cfg';
  if (!(await g.exists(path))) {
    warn(`no ${path} found: the bootloader was not updated`);
    return;
  }
  const before = await g.readFile(path);
  const { text, changed, entries } = ensureGrubCfgLinuxArg(before, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE);
  if (entries === 0) {
    if (await g.exists('/usr/sbin/update-grub')) {
      log(`${path} has no kernel entry to edit: regenerating it with update-grub`);
      await g.sh(`${GUEST_SH} update-grub 2>&1`);
    } else {
      warn(`${path} has no kernel entry and the guest has no update-grub: the bootloader was not updated`);
    }
  } else if (serialConsole && changed > 0) {
    await g.writeFile(path, text);
    log(`${path}: serial console added to ${changed} of ${entries} kernel entries`);
  }
  // grub-mkconfig writes root=/dev/sdX when UUIDs are disabled; rename it.
  await remapGuestFile(input.g, path, map, input);
}
