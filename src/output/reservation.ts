/**
 * Output names a run owns. Every file a run will write in the target is
 * created empty, exclusively (O_CREAT|O_EXCL, which never follows a symlink),
 * in preflight: a second run with the same names fails there instead of
 * writing into, or later deleting, the first run's files. Files are then
 * only ever replaced by renaming a file this run created over a file this run
 * created, and removed only while they are still the very file (device and
 * inode) this run created: nothing of anyone else's is replaced or deleted.
 *
 * Each created file stays open until the run is done with it: an inode held
 * open is never reused, so a file someone put in place of ours (rm, then
 * create) cannot have our inode number and pass for ours (measured: without
 * the open descriptor, ext4 hands the freed number to the next file created).
 */
import { constants } from 'node:fs';
import { lstat, open, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { CopyError, PreflightError } from '../errors.js';
import type { TargetDisk } from '../model.js';

/** A file this run created, held open so its identity (device, inode) stays unique. */
interface OwnedFile {
  dev: number;
  ino: number;
  handle: FileHandle;
}

const CREATE_EXCLUSIVE = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

/** Creates an empty file at `path` that did not exist (not even as a dangling symlink); returns it, open. */
export async function createExclusive(path: string, mode: number): Promise<OwnedFile> {
  const handle = await open(path, CREATE_EXCLUSIVE, mode);
  try {
    const { dev, ino } = await handle.stat();
    return { dev, ino, handle };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** True when `path` is (still) the file `id`, without following a symlink. */
async function isFile(path: string, id: OwnedFile): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  return info !== undefined && info.dev === id.dev && info.ino === id.ino;
}

/** The files of the target this run created, by path. */
export class OutputReservation {
  private readonly owned = new Map<string, OwnedFile>();
  /** Files renamed over (this run's placeholders), kept open until the end like the others. */
  private readonly replaced: OwnedFile[] = [];
  private closed = false;

  /**
   * Creates every path empty and exclusively, in order; on the first that
   * exists, removes the ones just created and throws a PreflightError saying
   * what to do (`explain` gives the sentence for a path that exists).
   */
  async reserve(paths: string[], mode: number, explain: (path: string) => string): Promise<void> {
    for (const path of paths) {
      try {
        this.owned.set(path, await createExclusive(path, mode));
      } catch (error) {
        await this.discard();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ELOOP') throw new PreflightError(explain(path), { cause: error });
        throw new PreflightError(`Cannot create ${path} (${(error as Error).message}): fix the output directory or pass another "-os".`, {
          cause: error,
        });
      }
    }
  }

  /** True when this run created `path` and it is still there, unchanged in identity. */
  async owns(path: string): Promise<boolean> {
    const id = this.owned.get(path);
    return id !== undefined && isFile(path, id);
  }

  /**
   * Gives the file at `from` the name `to` (both this run's): the rename
   * replaces only this run's own placeholder. Refuses (CopyError) when
   * either is no longer the file this run created.
   */
  async replace(from: string, to: string): Promise<void> {
    const fromId = this.owned.get(from)!;
    for (const path of [from, to]) {
      if (!(await this.owns(path))) {
        throw new CopyError(
          `${path} is no longer the file this run reserved (another program replaced or removed it): v2v left it alone and removed its own files; make sure nothing else writes there, then run again.`,
        );
      }
    }
    await rename(from, to);
    this.replaced.push(this.owned.get(to)!);
    this.owned.delete(from);
    this.owned.set(to, fromId);
  }

  /**
   * Renames `file` (not this run's reservation: a file made elsewhere, e.g. a
   * warm migration's committed pre-copy) over `path`, which this run
   * reserved, and owns it from then on: a failure later removes it like a
   * copy. Refuses (CopyError) when `path` is no longer this run's.
   */
  async adopt(file: string, path: string): Promise<void> {
    if (!(await this.owns(path))) {
      throw new CopyError(
        `${path} is no longer the file this run reserved (another program replaced or removed it): v2v left it alone and removed its own files; make sure nothing else writes there, then run again.`,
      );
    }
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { dev, ino } = await handle.stat();
      await rename(file, path);
      this.replaced.push(this.owned.get(path)!);
      this.owned.set(path, { dev, ino, handle });
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Writes `text` as the content of `path`, which this run reserved, so a
   * reader never sees half a file: into `path.partial` (created exclusively),
   * then renamed over the reservation.
   */
  async writeFile(path: string, text: string, mode: number): Promise<void> {
    if (this.closed) throw new Error(`internal: ${path} written after the reservation was closed`);
    const partial = `${path}.partial`;
    this.owned.set(partial, await createExclusive(partial, mode));
    try {
      await writeFile(partial, text);
      await this.replace(partial, path);
    } catch (error) {
      await this.remove(partial);
      throw error;
    }
  }

  /** Removes `path` if it is still the file this run created; never anything else. */
  private async remove(path: string): Promise<void> {
    const id = this.owned.get(path);
    this.owned.delete(path);
    if (id === undefined) return;
    if (await isFile(path, id)) await unlink(path);
    if (!this.closed) await id.handle.close();
  }

  /** Removes every file this run created that is still there and still its own; run on failure. */
  async discard(): Promise<void> {
    for (const path of [...this.owned.keys()].reverse()) await this.remove(path);
    await this.close();
  }

  /**
   * Closes the files once the output is complete. Their identities are kept:
   * a run failing after this (interrupted at the very end) still removes
   * its own output.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.owned.values(), ...this.replaced.splice(0)].map((f) => f.handle.close()));
  }
}

/** Where a target disk's bytes are until the output stage renames them into place: its copy name, else its final path. */
export function copiedPath(target: Pick<TargetDisk, 'path' | 'partialPath'>): string {
  return target.partialPath ?? target.path;
}
