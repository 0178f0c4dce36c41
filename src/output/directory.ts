/**
 * What the directory outputs (-o local, qemu, json, and libvirt's pool
 * directory) share: disk naming, the preflight checks of the directory, the
 * reservation of every name a run writes (see reservation.ts), and the
 * final renames.
 */
import { access, lstat, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { checkFreeSpace } from '../host/disk-space.js';
import { PreflightError } from '../errors.js';
import { type OutputFormat, type TargetDisk, type Overlay, driveLetters } from '../model.js';
import type { NetworkMapping } from './networks.js';
import type { OutputReservation } from './reservation.js';

/** Options of the directory-based outputs (-o json, -o qemu). */
export interface DirectoryOutputOptions {
  /** The output directory (-os), absolute. */
  storage: string;
  format: OutputFormat;
  allocation: 'sparse' | 'preallocated';
  networkMapping?: NetworkMapping;
}

/** Mode of the disk files a run creates (before the umask), as qemu-img creates them. */
export const DISK_MODE = 0o644;

/** Suffix of a disk while it is being copied: a file with it is not a finished disk. */
export const PARTIAL_SUFFIX = '.v2v-partial';

/** Target disks `DIR/NAME-sdX`, copied into `DIR/NAME-sdX.v2v-partial` first. */
export function planDirectoryDisks(dir: string, name: string, overlays: Overlay[], format: OutputFormat): TargetDisk[] {
  return overlays.map((overlay, index) => {
    const path = join(dir, `${name}-sd${driveLetters(index)}`);
    return {
      overlay: overlay.path,
      path,
      partialPath: `${path}${PARTIAL_SUFFIX}`,
      format,
      virtualSize: overlay.virtualSize,
      dev: `vd${driveLetters(index)}`,
    };
  });
}

/** Every file name a disk uses: its final name and the name it is copied under. */
export function diskPaths(targets: TargetDisk[]): string[] {
  return targets.flatMap((t) => (t.partialPath ? [t.path, t.partialPath] : [t.path]));
}

/** The sentence for an output name that exists already. */
export function nameTaken(path: string): string {
  if (path.endsWith(PARTIAL_SUFFIX)) {
    return `${path} exists: a v2v run is writing it, or one was killed while copying it; once no run writes there, remove it, or choose another guest name with "-on NAME".`;
  }
  return `${path} already exists: remove it, or choose another guest name with "-on NAME".`;
}

/** What {@link checkOutputDirectory} takes the run's lock with (see OutputReservation.lock). */
export interface LockRequest {
  reservation: OutputReservation;
  /** Told what a killed run left and was removed. */
  notify: (message: string) => void;
}

/**
 * Checks an output directory: it is a directory and writable; then takes the
 * run's lock on `name` there (clearing a killed run's leftovers) when given
 * one; then none of `paths` exists (a symlink, even a dangling one, counts),
 * and `bytesNeeded` are free.
 */
export async function checkOutputDirectory(
  dir: string,
  paths: string[],
  bytesNeeded: number,
  name: string,
  lock?: LockRequest,
): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined) {
    throw new PreflightError(`The output directory ${dir} does not exist: create it or pass another "-os DIR".`);
  }
  if (!info.isDirectory()) {
    throw new PreflightError(`The output path ${dir} is not a directory: pass a directory with "-os DIR".`);
  }
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new PreflightError(`The output directory ${dir} is not writable: fix its permissions or pass another "-os DIR".`);
  }
  await lock?.reservation.lock(dir, name, lock.notify);
  try {
    await checkNames(paths);
    await checkFreeSpace(dir, bytesNeeded, `the converted disks of ${name}`, 'free some space or pass another "-os DIR"');
  } catch (error) {
    await lock?.reservation.discard(); // gives the lock back
    throw error;
  }
}

/** Refuses any of `paths` that exists (a symlink, even a dangling one, counts). */
async function checkNames(paths: string[]): Promise<void> {
  // A copy name first: what a killed run leaves is best explained by its own sentence.
  const ordered = [...paths.filter((p) => p.endsWith(PARTIAL_SUFFIX)), ...paths.filter((p) => !p.endsWith(PARTIAL_SUFFIX))];
  for (const path of ordered) {
    const existing = await lstat(path).catch(() => undefined);
    if (existing?.isSymbolicLink()) {
      throw new PreflightError(
        `${path} is a symbolic link, and v2v never writes through one: remove it, or choose another guest name with "-on NAME".`,
      );
    }
    if (existing) throw new PreflightError(nameTaken(path));
  }
}

/** Reserves every disk name of `targets` and the metadata files (created empty, exclusively); see reservation.ts. */
export async function reserveOutputFiles(reservation: OutputReservation, targets: TargetDisk[], metadata: string[]): Promise<void> {
  await reservation.reserve([...metadata, ...diskPaths(targets)], DISK_MODE, nameTaken);
}

/** Gives every copied disk its final name (replacing this run's own empty placeholder). */
export async function finishDisks(reservation: OutputReservation, targets: TargetDisk[]): Promise<void> {
  for (const target of targets) {
    if (target.partialPath) await reservation.replace(target.partialPath, target.path);
  }
}
