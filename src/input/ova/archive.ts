/**
 * An OVA archive (tar, compressed tar or zip) extracted into the run's temp
 * dir, and what may come out of it: only regular files and directories (a
 * symlink, hard link, device or FIFO member is refused), every file named
 * resolving inside the OVA's directory; gzip-compressed disk files
 * decompressed with the space checked first.
 */
import { createWriteStream } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkFreeSpace } from '../../host/disk-space.js';
import { CommandError, PreflightError, SourceError } from '../../errors.js';
import { run, type Command } from '../../host/exec.js';
import { containedPath, errnoCode, fileKind, openChecked, walkTree, WrongFileKind } from '../../host/local-files.js';

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

/** Builds the command listing an archive's members with their sizes: `tar -tvf` (GNU tar's long listing), `unzip -Z -t` (zipinfo's totals line). */
export function listCommand(archive: string, kind: 'tar' | 'zip'): Command {
  if (kind === 'zip') return { program: 'unzip', args: ['-Z', '-t', archive] };
  return { program: 'tar', args: ['-tvf', archive] };
}

/**
 * The bytes an archive says its members take once extracted: the sum of
 * the sizes of `tar -tv` lines (exact: tar writes what each header says),
 * or the "N bytes uncompressed" of zipinfo's totals (declared by the zip,
 * which may lie: extraction then stops at "no space").
 */
export function declaredSize(listing: string, kind: 'tar' | 'zip'): number {
  if (kind === 'zip') return Number(/([0-9]+) bytes uncompressed/.exec(listing)?.[1] ?? 0);
  let total = 0;
  for (const line of listing.split('\n')) {
    // "-rw-r--r-- user/group   SIZE 2026-11-29 09:17 name"
    const size = /^\S+\s+\S+\s+([0-9]+)\s/.exec(line)?.[1];
    if (size !== undefined) total += Number(size);
  }
  return total;
}

/** Builds the command extracting an archive into `dest`: unzip for zip, else tar (which detects gzip, xz, bzip2, zstd itself). */
export function extractCommand(archive: string, dest: string, kind: 'tar' | 'zip'): Command {
  if (kind === 'zip') return { program: 'unzip', args: ['-q', '-o', archive, '-d', dest] };
  // As root tar would restore owners and modes from the archive; the extracted files are ours.
  return { program: 'tar', args: ['-x', '--no-same-owner', '--no-same-permissions', '-f', archive, '-C', dest] };
}

/**
 * Decompresses a gzip disk file into `destDir` (the run's temp dir). Space
 * is checked first against the gzip trailer's size (RFC 1952: the size
 * modulo 4 GiB, so an estimate), and running out of space says so.
 */
export async function gunzip(file: string, destDir: string, ovaPath: string): Promise<string> {
  await mkdir(destDir, { recursive: true });
  const dest = path.join(destDir, path.basename(file).replace(/\.gz$/i, ''));
  const { handle, stats } = await openChecked(file, { noFollow: true });
  const fix = 'free space there or point TMPDIR at a larger filesystem';
  try {
    const trailer = Buffer.alloc(4);
    await handle.read(trailer, 0, 4, Math.max(0, stats.size - 4));
    await checkFreeSpace(
      destDir,
      Math.max(trailer.readUInt32LE(0), stats.size),
      `decompressing ${path.basename(file)} of the OVA ${ovaPath}`,
      fix,
    );
    await pipeline(handle.createReadStream({ autoClose: false, start: 0 }), createGunzip(), createWriteStream(dest, { flags: 'wx' }));
  } catch (error) {
    if (errnoCode(error) === 'ENOSPC') {
      throw new PreflightError(`No space left in ${destDir} while decompressing ${path.basename(file)} of the OVA ${ovaPath}: ${fix}.`, {
        cause: error,
      });
    }
    if (error instanceof Error && /incorrect header|unexpected end|invalid/i.test(error.message)) {
      throw new SourceError(
        `The disk file ${path.basename(file)} in ${ovaPath} is declared gzip-compressed but cannot be decompressed (${error.message}): the OVA is corrupt, export it again.`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await handle.close();
  }
  return dest;
}

/** `file` when it resolves inside the OVA's directory `dir` (a symlink in an OVF directory may not point elsewhere). */
export async function insideOva(dir: string, file: string, ovaPath: string): Promise<string> {
  let found: { real: string; inside: boolean };
  try {
    found = await containedPath(dir, file);
  } catch (error) {
    throw new SourceError(`Cannot read ${path.relative(dir, file)} in ${ovaPath} (${errnoCode(error)}): check the path and permissions.`);
  }
  if (!found.inside) {
    throw new SourceError(
      `${path.relative(dir, file)} in ${ovaPath} resolves to ${found.real}, outside the OVA: v2v reads only files inside it; copy the file there instead of linking it.`,
    );
  }
  return found.real;
}

/**
 * Refuses an extracted archive holding anything but regular files and
 * directories: a symlink or hard link could make v2v read any host file, a
 * FIFO or device would block or never end.
 */
export async function checkExtracted(dest: string, ovaPath: string): Promise<void> {
  for (const { name: entry } of await walkTree(dest, `the OVA ${ovaPath}`)) {
    const st = await lstat(path.join(dest, entry));
    if (st.isDirectory()) continue;
    const what = !st.isFile() ? fileKind(st) : st.nlink > 1 ? 'a hard link' : undefined;
    if (what !== undefined) {
      throw new SourceError(
        `The OVA ${ovaPath} contains ${entry}, which is ${what}: v2v accepts only regular files and directories in an OVA; re-export it.`,
      );
    }
  }
}

/** Extracts the archive into a fresh directory under the run's temp dir and returns it. */
export async function extract(archive: string, tmpdir: string): Promise<string> {
  const dest = path.join(tmpdir, 'ova');
  await mkdir(dest, { recursive: true });
  let kind: 'tar' | 'zip';
  try {
    kind = (await startsWith(archive, ZIP_MAGIC)) ? 'zip' : 'tar';
  } catch (error) {
    if (error instanceof WrongFileKind) {
      throw new SourceError(`The OVA ${archive} is ${error.kind}: pass an .ova file or the directory of an exported OVF.`);
    }
    throw new SourceError(`Cannot read the OVA ${archive} (${errnoCode(error)}): check the path and permissions.`);
  }
  const tool = kind === 'zip' ? 'unzip' : 'tar';
  let listing: string;
  try {
    // No time limit: listing a compressed tar reads all of it, bounded by CPU, not a hang.
    listing = (await run(listCommand(archive, kind), { kind: 'copy' })).stdout;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new SourceError(
      `Cannot extract the OVA ${archive} with ${tool} (${error.stderr || error.message}): check it is a complete .ova (tar or zip) or pass the directory of an exported OVF.`,
      { cause: error },
    );
  }
  const fix = 'free space there or point TMPDIR at a larger filesystem';
  await checkFreeSpace(dest, declaredSize(listing, kind), `extracting the OVA ${archive}`, fix);
  try {
    // No time limit: extracting a large OVA is bounded by disk speed, not a hang.
    await run(extractCommand(archive, dest, kind), { kind: 'copy' });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    if (/No space left|disk full/i.test(error.stderr)) {
      throw new PreflightError(
        `No space left in ${dest} while extracting the OVA ${archive}, whose members are larger than it declares: ${fix}.`,
        { cause: error },
      );
    }
    throw new SourceError(
      `Cannot extract the OVA ${archive} with ${kind === 'zip' ? 'unzip' : 'tar'} (${error.stderr || error.message}): check it is a complete .ova (tar or zip) or pass the directory of an exported OVF.`,
      { cause: error },
    );
  }
  return dest;
}

/** True when the file begins with `magic`. */
async function startsWith(file: string, magic: Buffer): Promise<boolean> {
  const { handle } = await openChecked(file);
  try {
    const buffer = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(buffer, 0, magic.length, 0);
    return bytesRead === magic.length && buffer.equals(magic);
  } finally {
    await handle.close();
  }
}
