/**
 * What the directory outputs (-o local, qemu, json) share: disk naming,
 * the preflight checks of the directory, atomic metadata writes.
 */
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { Overlay } from '../context.js';
import { checkFreeSpace } from '../disk-space.js';
import { PreflightError } from '../errors.js';
import type { OutputFormat, TargetDisk } from '../model.js';
import { driveLetters } from './index.js';
import type { NetworkMapping } from './networks.js';

/** Options of the directory-based outputs (-o json, -o qemu). */
export interface DirectoryOutputOptions {
  /** The output directory (-os), absolute. */
  storage: string;
  format: OutputFormat;
  allocation: 'sparse' | 'preallocated';
  networkMapping?: NetworkMapping;
}

/** Target disks `DIR/NAME-sdX`, as -o local names them. */
export function planDirectoryDisks(dir: string, name: string, overlays: Overlay[], format: OutputFormat): TargetDisk[] {
  return overlays.map((overlay, index) => ({
    overlay: overlay.path,
    path: join(dir, `${name}-sd${driveLetters(index)}`),
    format,
    virtualSize: overlay.virtualSize,
    dev: `vd${driveLetters(index)}`,
  }));
}

/** Checks an output directory: it exists and is writable, none of `paths` exists, and `bytesNeeded` are free. */
export async function checkOutputDirectory(dir: string, paths: string[], bytesNeeded: number, name: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new PreflightError(`The output directory ${dir} does not exist: create it or pass another "-os DIR".`);
  }
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new PreflightError(`The output directory ${dir} is not writable: fix its permissions or pass another "-os DIR".`);
  }
  for (const path of paths) {
    if (await stat(path).catch(() => undefined)) {
      throw new PreflightError(`${path} already exists: remove it, or choose another guest name with "-on NAME".`);
    }
  }
  await checkFreeSpace(dir, bytesNeeded, `the converted disks of ${name}`, 'free some space or pass another "-os DIR"');
}

/** Writes `text` to `path` through `path.partial` and a rename, so a reader never sees half a file; never overwrites. */
export async function writeFileAtomically(path: string, text: string, mode = 0o644): Promise<void> {
  const partial = `${path}.partial`;
  try {
    await writeFile(partial, text, { flag: 'wx', mode });
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

