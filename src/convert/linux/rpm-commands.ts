/**
 * Commands run inside RPM-based guests (RHEL family, SUSE), built as argv by
 * pure functions so tests can assert them exactly. The converter runs them
 * with `shellLine` through libguestfs' `sh` (the guest's own /bin/sh, chrooted).
 */

/** Drivers put in every initramfs so the guest finds its disks and NICs on KVM. */
export const INITRAMFS_VIRTIO_DRIVERS = ['virtio_blk', 'virtio_pci', 'virtio_scsi', 'virtio_net'];

/**
 * Packages of other hypervisors that must go, as RPM names: open-vm-tools
 * (and -desktop, -sdmp...), SUSE's libvmtools0 (open-vm-tools' library, a
 * package of its own there), VMware's own VMwareTools / vmware-tools-*, Xen
 * and VirtualBox guest tools.
 */
export const RPM_HYPERVISOR_TOOLS =
  /^(open-vm-tools(-[a-z]+)*|libvmtools0|VMwareTools|vmware-tools(-.+)?|xe-guest-utilities(-xenstore)?|VirtualBox-guest-additions|virtualbox-guest-(additions|tools|x11|kmp-.+))$/;

/** `rpm -e PKG...`: erases packages (their scriptlets see a chroot and skip services). */
export function rpmEraseArgv(packages: string[]): string[] {
  return ['rpm', '-e', ...packages];
}

/** `rpm -qa --qf '%{NAME}\n'`: the names of all installed packages, one a line. */
export function rpmListAllArgv(): string[] {
  return ['rpm', '-qa', '--qf', '%{NAME}\\n'];
}

/** `rpm -q --qf '%{NAME}\n' PKG...`: prints the names of those still installed. */
export function rpmQueryArgv(packages: string[]): string[] {
  return ['rpm', '-q', '--qf', '%{NAME}\\n', ...packages];
}

/**
 * `dracut -f --add-drivers "virtio_blk ..." [--install "FILE..."] --kver V`:
 * rebuilds one kernel's initramfs at its default path; `install` adds guest
 * files at the same path (the network pins: the initramfs' udev names NICs too).
 */
export function dracutArgv(kernelVersion: string, install: string[] = []): string[] {
  return [
    'dracut',
    '-f',
    '--add-drivers',
    INITRAMFS_VIRTIO_DRIVERS.join(' '),
    ...(install.length > 0 ? ['--install', install.join(' ')] : []),
    '--kver',
    kernelVersion,
  ];
}

/** Old SUSE without dracut: `mkinitrd -k /boot/vmlinuz-V -i /boot/initrd-V -m "virtio_blk ..."`. */
export function mkinitrdArgv(kernelVersion: string): string[] {
  return [
    'mkinitrd',
    '-k',
    `/boot/vmlinuz-${kernelVersion}`,
    '-i',
    `/boot/initrd-${kernelVersion}`,
    '-m',
    INITRAMFS_VIRTIO_DRIVERS.join(' '),
  ];
}

/** `grub2-mkconfig -o PATH`. */
export function grub2MkconfigArgv(configPath: string): string[] {
  return ['grub2-mkconfig', '-o', configPath];
}

/** `grubby --set-default /boot/vmlinuz-V`: makes that kernel the default (RHEL 7+, Fedora; BLS or not). */
export function grubbySetDefaultArgv(kernelVersion: string): string[] {
  return ['grubby', '--set-default', `/boot/vmlinuz-${kernelVersion}`];
}

/** `grub2-set-default ENTRY`: writes saved_entry to grubenv (used when GRUB_DEFAULT=saved). */
export function grub2SetDefaultArgv(entry: string): string[] {
  return ['grub2-set-default', entry];
}

/** The grub.cfg BIOS grub2 reads on RHEL, Fedora and SUSE. */
export const BIOS_GRUB2_CFG = '/boot/grub2/grub.cfg';

/**
 * Which grub.cfg grub2-mkconfig must write. BIOS: /boot/grub2/grub.cfg. UEFI:
 * the ESP's /boot/efi/EFI/VENDOR/grub.cfg, unless it is the small stub that
 * RHEL 9 / Fedora 34+ put there (it only `configfile`s /boot/grub2/grub.cfg,
 * and overwriting it with a full config would be wrong): then the stub's
 * target. `efiConfigs` are the ESP's grub.cfg files with their text.
 */
export function grubConfigTarget(firmware: 'bios' | 'uefi', efiConfigs: Array<{ path: string; text: string }>): string {
  if (firmware === 'bios') return BIOS_GRUB2_CFG;
  const full = efiConfigs.find((c) => !/^\s*configfile\s/m.test(c.text));
  return full?.path ?? BIOS_GRUB2_CFG;
}
