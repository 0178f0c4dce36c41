/**
 * The files qemu would open through a local source disk, checked before it
 * does: a VMDK descriptor names extent files and a parent
 * (parentFileNameHint), a sparse VMDK may name a parent, a qcow2 or QED
 * image a backing file. Any of them could name a host file (`/etc/shadow`,
 * `../../secret`, `/dev/zero`) or a qemu protocol (`nbd:`, `json:`), which
 * qemu would then read as part of the guest's disk. Every such file must be
 * a regular file that resolves (realpath) inside the source's own
 * directory, or inside a directory the user allowed (`-i vmx --allow-dir`);
 * names with a protocol prefix are refused.
 */
import path from 'node:path';
import { SourceError } from '../errors.js';
import { parseVmdkDescriptor } from '../remote/remote-disk.js';
import { containedPath, errnoCode, openChecked, WrongFileKind } from '../host/local-files.js';

/** Bytes read from the start of a disk: a sparse VMDK's header and embedded descriptor, or a whole descriptor file. */
const HEAD_BYTES = 65_536;
/** Longest chain of parents followed (VMware allows 32 snapshots deep). */
const MAX_CHAIN = 64;

/** How a disk check words its messages and what it accepts. */
export interface DiskCheck {
  /** The directory every file must resolve inside (or inside one of `allowed`). */
  root: string;
  /** More directories the user allowed (--allow-dir), absolute. */
  allowed?: string[];
  /** Names the disk in messages: "The disk x.vmdk named by scsi0:0 in g.vmx". */
  label: string;
  /** Why only those directories, and the fix, for a file outside them. */
  outsideFix: string;
  /** Refuse anything that is not a VMDK (sparse or descriptor): -i vmx. */
  vmdkOnly: boolean;
}

/** Checks `file` and every file qemu would open through it; returns "vmdk" when it is one (so qemu need not probe). */
export async function checkDiskReferences(file: string, check: DiskCheck): Promise<'vmdk' | undefined> {
  return checkOne(file, check, check.label, new Set(), 0);
}

async function checkOne(file: string, check: DiskCheck, label: string, seen: Set<string>, depth: number): Promise<'vmdk' | undefined> {
  const real = await contained(file, check, label);
  if (seen.has(real) || depth > MAX_CHAIN) {
    throw new SourceError(
      `${check.label} has a chain of parent disks that loops or is more than ${MAX_CHAIN} deep: consolidate the VM's snapshots, then convert again.`,
    );
  }
  seen.add(real);
  const head = await readHead(real, label);
  const magic = head.subarray(0, 4).toString('latin1');
  const text = head.toString('latin1');
  if (magic === 'KDMV') {
    // monolithicSparse / streamOptimized: the embedded descriptor may name a parent.
    await checkParent(file, text, check, seen, depth);
    return 'vmdk';
  }
  if (magic === 'COWD') return 'vmdk'; // ESX vmfsSparse extent: qemu reads it alone
  if (/^#\s*Disk DescriptorFile/m.test(text.slice(0, 1024)) || /^\s*createType\s*=/m.test(text.slice(0, 4096))) {
    const descriptor = parseVmdkDescriptor(text);
    for (const extent of descriptor.extents) {
      const extentFile = referencedPath(file, extent.file, label, 'extent');
      await contained(extentFile, check, `The extent ${extent.file} of ${label}`);
      await readHead(extentFile, `The extent ${extent.file} of ${label}`);
    }
    await checkParent(file, text, check, seen, depth);
    return 'vmdk';
  }
  if (check.vmdkOnly) {
    throw new SourceError(
      `${label} is not a VMDK (no sparse header, no descriptor): -i vmx converts VMware disks only; for a raw or qcow2 image use "-i disk IMAGE".`,
    );
  }
  if (magic === 'QFI\xfb' && head.length >= 20 && head.readBigUInt64BE(8) !== 0n) {
    throw new SourceError(
      `${label} is a qcow2 image with a backing file: merge it first (qemu-img convert -O qcow2 it into one standalone image) and convert that.`,
    );
  }
  if (magic === 'QED\0' && head.length >= 24 && (head.readBigUInt64LE(16) & 1n) !== 0n) {
    throw new SourceError(
      `${label} is a QED image with a backing file: merge it first (qemu-img convert -O qcow2 it into one standalone image) and convert that.`,
    );
  }
  return undefined;
}

/** Follows a descriptor's parentFileNameHint when the disk has a parent (parentCID is not ffffffff). */
async function checkParent(file: string, text: string, check: DiskCheck, seen: Set<string>, depth: number): Promise<void> {
  const { parentCID } = parseVmdkDescriptor(text);
  const hint = /^\s*parentFileNameHint\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  if (parentCID === 'ffffffff' || hint === undefined) return;
  const parent = referencedPath(file, hint, check.label, 'parent disk');
  await checkOne(parent, check, `The parent disk ${hint} of ${check.label}`, seen, depth + 1);
}

/** A name in a descriptor as qemu resolves it (relative to the naming file); protocol names ("nbd:...", "json:...") are refused. */
function referencedPath(file: string, name: string, label: string, what: string): string {
  // qemu treats a ':' before the first '/' as a protocol prefix and opens it as such.
  if (/^[^/]*:/.test(name)) {
    throw new SourceError(
      `${label} names the ${what} "${name}", which qemu would open as a network or special source: only local files next to the disk are read; fix the descriptor.`,
    );
  }
  return path.resolve(path.dirname(file), name);
}

/** The real path of `file` when it is inside the root or an allowed directory; else a SourceError naming the fix. */
async function contained(file: string, check: DiskCheck, label: string): Promise<string> {
  let real = '';
  try {
    for (const dir of [check.root, ...(check.allowed ?? [])]) {
      const found = await containedPath(dir, file);
      if (found.inside) return found.real;
      real = found.real;
    }
  } catch (error) {
    throw new SourceError(`${label} cannot be read (${errnoCode(error)}): check the path and permissions.`);
  }
  const allowed = check.allowed ?? [];
  const where = allowed.length > 0 ? `${check.root} and the --allow-dir directories (${allowed.join(', ')})` : check.root;
  throw new SourceError(`${label} resolves to ${real}, outside ${where}: ${check.outsideFix}.`);
}

/** The first bytes of a regular file; FIFOs, devices and sockets are refused without blocking. */
async function readHead(file: string, label: string): Promise<Buffer> {
  let opened: Awaited<ReturnType<typeof openChecked>>;
  try {
    opened = await openChecked(file, { noFollow: true });
  } catch (error) {
    if (error instanceof WrongFileKind)
      throw new SourceError(`${label} is ${error.kind}, not a disk image file: point it at the disk file itself.`);
    throw new SourceError(`${label} cannot be read (${errnoCode(error)}): check the path and permissions.`);
  }
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await opened.handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await opened.handle.close();
  }
}
