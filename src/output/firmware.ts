/**
 * Which firmware the converted guest must boot with. The source metadata
 * says what the hypervisor used; inspection also says UEFI when it found an
 * EFI system partition mounted at /boot/efi. `-i disk` has no metadata and
 * always says BIOS, so the outputs must not trust the source alone.
 */
import type { Firmware, Inspection, Source } from '../model.js';

/** UEFI when the source metadata or the inspected guest needs it, else BIOS. Pure. */
export function bootFirmware(source: Pick<Source, 'firmware'>, inspection?: Pick<Inspection, 'firmware'>): Firmware {
  return source.firmware === 'uefi' || inspection?.firmware === 'uefi' ? 'uefi' : 'bios';
}
