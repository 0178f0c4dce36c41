/**
 * Conversion of SUSE guests (SLES, openSUSE): the RPM-family converter with
 * SUSE's differences (mkinitrd on releases without dracut; grub2 always reads
 * /boot/grub2/grub.cfg, UEFI included).
 */
import type { GuestCaps } from '../model.js';
import type { ConvertInput } from './debian.js';
import { convertRpmGuest, type RpmFamilyProfile } from './rhel.js';

/** SLES, openSUSE. */
export const SUSE_PROFILE: RpmFamilyProfile = { name: 'SUSE', mkinitrdFallback: true, efiGrubConfig: false };

/** Converts a mounted SUSE guest. */
export function convertSuse(input: ConvertInput): Promise<Omit<GuestCaps, 'domainType'>> {
  return convertRpmGuest(input, SUSE_PROFILE);
}
