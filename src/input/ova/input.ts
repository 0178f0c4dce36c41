/**
 * `-i ova`: an OVA archive (tar, compressed tar or zip) or a directory holding
 * an exported OVF, its `.mf` manifest and its disks (usually streamOptimized
 * VMDKs, which qemu reads directly). An archive is extracted into the run's
 * temp dir (removed by the pipeline); the manifest checksums are verified
 * before anything else is read, so a corrupt download fails early.
 *
 * Containment: an extracted archive may hold only regular files and
 * directories (a symlink, hard link, device or FIFO member is refused), and
 * every file the OVF or the manifest names must resolve inside the OVA's
 * directory and be a regular file, checked before it is read; so is every
 * file qemu would open through a disk (see disk-references.ts).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkFreeSpace } from '../../host/disk-space.js';
import { CommandError, PreflightError, SourceError } from '../../errors.js';
import { run, type Command } from '../../host/exec.js';
import type { Source } from '../../model.js';
import type { Input, InputRun } from '../index.js';
import { checkDiskReferences } from '../disk-references.js';
import { containedPath, errnoCode, fileKind, METADATA_MAX_BYTES, openChecked, readMetadataFile, walkTree, WrongFileKind } from '../../host/local-files.js';
import { gzipFiles, parseOvf } from './ovf.js';

/** Digest algorithms a manifest may use, as node:crypto names them, with their hex length. */
const ALGORITHMS: Readonly<Record<string, number>> = { sha1: 40, sha256: 64, sha512: 128 };
const MANIFEST_LINE_RE = /^([A-Za-z0-9-]+)\s*\((.+)\)\s*=\s*([0-9A-Fa-f]+)$/;
const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

/** One checked line of a `.mf` manifest. */
export interface ManifestEntry {
  /** node:crypto algorithm name: sha1, sha256 or sha512. */
  algorithm: string;
  /** File name relative to the manifest's directory. */
  file: string;
  /** Expected digest, lower-case hex. */
  digest: string;
}

/** What {@link parseManifest} found: the entries to check and the lines it could not use. */
export interface Manifest {
  entries: ManifestEntry[];
  warnings: string[];
}

/** Parses `.mf` text (`SHA1(file)= hex`, `SHA256(file)= hex` lines); unusable lines become warnings. */
export function parseManifest(text: string, mfPath: string): Manifest {
  const entries: ManifestEntry[] = [];
  const warnings: string[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const m = MANIFEST_LINE_RE.exec(line);
    const algorithm = m?.[1]?.toLowerCase() ?? '';
    const digest = m?.[3]?.toLowerCase() ?? '';
    if (!m?.[2] || ALGORITHMS[algorithm] !== digest.length) {
      warnings.push(`line ${index + 1} of ${mfPath} is not a SHA1, SHA256 or SHA512 checksum line; it is not checked`);
      return;
    }
    const file = m[2];
    if (path.isAbsolute(file) || file.split(/[\\/]/).includes('..')) {
      throw new SourceError(`The manifest ${mfPath} lists "${file}", which is outside the OVA: the OVA is malformed, export it again.`);
    }
    entries.push({ algorithm, file, digest });
  });
  return { entries, warnings };
}

/** A regular file's digest in lower-case hex, computed by streaming it; anything else throws {@link WrongFileKind} before a read. */
export async function fileDigest(file: string, algorithm: string): Promise<string> {
  const { handle } = await openChecked(file, { noFollow: true });
  const hash = createHash(algorithm);
  await pipeline(handle.createReadStream(), hash);
  return hash.digest('hex');
}

/**
 * Checks each entry against the files in `dir`. A file that resolves
 * outside `root` or is not a regular file, or a mismatch, is a SourceError
 * naming the file; a listed file that does not exist is only a warning
 * (returned): VMware's exports list files they leave out (virt-v2v warns
 * too), and a disk the OVF needs is checked for itself.
 */
export async function verifyManifest(dir: string, entries: ManifestEntry[], mfPath: string, ovaLabel = dir, root = dir): Promise<string[]> {
  const warnings: string[] = [];
  for (const entry of entries) {
    const file = path.join(dir, entry.file);
    let actual: string;
    try {
      const { real, inside } = await containedPath(root, file);
      if (!inside) {
        throw new SourceError(`The manifest ${mfPath} lists ${entry.file}, which resolves to ${real}, outside ${ovaLabel}: the OVA is malformed, export it again.`);
      }
      actual = await fileDigest(real, entry.algorithm);
    } catch (error) {
      if (error instanceof SourceError) throw error;
      if (error instanceof WrongFileKind) {
        throw new SourceError(`The manifest ${mfPath} lists ${entry.file}, which is ${error.kind} in ${ovaLabel}, not a regular file: the OVA is malformed, export it again.`);
      }
      if (errnoCode(error) === 'ENOENT') {
        warnings.push(`the manifest ${mfPath} lists ${entry.file}, which is not in ${ovaLabel}; it is not checked`);
        continue;
      }
      throw new SourceError(
        `The manifest ${mfPath} lists ${entry.file}, which cannot be read in ${ovaLabel} (${errnoCode(error)}): the OVA is incomplete, export it again.`,
      );
    }
    if (actual !== entry.digest) {
      throw new SourceError(
        `${entry.file} in ${ovaLabel} does not match its ${entry.algorithm.toUpperCase()} checksum in the manifest: the OVA is corrupt, download or export it again.`,
      );
    }
  }
  return warnings;
}

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

/** The OVA input module for an archive or a directory. */
export function ovaInput(ovaPath: string): Input {
  return {
    describe: `OVA ${ovaPath}`,
    async load(runCtx: InputRun) {
      let isDir: boolean;
      try {
        isDir = (await stat(ovaPath)).isDirectory();
      } catch (error) {
        throw new SourceError(`Cannot read the OVA ${ovaPath} (${errnoCode(error)}): check the path and permissions.`);
      }
      const dir = isDir ? ovaPath : await extract(ovaPath, runCtx.tmpdir);
      if (!isDir) await checkExtracted(dir, ovaPath);
      return loadOvfDir(dir, ovaPath, runCtx.tmpdir, runCtx.warnings);
    },
  };
}

/** Reads an unpacked OVA: finds the one .ovf, verifies the manifest, parses the OVF and checks the disks exist; warnings go to `warnings` as found. */
async function loadOvfDir(dir: string, ovaPath: string, tmpdir: string, warnings: string[] = []): Promise<Source> {
  const ovfs = (await walkTree(dir, `the OVA ${ovaPath}`)).map((e) => e.name).filter((f) => /\.ovf$/i.test(f));
  const [ovf] = ovfs;
  if (ovf === undefined || ovfs.length > 1) {
    const found = ovf === undefined ? 'none' : ovfs.join(', ');
    throw new SourceError(`The OVA ${ovaPath} must hold exactly one .ovf descriptor but has ${found}: pass an OVA exported from a single VM.`);
  }
  const ovfPath = path.join(dir, ovf);
  const ovfDir = path.dirname(ovfPath);
  const label = dir === ovaPath ? ovfPath : `${ovf} in ${ovaPath}`;

  // Every manifest is checked: an OVA with two cannot pass by confusing which one counts.
  const mfs = (await readdir(ovfDir)).filter((f) => /\.mf$/i.test(f)).sort();
  if (mfs.length === 0) {
    warnings.push(`The OVA ${ovaPath} has no .mf manifest, so its files are not checked for corruption`);
  }
  for (const mf of mfs) {
    const mfPath = await insideOva(dir, path.join(ovfDir, mf), ovaPath);
    const manifest = parseManifest(await readMetadataFile(mfPath, 'the manifest', METADATA_MAX_BYTES.manifest), dir === ovaPath ? mfPath : `${mf} in ${ovaPath}`);
    warnings.push(...manifest.warnings);
    if (manifest.entries.length === 0) {
      throw new SourceError(`The manifest ${mf} in ${ovaPath} has no checksum line: the OVA is corrupt, download or export it again.`);
    }
    warnings.push(...(await verifyManifest(ovfDir, manifest.entries, mf, ovaPath, dir)));
  }

  const ovfText = await readMetadataFile(await insideOva(dir, ovfPath, ovaPath), 'the OVF descriptor', METADATA_MAX_BYTES.ovf);
  const source = parseOvf(ovfText, ovfDir, label, warnings);
  const gzipped = gzipFiles(ovfText, label);
  for (const disk of source.disks) {
    const snapshot = await newestNumbered(disk.path);
    if (snapshot !== undefined) {
      warnings.push(`${path.relative(ovfDir, disk.path)} is not in ${ovaPath} but ${path.basename(snapshot)} is: the newest numbered file is used, as VMware exports snapshot disks`);
      disk.path = snapshot;
    }
    const name = path.relative(ovfDir, disk.path);
    try {
      await stat(disk.path);
    } catch (error) {
      throw new SourceError(`The disk file ${name} named by ${label} is missing (${errnoCode(error)}): the OVA is incomplete, export it again.`);
    }
    const check = {
      root: dir,
      label: `The disk file ${name} in ${ovaPath}`,
      outsideFix: dir === ovaPath ? 'copy the file into the OVF directory instead of linking it' : 're-export the OVA',
      vmdkOnly: false,
    };
    if (gzipped.has(name.split(path.sep).join('/'))) {
      // The compressed file is checked where it is; its content is what qemu reads.
      await checkDiskReferences(disk.path, check);
      disk.path = await gunzip(disk.path, path.join(tmpdir, 'gunzip'), ovaPath);
      check.root = path.dirname(disk.path);
    }
    const format = await checkDiskReferences(disk.path, check);
    if (format !== undefined) disk.format = format;
  }
  return source;
}

/**
 * Decompresses a gzip disk file into `destDir` (the run's temp dir). Space
 * is checked first against the gzip trailer's size (RFC 1952: the size
 * modulo 4 GiB, so an estimate), and running out of space says so.
 */
async function gunzip(file: string, destDir: string, ovaPath: string): Promise<string> {
  await mkdir(destDir, { recursive: true });
  const dest = path.join(destDir, path.basename(file).replace(/\.gz$/i, ''));
  const { handle, stats } = await openChecked(file, { noFollow: true });
  const fix = 'free space there or point TMPDIR at a larger filesystem';
  try {
    const trailer = Buffer.alloc(4);
    await handle.read(trailer, 0, 4, Math.max(0, stats.size - 4));
    await checkFreeSpace(destDir, Math.max(trailer.readUInt32LE(0), stats.size), `decompressing ${path.basename(file)} of the OVA ${ovaPath}`, fix);
    await pipeline(handle.createReadStream({ autoClose: false, start: 0 }), createGunzip(), createWriteStream(dest, { flags: 'wx' }));
  } catch (error) {
    if (errnoCode(error) === 'ENOSPC') {
      throw new PreflightError(`No space left in ${destDir} while decompressing ${path.basename(file)} of the OVA ${ovaPath}: ${fix}.`, { cause: error });
    }
    if (error instanceof Error && /incorrect header|unexpected end|invalid/i.test(error.message)) {
      throw new SourceError(`The disk file ${path.basename(file)} in ${ovaPath} is declared gzip-compressed but cannot be decompressed (${error.message}): the OVA is corrupt, export it again.`, { cause: error });
    }
    throw error;
  } finally {
    await handle.close();
  }
  return dest;
}

/**
 * For a disk file that is missing, its newest numbered sibling
 * (`disk1.vmdk.000000002` over `disk1.vmdk.000000001`), as VMware exports
 * the disks of a VM with snapshots; undefined when the file exists or has
 * no numbered sibling.
 */
export async function newestNumbered(file: string): Promise<string | undefined> {
  if (await stat(file).then(() => true, () => false)) return undefined;
  const base = path.basename(file);
  const numbered = (await readdir(path.dirname(file)).catch(() => [] as string[]))
    .filter((f) => f.startsWith(`${base}.`) && /^[0-9]+$/.test(f.slice(base.length + 1)))
    .sort((a, b) => Number(a.slice(base.length + 1)) - Number(b.slice(base.length + 1)));
  const newest = numbered.at(-1);
  return newest === undefined ? undefined : path.join(path.dirname(file), newest);
}

/** `file` when it resolves inside the OVA's directory `dir` (a symlink in an OVF directory may not point elsewhere). */
async function insideOva(dir: string, file: string, ovaPath: string): Promise<string> {
  let found: { real: string; inside: boolean };
  try {
    found = await containedPath(dir, file);
  } catch (error) {
    throw new SourceError(`Cannot read ${path.relative(dir, file)} in ${ovaPath} (${errnoCode(error)}): check the path and permissions.`);
  }
  if (!found.inside) {
    throw new SourceError(`${path.relative(dir, file)} in ${ovaPath} resolves to ${found.real}, outside the OVA: v2v reads only files inside it; copy the file there instead of linking it.`);
  }
  return found.real;
}

/**
 * Refuses an extracted archive holding anything but regular files and
 * directories: a symlink or hard link could make v2v read any host file, a
 * FIFO or device would block or never end.
 */
async function checkExtracted(dest: string, ovaPath: string): Promise<void> {
  for (const { name: entry } of await walkTree(dest, `the OVA ${ovaPath}`)) {
    const st = await lstat(path.join(dest, entry));
    if (st.isDirectory()) continue;
    const what = !st.isFile() ? fileKind(st) : st.nlink > 1 ? 'a hard link' : undefined;
    if (what !== undefined) {
      throw new SourceError(`The OVA ${ovaPath} contains ${entry}, which is ${what}: v2v accepts only regular files and directories in an OVA; re-export it.`);
    }
  }
}

/** Extracts the archive into a fresh directory under the run's temp dir and returns it. */
async function extract(archive: string, tmpdir: string): Promise<string> {
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
      throw new PreflightError(`No space left in ${dest} while extracting the OVA ${archive}, whose members are larger than it declares: ${fix}.`, { cause: error });
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
