/**
 * What the local-file inputs share: the errno of a failed file access, and
 * the check that every disk the metadata names can be read.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { SourceError } from '../errors.js';
import type { SourceDisk } from '../model.js';

/** The errno code of a failed fs call ("ENOENT"), or the error as text. */
export function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

/** Throws SourceError, worded by `message(disk, errno)`, for the first disk that cannot be read. */
export async function checkDisksReadable(disks: SourceDisk[], message: (disk: SourceDisk, errno: string) => string): Promise<void> {
  for (const disk of disks) {
    try {
      await access(disk.path, constants.R_OK);
    } catch (error) {
      throw new SourceError(message(disk, errnoCode(error)));
    }
  }
}
