/**
 * The source model of bare disk images (`-i disk`, and remote images). Everything the images
 * cannot tell is a documented default, like virt-v2v's -i disk:
 * - name: the first image's file name without its extension;
 * - 2048 MiB of memory (as virt-v2v) and 2 vCPUs (virt-v2v gives 1; 2 is a
 *   more useful minimum for a server, and costs nothing while idle);
 * - BIOS firmware (inspection switches to UEFI when it finds an EFI system
 *   partition);
 * - one NIC on network "default" with no fixed MAC, so the guest has
 *   networking (virt-v2v does the same);
 * - disks in argument order as SCSI controller 0 units 0, 1, ...: the source
 *   bus is unknown, and SCSI makes the guest's sdX names map to vdX in order.
 */
import path from 'node:path';
import { SourceError } from '../errors.js';
import type { Source } from '../model.js';

/** Memory given to a guest made from bare disk images, in MiB. */
export const DISK_INPUT_MEMORY_MIB = 2048;
/** vCPUs given to a guest made from bare disk images. */
export const DISK_INPUT_VCPUS = 2;

/** Builds the source model for bare images, with `warnings` as its warning list (pure: `paths` are taken as given). */
export function diskSource(paths: string[], format?: string, warnings: string[] = []): Source {
  const first = paths[0];
  if (first === undefined) {
    throw new SourceError('-i disk needs at least one disk image: pass the image files after the options.');
  }
  return {
    name: path.basename(first, path.extname(first)),
    memoryMiB: DISK_INPUT_MEMORY_MIB,
    vcpus: DISK_INPUT_VCPUS,
    firmware: 'bios',
    secureBoot: false,
    disks: paths.map((p, unit) => ({ path: p, ...(format && { format }), bus: 'scsi', controller: 0, unit })),
    removables: [],
    nics: [{ network: 'default' }],
    warnings,
  };
}
