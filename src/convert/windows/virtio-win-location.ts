/**
 * Where the virtio-win drivers for Windows guests come from: `--virtio-win
 * PATH`, else the `VIRTIO_WIN` environment variable (as virt-v2v), else
 * /usr/share/virtio-win when it exists. Checked in preflight, before the
 * appliance starts: a given path that is neither a directory nor an .iso
 * file is an error; no path at all is not (the Windows converter then falls
 * back to emulated devices and says so).
 */
import { lstat, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PreflightError } from '../../errors.js';
import { containedPath, walkTree } from '../../host/local-files.js';

/** The default virtio-win location of the Fedora/RHEL virtio-win package. */
export const DEFAULT_VIRTIO_WIN = '/usr/share/virtio-win';

/** A checked virtio-win location. */
export interface VirtioWinLocation {
  kind: 'dir' | 'iso';
  path: string;
  /** Which setting named it, for messages. */
  origin: '--virtio-win' | 'VIRTIO_WIN' | 'default';
}

/** The path to check and where it came from; undefined when nothing names one (and the default is tested by the caller). */
export function virtioWinCandidate(
  option: string | undefined,
  env: NodeJS.ProcessEnv,
): { path: string; origin: VirtioWinLocation['origin'] } {
  if (option !== undefined) return { path: option, origin: '--virtio-win' };
  const fromEnv = env['VIRTIO_WIN'];
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolve(fromEnv), origin: 'VIRTIO_WIN' };
  return { path: DEFAULT_VIRTIO_WIN, origin: 'default' };
}

/**
 * Checks the virtio-win location. Returns undefined when only the default
 * was tried and it does not exist; throws PreflightError when a named path
 * is missing or is neither a directory nor an .iso file.
 */
export async function locateVirtioWin(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<VirtioWinLocation | undefined> {
  const { path, origin } = virtioWinCandidate(option, env);
  const named = origin === '--virtio-win' ? `--virtio-win ${path}` : origin === 'VIRTIO_WIN' ? `VIRTIO_WIN=${path}` : path;
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    if (origin === 'default') return undefined;
    throw new PreflightError(
      `${named} does not exist: pass the virtio-win directory or ISO (e.g. virtio-win.iso from https://fedorapeople.org/groups/virt/virtio-win/).`,
    );
  }
  if (info.isDirectory()) return { kind: 'dir', path, origin };
  if (info.isFile() && /\.iso$/i.test(path)) return { kind: 'iso', path, origin };
  throw new PreflightError(`${named} is neither a directory nor an .iso file: pass the virtio-win directory or the virtio-win ISO.`);
}

/**
 * The regular files of a virtio-win directory, relative to it. Only its real
 * directories are walked: a symlinked directory is never entered (it could
 * lead out of the tree, to "/", or loop). A symlinked file is listed only
 * when it resolves to a regular file inside the tree (the virtio-win
 * package links drivers to one another); one pointing out of it, or
 * dangling, is left out.
 */
export async function driverTreeFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await walkTree(root, `the virtio-win directory ${root}`, 'pass the virtio-win ISO or a directory laid out like it')) {
    if (entry.isDirectory) continue;
    const path = join(root, entry.name);
    const st = await lstat(path);
    if (st.isFile()) files.push(entry.name);
    else if (st.isSymbolicLink() && (await linksToFileInside(root, path))) files.push(entry.name);
  }
  return files;
}

/** Whether the symlink `path` resolves to a regular file inside `root`. */
async function linksToFileInside(root: string, path: string): Promise<boolean> {
  try {
    const { real, inside } = await containedPath(root, path);
    return inside && (await stat(real)).isFile();
  } catch {
    return false; // dangling, or a loop of links
  }
}
