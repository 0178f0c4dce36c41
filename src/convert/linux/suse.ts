/**
 * Conversion of SUSE guests (SLES, openSUSE): the RPM-family converter with
 * SUSE's profile. What differs from RHEL, and where it is handled:
 * - initramfs: SLES 12+ and Leap 15 rebuild it with dracut (their mkinitrd
 *   is a wrapper around it), so dracut is preferred; mkinitrd's own options
 *   are used only where there is no dracut (SLES 11). The profile below.
 * - grub2 always reads /boot/grub2/grub.cfg, UEFI included (the ESP holds a
 *   stub): `grub2-mkconfig -o /boot/grub2/grub.cfg`. The profile below.
 * - no grubby and no BLS entries on SLES 15 / Leap 15; GRUB_DEFAULT=saved:
 *   the chosen kernel is made the default with grub2-set-default and its
 *   entry in grub.cfg (rhel.ts setDefaultKernel, which looks, not assumes).
 * - SELinux is off by default (AppArmor): the relabel is requested only when
 *   /etc/selinux/config enables it, as for every RPM guest.
 * - open-vm-tools' library is a package of its own, libvmtools0, removed
 *   with it (RPM_HYPERVISOR_TOOLS).
 * /etc/sysconfig/kernel (INITRD_MODULES) is not edited: only SLES 11's
 * mkinitrd read it; dracut takes the drivers on its command line.
 */
import type { ConvertInput, ConvertResult } from '../convert-input.js';
import { convertRpmGuest, type RpmFamilyProfile } from './rhel.js';

/** SLES, openSUSE. */
export const SUSE_PROFILE: RpmFamilyProfile = { name: 'SUSE', mkinitrdFallback: true, efiGrubConfig: false };

/** Converts a mounted SUSE guest. */
export function convertSuse(input: ConvertInput): Promise<ConvertResult> {
  return convertRpmGuest(input, SUSE_PROFILE);
}
