/**
 * The newc cpio format the kernel unpacks an initramfs from ("new ASCII",
 * magic 070701, or 070702 with checksums): read from a host file by
 * positional reads (an image's main archive is tens of MiB: it is never held
 * in memory), and written for the entries v2v adds.
 *
 * An initramfs image is a series of segments: uncompressed cpio archives
 * (Debian's early microcode), then usually one compressed stream holding the
 * main archive; zero bytes may pad between them. The kernel unpacks them in
 * order and a later file replaces an earlier one (Documentation/
 * driver-api/early-userspace/buffer-format.rst).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { detectCompression } from '../../../../drivers/compressor.js';

/** One member of an archive. */
export interface CpioEntry {
  /** Path as stored, without a leading "./" or "/". */
  name: string;
  mode: number;
  size: number;
  /** Offset of the file's data in the host file. */
  dataOffset: number;
}

/** What {@link listArchives} found. */
export interface CpioListing {
  entries: CpioEntry[];
  /** Offset of the last archive's TRAILER!!! header: where more entries can go. */
  trailerOffset: number;
  /** Whether names are stored with a leading "./" (kept for the entries added). */
  dotSlash: boolean;
}

/** A segment of an image. */
export type ImageSegment = { kind: 'cpio'; start: number; end: number } | { kind: 'compressed'; start: number; compression: string };

const HEADER = 110;
const TRAILER = 'TRAILER!!!';
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
const S_IFMT = 0o170000;

const align4 = (n: number): number => (n + 3) & ~3;

/** Parses the header at `offset`, or undefined when there is no newc magic there. */
async function readHeader(
  fh: FileHandle,
  offset: number,
): Promise<{ name: string; rawName: string; mode: number; size: number; dataOffset: number; next: number } | undefined> {
  const head = Buffer.alloc(HEADER + 512);
  const { bytesRead } = await fh.read(head, 0, head.length, offset);
  if (bytesRead < HEADER) return undefined;
  const magic = head.toString('latin1', 0, 6);
  if (magic !== '070701' && magic !== '070702') return undefined;
  const field = (i: number): number => Number.parseInt(head.toString('latin1', 6 + i * 8, 14 + i * 8), 16);
  const mode = field(1);
  const size = field(6);
  const nameSize = field(11);
  let nameBuf = head.subarray(HEADER, HEADER + nameSize);
  if (HEADER + nameSize > bytesRead) {
    nameBuf = Buffer.alloc(nameSize);
    await fh.read(nameBuf, 0, nameSize, offset + HEADER);
  }
  const rawName = nameBuf.toString('utf8').replace(/\0+$/, '');
  const dataOffset = align4(offset + HEADER + nameSize);
  return { name: rawName.replace(/^(\.\/|\/)+/, ''), rawName, mode, size, dataOffset, next: align4(dataOffset + size) };
}

/** Offset of the first non-zero byte at or after `offset` (the padding between segments), or the file size. */
async function skipZeros(fh: FileHandle, offset: number, size: number): Promise<number> {
  const buf = Buffer.alloc(4096);
  while (offset < size) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    const at = buf.subarray(0, bytesRead).findIndex((b) => b !== 0);
    if (at !== -1) return offset + at;
    offset += bytesRead;
  }
  return size;
}

/** Splits an image into its uncompressed cpio archives and the compressed stream after them. */
export async function imageSegments(path: string): Promise<ImageSegment[]> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const segments: ImageSegment[] = [];
    let offset = await skipZeros(fh, 0, size);
    while (offset < size) {
      const start = offset;
      let header = await readHeader(fh, offset);
      if (!header) {
        const head = Buffer.alloc(8);
        await fh.read(head, 0, 8, offset);
        segments.push({ kind: 'compressed', start, compression: detectCompression(head) ?? 'unknown' });
        break;
      }
      while (header && header.name !== TRAILER) {
        offset = header.next;
        header = await readHeader(fh, offset);
      }
      if (!header) throw new Error(`cpio archive at offset ${start} has no trailer`);
      segments.push({ kind: 'cpio', start, end: header.next });
      offset = await skipZeros(fh, header.next, size);
    }
    return segments;
  } finally {
    await fh.close();
  }
}

/** Lists the archives of an uncompressed cpio stream (one or more archives back to back). */
export async function listArchives(path: string): Promise<CpioListing> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const entries: CpioEntry[] = [];
    let trailerOffset = -1;
    let dotSlash = false;
    let offset = 0;
    while (offset < size) {
      const header = await readHeader(fh, offset);
      if (!header) throw new Error(`no cpio header at offset ${offset}`);
      if (header.name === TRAILER) {
        trailerOffset = offset;
        offset = await skipZeros(fh, header.next, size);
        continue;
      }
      if (header.rawName.startsWith('./')) dotSlash = true;
      if (header.name !== '' && header.name !== '.')
        entries.push({ name: header.name, mode: header.mode, size: header.size, dataOffset: header.dataOffset });
      offset = header.next;
    }
    if (trailerOffset === -1) throw new Error('the cpio stream has no trailer');
    return { entries, trailerOffset, dotSlash };
  } finally {
    await fh.close();
  }
}

/** Reads one entry's data. */
export async function readEntry(path: string, entry: CpioEntry): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(entry.size);
    await fh.read(buf, 0, entry.size, entry.dataOffset);
    return buf;
  } finally {
    await fh.close();
  }
}

/** Whether an entry is a directory. */
export function isDirectory(entry: CpioEntry): boolean {
  return (entry.mode & S_IFMT) === S_IFDIR;
}

/** A member to write: a directory (no data) or a regular file. */
export interface NewEntry {
  name: string;
  /** Permission bits (e.g. 0o644). */
  perm: number;
  data?: Buffer;
}

/** One newc member: header, name, data, each padded to 4 bytes. Owned by root; `ino` must be unique in the archive. */
export function newcMember(entry: { name: string; mode: number; data?: Buffer }, ino: number, mtime: number): Buffer {
  const name = Buffer.from(`${entry.name}\0`, 'utf8');
  const size = entry.data?.length ?? 0;
  const nlink = (entry.mode & S_IFMT) === S_IFDIR ? 2 : 1;
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');
  const header = `070701${[ino, entry.mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, name.length, 0].map(hex).join('')}`;
  const headerAndName = HEADER + name.length;
  const out = Buffer.alloc(align4(align4(headerAndName) + size));
  out.write(header, 0, 'latin1');
  name.copy(out, HEADER);
  entry.data?.copy(out, align4(headerAndName));
  return out;
}

/** The members for `entries` followed by a trailer, names prefixed with "./" when the image's are. */
export function newcArchiveTail(entries: NewEntry[], options: { dotSlash: boolean; mtime: number; firstIno: number }): Buffer {
  const prefix = options.dotSlash ? './' : '';
  const parts = entries.map((e, i) =>
    newcMember(
      { name: `${prefix}${e.name}`, mode: (e.data === undefined ? S_IFDIR : S_IFREG) | e.perm, ...(e.data ? { data: e.data } : {}) },
      options.firstIno + i,
      options.mtime,
    ),
  );
  parts.push(newcMember({ name: TRAILER, mode: 0 }, 0, 0));
  return Buffer.concat(parts);
}
