/**
 * Free-space checks for the host: target storage and the temporary directory.
 */
import { statfs } from 'node:fs/promises';
import { PreflightError } from './errors.js';

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

/** Throws PreflightError when `dir` has less than `needed` bytes free. */
export async function checkFreeSpace(dir: string, needed: number, what: string, fix: string): Promise<void> {
  const free = await freeBytes(dir);
  if (free < needed) {
    throw new PreflightError(
      `Not enough space for ${what} in ${dir}: ${formatBytes(needed)} needed, ${formatBytes(free)} free; ${fix}.`,
    );
  }
}
