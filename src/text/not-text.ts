/**
 * Whether bytes given as a text file (a .vmx, an .ovf, a .mf, a domain XML)
 * are text at all, and what they look like when not: a disk image or an
 * archive passed by mistake is one clear error, not hundreds of warnings
 * about unparseable lines (docs/safety.md, "Binary metadata").
 */
import { utf8SequenceAt } from './safe-text.js';

/**
 * Invalid UTF-8 sequences a text file may hold and still be read: a few
 * stray Latin-1 bytes in a name. More than this many and more than 2% of
 * the bytes is not text.
 */
export const MAX_INVALID_SEQUENCES = 8;

/** What a binary file looks like, by its magic number. */
interface Magic {
  offset: number;
  bytes: readonly number[];
  /** "a sparse VMDK disk image" */
  kind: string;
  /** What to pass instead. */
  fix: 'disk' | 'archive';
}

/** Magic numbers of what is most often given by mistake (from each format's specification). */
const MAGICS: readonly Magic[] = [
  // VMware Virtual Disk Format 1.1, "Hosted Sparse Extent Header": "KDMV".
  { offset: 0, bytes: [0x4b, 0x44, 0x4d, 0x56], kind: 'a sparse VMDK disk image', fix: 'disk' },
  // The same document, "ESXi Server Sparse Extent Header": "COWD".
  { offset: 0, bytes: [0x43, 0x4f, 0x57, 0x44], kind: 'an ESXi sparse VMDK disk image', fix: 'disk' },
  // qemu docs/interop/qcow2.txt: "QFI\xfb".
  { offset: 0, bytes: [0x51, 0x46, 0x49, 0xfb], kind: 'a qcow2 disk image', fix: 'disk' },
  // RFC 1952: ID1 ID2.
  { offset: 0, bytes: [0x1f, 0x8b], kind: 'a gzip archive', fix: 'archive' },
  // xz file format 1.0: header magic.
  { offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], kind: 'an xz archive', fix: 'archive' },
  // PKWARE APPNOTE: local file header signature "PK\x03\x04".
  { offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04], kind: 'a zip archive', fix: 'archive' },
  // POSIX ustar: "ustar" at offset 257 of the first header.
  { offset: 257, bytes: [0x75, 0x73, 0x74, 0x61, 0x72], kind: 'a tar archive (an OVA?)', fix: 'archive' },
];

/** U+FFFD as UTF-8: what a lossy decoder (a file read through ssh) made of an invalid byte. */
const REPLACEMENT = [0xef, 0xbf, 0xbd];

/**
 * Whether `magic` is at `offset`: a byte >= 0x80 also matches U+FFFD, for
 * bytes that went through a lossy UTF-8 decoding on the way.
 */
function matchAt(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  let at = offset;
  for (const b of magic) {
    if (bytes[at] === b) at++;
    else if (b >= 0x80 && REPLACEMENT.every((r, k) => bytes[at + k] === r)) at += REPLACEMENT.length;
    else return false;
  }
  return true;
}

/** Invalid UTF-8 sequences in `bytes` (each byte that starts none), U+FFFD (a lossy decoder's trace of one) counted too. */
export function invalidUtf8Sequences(bytes: Uint8Array): number {
  let invalid = 0;
  let i = 0;
  while (i < bytes.length) {
    const sequence = utf8SequenceAt(bytes, i);
    if (sequence === undefined || sequence.code === 0xfffd) invalid++;
    i += sequence?.length ?? 1;
  }
  return invalid;
}

/** Why bytes that should be text are not, and what they look like instead. */
export interface NotText {
  /** "a sparse VMDK disk image", "binary data" */
  kind: string;
  /** What the user probably meant: a disk image, an archive, or something else. */
  fix: 'disk' | 'archive' | 'other';
}

/**
 * Undefined when `bytes` is text: no NUL byte, and at most a few invalid
 * UTF-8 sequences ({@link MAX_INVALID_SEQUENCES}, or up to 2% of the bytes).
 * Otherwise what it looks like, by magic number, else "binary data".
 */
export function notText(bytes: Uint8Array): NotText | undefined {
  const invalid = invalidUtf8Sequences(bytes);
  if (!bytes.includes(0) && (invalid <= MAX_INVALID_SEQUENCES || invalid <= bytes.length / 50)) return undefined;
  const magic = MAGICS.find((m) => matchAt(bytes, m.offset, m.bytes));
  return magic ? { kind: magic.kind, fix: magic.fix } : { kind: 'binary data', fix: 'other' };
}
