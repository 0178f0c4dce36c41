/**
 * Hard limits on what a source may ask for, checked in the source stage so
 * that a VM the output cannot express fails before any overlay is made or
 * any byte copied (not with an internal error after the copy):
 * - disks and NICs: each becomes a PCIe device of the q35 guest, behind its
 *   own root port; libvirt places root ports on the 31 free slots × 8
 *   functions of pcie.0, about 240 in all, so 128 disks and 32 NICs (with
 *   the dozen other devices) always fit. VMware's own maximum is 10 NICs.
 * - vCPUs: 255, the most QEMU's pc machine type starts (q35 takes 288).
 * - memory: 24 TiB, VMware's own maximum, so no real VMware VM is refused.
 * - CD-ROMs: the output gives each source CD-ROM an empty drive, on IDE
 *   with the pc machine type, which has 4 places; drives beyond 4 are not
 *   created (a warning says so), as there is no medium to lose.
 */
import { SourceError } from '../errors.js';
import type { Source } from '../model.js';

export const SOURCE_LIMITS = { disks: 128, nics: 32, vcpus: 255, memoryMiB: 24 * 2 ** 20, cdroms: 4 } as const;

/** Throws SourceError for a source beyond a hard limit; drops CD-ROMs beyond the limit with a warning. */
export function checkSourceLimits(source: Source, describe: string): void {
  const over = (what: string, count: number, limit: number, fix: string): SourceError =>
    new SourceError(`${describe} has ${count} ${what}, more than the ${limit} v2v can give a KVM guest: ${fix}.`);
  if (source.disks.length > SOURCE_LIMITS.disks) {
    throw over(
      'disks',
      source.disks.length,
      SOURCE_LIMITS.disks,
      'convert the disks in groups (remove some from the source), or check the source is not corrupt',
    );
  }
  if (source.nics.length > SOURCE_LIMITS.nics) {
    throw over('network adapters', source.nics.length, SOURCE_LIMITS.nics, 'remove adapters from the source, or check it is not corrupt');
  }
  if (source.vcpus > SOURCE_LIMITS.vcpus) {
    throw over('vCPUs', source.vcpus, SOURCE_LIMITS.vcpus, 'lower the vCPU count of the source (numvcpus), or check it is not corrupt');
  }
  if (source.memoryMiB > SOURCE_LIMITS.memoryMiB) {
    throw over(
      'MiB of memory',
      source.memoryMiB,
      SOURCE_LIMITS.memoryMiB,
      'lower the memory size of the source (memSize, in MiB), or check it is not corrupt',
    );
  }
  const cdroms = source.removables.filter((r) => r.kind === 'cdrom');
  if (cdroms.length > SOURCE_LIMITS.cdroms) {
    const dropped = new Set(cdroms.slice(SOURCE_LIMITS.cdroms));
    source.removables = source.removables.filter((r) => !dropped.has(r));
    source.warnings.push(
      `${describe} has ${cdroms.length} CD-ROM drives; the converted guest gets the first ${SOURCE_LIMITS.cdroms} (empty, as every converted CD-ROM), the others are not created`,
    );
  }
}
