/**
 * `-o null`: the whole conversion runs and every disk is really copied, but
 * into qemu's `null-co` block driver, which discards what is written. For
 * tests and benchmarks: it exercises the copy without needing target space.
 *
 * Measured with qemu-img 7.2: `null-co` cannot be created ("does not support
 * image creation"; a `json:` target even gives "Unknown protocol 'json'"),
 * so the copy must use `qemu-img convert -n` (target exists), and then
 * `-o ...` creation options are an error and `-O` must be raw. A bare
 * `null-co://` is 1 GiB and refuses bigger sources ("output file is smaller
 * than input file"), so the size is given in a `json:` filename.
 * `/dev/null` does not work either ("Cannot grow device files") — and a
 * cleanup removing a failed target must never be pointed at it.
 */
import { type TargetDisk, driveLetters } from '../model.js';
import type { Output } from './types.js';

/** A target disk whose copy lands in the null sink: `existing` tells the copy to use `qemu-img convert -n`. */
export interface NullTargetDisk extends TargetDisk {
  /** The target exists already: copy with `-n`, never create, preallocate or remove it. */
  existing: true;
}

/** The qemu `json:` filename of a raw null-co sink of `size` bytes. Pure. */
export function nullSinkPath(size: number): string {
  return `json:${JSON.stringify({ driver: 'raw', file: { driver: 'null-co', size } })}`;
}

/** The null output module: converts and copies, keeps nothing. */
export function nullOutput(): Output {
  return {
    describe: 'null (converted disks are discarded)',

    planDisks(_name, overlays): NullTargetDisk[] {
      return overlays.map((overlay, index) => ({
        overlay: overlay.path,
        path: nullSinkPath(overlay.virtualSize),
        format: 'raw',
        virtualSize: overlay.virtualSize,
        dev: `vd${driveLetters(index)}`,
        existing: true,
      }));
    },

    // Nothing is stored: no name can collide and no space is needed.
    async preflight() {},

    finish() {
      return Promise.resolve([]);
    },
  };
}
