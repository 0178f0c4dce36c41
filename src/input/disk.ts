/**
 * `-i disk IMG...`: bare disk images with no metadata. Everything the images
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
import type { RemoteOptions } from '../remote/options.js';
import { isRemoteSource } from '../remote/url.js';
import { checkDisksReadable } from '../host/local-files.js';
import type { Input } from './index.js';
import { remoteDiskInput } from './remote.js';

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

/** The disk input module for local images (or https:// ones given their options), optionally of a known format (`-if`). */
export function diskInput(paths: string[], format?: string, remote?: RemoteOptions): Input {
  if (remote !== undefined && paths.every(isRemoteSource)) return remoteDiskInput(paths, remote, format);
  const absolute = paths.map((p) => path.resolve(p));
  return {
    describe: absolute.length === 1 ? `disk image ${absolute[0]}` : `${absolute.length} disk images`,
    async load(run) {
      const source = diskSource(absolute, format, run.warnings);
      await checkDisksReadable(source.disks, (disk, problem) => `The disk image ${disk.path} ${problem}: check the path and permissions.`, { allowBlock: true });
      return source;
    },
  };
}
