/**
 * Free-space checks for the host: target storage and the temporary directory.
 */
import { statfs } from 'node:fs/promises';
import { PreflightError } from '../errors.js';

/** Bytes available to an unprivileged writer in the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/** Formats bytes for messages: 1.5 GiB, 200.0 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Margin on a sparse target's estimate: filesystem metadata and extent rounding. */
export const SPARSE_MARGIN = 0.05;

/**
 * The format to ask `qemu-img measure` about for a target. For sparse raw
 * it is qcow2: measure -O raw answers the full virtual size (raw has no
 * allocation map), while a sparse raw file allocates what qcow2's `required`
 * counts, the guest's data clusters (measured: 10 MiB written in a 1 GiB
 * image → raw 1 GiB, qcow2 10.4 MiB).
 */
export function measureFormat(format: 'raw' | 'qcow2', allocation: 'sparse' | 'preallocated'): 'raw' | 'qcow2' {
  return format === 'raw' && allocation === 'sparse' ? 'qcow2' : format;
}

/** Bytes a target needs: sparse what measure says will be allocated plus a margin; preallocated all of it. */
export function targetBytesNeeded(m: { required: number; fullyAllocated: number }, allocation: 'sparse' | 'preallocated'): number {
  return allocation === 'preallocated' ? m.fullyAllocated : Math.ceil(m.required * (1 + SPARSE_MARGIN));
}

/** Throws PreflightError when `dir` has less than `needed` bytes free. */
export async function checkFreeSpace(dir: string, needed: number, what: string, fix: string): Promise<void> {
  const free = await freeBytes(dir);
  if (free < needed) {
    throw new PreflightError(`Not enough space for ${what} in ${dir}: ${formatBytes(needed)} needed, ${formatBytes(free)} free; ${fix}.`);
  }
}
