/**
 * The host's stream compressors (zstd, xz, gzip, lz4) as used for initramfs
 * images: the kernel accepts each of them for an initramfs archive, in the
 * variant built here (xz with CRC32 checks, lz4 in the legacy frame format,
 * as initramfs-tools and dracut make them). Binary data goes file to file.
 */
import { run, type Command } from '../src/host/exec.js';

/** A compression an initramfs archive may use that this driver handles. */
export type Compression = 'gzip' | 'zstd' | 'xz' | 'lz4';

/** Magic numbers of compressed initramfs archives (the kernel's own list, decompress.c), the ones not handled included. */
const MAGICS: Array<{ bytes: number[]; name: Compression | 'bzip2' | 'lzma' | 'lzo' }> = [
  { bytes: [0x1f, 0x8b], name: 'gzip' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz' },
  { bytes: [0x02, 0x21, 0x4c, 0x18], name: 'lz4' },
  { bytes: [0x42, 0x5a, 0x68], name: 'bzip2' },
  { bytes: [0x5d, 0x00, 0x00], name: 'lzma' },
  { bytes: [0x89, 0x4c, 0x5a, 0x4f], name: 'lzo' },
];

/** Names the compression whose magic starts `head` (undefined: none known). */
export function detectCompression(head: Uint8Array): Compression | 'bzip2' | 'lzma' | 'lzo' | undefined {
  return MAGICS.find((m) => m.bytes.every((b, i) => head[i] === b))?.name;
}

/** Whether this driver can decompress and recompress it. */
export function isHandled(name: string | undefined): name is Compression {
  return name === 'gzip' || name === 'zstd' || name === 'xz' || name === 'lz4';
}

/** argv decompressing stdin to stdout. */
export function decompressCommand(c: Compression): Command {
  return { program: c, args: c === 'lz4' ? ['-d', '-c'] : ['-d', '-c', '-q'] };
}

/** argv compressing stdin to stdout in the form the kernel unpacks. */
export function compressCommand(c: Compression): Command {
  switch (c) {
    case 'gzip':
      return { program: 'gzip', args: ['-c', '-6', '-n'] };
    case 'zstd':
      return { program: 'zstd', args: ['-c', '-q', '-3', '-T0'] };
    case 'xz':
      // The kernel's xz decoder checks CRC32 only (initramfs-tools and dracut use the same).
      return { program: 'xz', args: ['-c', '--check=crc32', '-6'] };
    case 'lz4':
      // The kernel unpacks lz4's legacy frame format only.
      return { program: 'lz4', args: ['-c', '-l', '-9'] };
  }
}

/** Decompresses host file `from` into `to`. */
export async function decompressFile(c: Compression, from: string, to: string): Promise<void> {
  await run(decompressCommand(c), { kind: 'guestfs', stdinFile: from, stdoutFile: to });
}

/** Compresses host file `from` into `to`. */
export async function compressFile(c: Compression, from: string, to: string): Promise<void> {
  await run(compressCommand(c), { kind: 'guestfs', stdinFile: from, stdoutFile: to });
}
