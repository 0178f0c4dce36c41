/**
 * How the local-file inputs touch the files a source names, so that a
 * hostile or broken source cannot make v2v read anything else or hang:
 * - every file is opened with O_NONBLOCK and checked with fstat before any
 *   read: a FIFO, socket or device where a file is expected is refused
 *   (opening a FIFO this way does not wait for a writer);
 * - metadata (.vmx, .ovf, .mf, domain XML) is read into memory only below a
 *   size limit, and must be text (no disk image or archive given by mistake);
 * - {@link containedPath}: a file a source names must resolve (realpath,
 *   every component) inside the source's own directory.
 */
import { constants, type Stats } from 'node:fs';
import { open, readdir, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../errors.js';
import type { SourceDisk } from '../model.js';
import { notText } from '../text/not-text.js';
import { safeText } from '../text/safe-text.js';

/** Largest metadata files v2v reads into memory, in bytes (real ones are a few KiB to a few hundred KiB). */
export const METADATA_MAX_BYTES = {
  vmx: 4 * 2 ** 20,
  ovf: 32 * 2 ** 20,
  manifest: 4 * 2 ** 20,
  libvirtXml: 16 * 2 ** 20,
} as const;

/** The errno code of a failed fs call ("ENOENT"), or the error as text. */
export function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

/** What kind of file `st` is, for messages: "a FIFO", "a directory"... */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** Thrown by {@link openChecked} for a file that opened but is of the wrong kind; `kind` is {@link fileKind}'s word. */
export class WrongFileKind extends Error {
  constructor(readonly kind: string) {
    super(`is ${kind}`);
  }
}

/**
 * Opens `file` read-only without blocking (O_NONBLOCK: a FIFO opens at once)
 * and without following a final symlink when `noFollow`, then checks with
 * fstat that it is a regular file (or a block device when `allowBlock`).
 * Throws the fs error (ENOENT, ELOOP...) or {@link WrongFileKind}.
 */
export async function openChecked(
  file: string,
  options: { allowBlock?: boolean; noFollow?: boolean } = {},
): Promise<{ handle: FileHandle; stats: Stats }> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0);
  const handle = await open(file, flags);
  try {
    const stats = await handle.stat();
    if (!stats.isFile() && !(options.allowBlock && stats.isBlockDevice())) throw new WrongFileKind(fileKind(stats));
    return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads a metadata file (a regular file of at most `maxBytes`) as UTF-8.
 * `what` names it in messages ("the VMX file"); `fix` is what the user should
 * do when it cannot be opened.
 */
export async function readMetadataFile(
  file: string,
  what: string,
  maxBytes: number,
  fix = 'check the path and permissions',
): Promise<string> {
  let opened: Awaited<ReturnType<typeof openChecked>>;
  try {
    opened = await openChecked(file);
  } catch (error) {
    if (error instanceof WrongFileKind) {
      throw new SourceError(
        `${capitalize(what)} ${file} ${error.message}, not a regular file: pass the file itself (v2v reads no FIFOs, sockets or devices as metadata).`,
      );
    }
    throw new SourceError(`Cannot read ${what} ${file} (${errnoCode(error)}): ${fix}.`);
  }
  const { handle, stats } = opened;
  try {
    if (stats.size > maxBytes) {
      throw new SourceError(
        `${capitalize(what)} ${file} is ${stats.size} bytes, more than the ${maxBytes / 2 ** 20} MiB such a file can sensibly be: check that the path names the right file.`,
      );
    }
    // Read at most one byte more than allowed: a file that grew since fstat is refused too.
    const buffer = Buffer.alloc(Math.min(maxBytes, stats.size) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes)
        throw new SourceError(
          `${capitalize(what)} ${file} grew past ${maxBytes / 2 ** 20} MiB while being read: pass a file that is not being written.`,
        );
      if (length === buffer.length) break;
    }
    return metadataText(buffer.subarray(0, length), what, file);
  } finally {
    await handle.close();
  }
}

/**
 * The text of a metadata file (`what` at `file`, read here or from a remote
 * source) as UTF-8. Bytes that are not text (a NUL byte, or more than a few
 * invalid UTF-8 sequences: src/text/not-text.ts) are one SourceError saying
 * what the file looks like instead, before any line of it is parsed.
 */
export function metadataText(bytes: Buffer, what: string, file: string): string {
  const found = notText(bytes);
  if (found === undefined) return bytes.toString('utf8');
  const fix =
    found.fix === 'disk'
      ? 'pass the file that describes the VM (a bare disk image is converted with "-i disk IMAGE")'
      : found.fix === 'archive'
        ? 'pass an OVA with "-i ova FILE", and unpack any other archive first'
        : 'check that the path names the right file';
  throw new SourceError(
    `${capitalize(what)} ${file} is not a text file: it looks like ${found.kind} (it starts with "${safeText(bytes.subarray(0, 8))}"): ${fix}.`,
  );
}

/**
 * The real path of `file` (every component, symlinks followed) and whether
 * it lies inside the real path of `root`. A file that does not exist throws
 * its fs error.
 */
export async function containedPath(root: string, file: string): Promise<{ real: string; inside: boolean }> {
  const [realRoot, real] = await Promise.all([realpath(root), realpath(file)]);
  const rel = path.relative(realRoot, real);
  return { real, inside: rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel) };
}

/**
 * Throws SourceError, worded by `message(disk, problem)`, for the first disk
 * that cannot be opened or is not a regular file (or block device, with
 * `allowBlock`). `problem` completes "The disk X ...": "cannot be read
 * (ENOENT)" or "is a FIFO, not a disk image".
 */
export async function checkDisksReadable(
  disks: SourceDisk[],
  message: (disk: SourceDisk, problem: string) => string,
  options: { allowBlock?: boolean } = {},
): Promise<void> {
  for (const disk of disks) {
    try {
      const { handle } = await openChecked(disk.path, options);
      await handle.close();
    } catch (error) {
      throw new SourceError(
        message(disk, error instanceof WrongFileKind ? `is ${error.kind}, not a disk image` : `cannot be read (${errnoCode(error)})`),
      );
    }
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Most entries {@link walkTree} lists: an exported OVA holds a handful. */
export const WALK_MAX_ENTRIES = 10_000;

/**
 * Every entry under `dir` (relative paths, depth first), descending only
 * into real directories: a symlink is listed, never followed. (Node 20's
 * `readdir(dir, { recursive: true })` follows symlinks: a link to "/" or a
 * loop makes it walk the host or run out of memory.) Throws SourceError past
 * {@link WALK_MAX_ENTRIES} entries, naming `what` and `fix`.
 */
export async function walkTree(
  dir: string,
  what: string,
  fix = 'check that the path names an exported VM',
): Promise<Array<{ name: string; isDirectory: boolean }>> {
  const found: Array<{ name: string; isDirectory: boolean }> = [];
  const pending = [''];
  while (pending.length > 0) {
    const sub = pending.pop()!;
    for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      const name = sub === '' ? entry.name : path.join(sub, entry.name);
      found.push({ name, isDirectory: entry.isDirectory() });
      if (found.length > WALK_MAX_ENTRIES) {
        throw new SourceError(`${capitalize(what)} holds more than ${WALK_MAX_ENTRIES} files: ${fix}.`);
      }
      if (entry.isDirectory()) pending.push(name);
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
