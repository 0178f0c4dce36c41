/**
 * How qemu opens one remote disk: nbdkit serves the file, and the overlay's
 * backing is that NBD export with the right format on top of it.
 *
 * - monolithicSparse / streamOptimized VMDK (magic "KDMV"; the descriptor is
 *   embedded in the same file): qemu's vmdk driver over the export, so only
 *   allocated grains are ever fetched.
 * - descriptor + one flat extent (monolithicFlat, vmfs): the extent file is
 *   served and read as raw; the descriptor is read once over the transport.
 * - anything else named by a VMDK descriptor (several extents, sparse
 *   extents, snapshot chains) is refused with the fix: over NBD qemu cannot
 *   open extent files by name (measured: it rejects `extents.N` nodes with a
 *   file name), so they would need one export per file and a local
 *   descriptor rewritten to point at them.
 * - any other file (-i disk): served as is; its format is -if or probed.
 */
import type { DiskBacking } from '../model.js';
import { SourceError } from '../errors.js';
import type { RemoteAccess } from './access.js';
import { displayLocation, siblingLocation, type RemoteLocation } from './url.js';

/** Bytes read to classify a disk: the sparse header and its embedded descriptor fit in 64 KiB. */
const HEAD_BYTES = 65_536;

/** One extent line of a VMDK descriptor. */
export interface VmdkExtent {
  access: string;
  sectors: number;
  type: string;
  file: string;
  offset: number;
}

/** The fields of a VMDK descriptor that decide how to read it remotely. */
export interface VmdkDescriptor {
  createType: string;
  /** "ffffffff" when the disk has no parent (not a snapshot). */
  parentCID: string;
  extents: VmdkExtent[];
}

/** Parses a VMDK text descriptor (standalone or embedded). */
export function parseVmdkDescriptor(text: string): VmdkDescriptor {
  const createType = /^\s*createType\s*=\s*"([^"]*)"/m.exec(text)?.[1] ?? '';
  const parentCID = /^\s*parentCID\s*=\s*([0-9a-fA-F]+)/m.exec(text)?.[1]?.toLowerCase() ?? 'ffffffff';
  const extents: VmdkExtent[] = [];
  for (const m of text.matchAll(/^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)\s+"([^"]+)"(?:\s+(\d+))?/gm)) {
    extents.push({ access: m[1]!, sectors: Number(m[2]), type: m[3]!.toUpperCase(), file: m[4]!, offset: Number(m[5] ?? 0) });
  }
  return { createType, parentCID, extents };
}

/** What the overlay is created over, and the export serving it. */
export interface RemoteDisk {
  backing: DiskBacking;
}

/** Classifies a remote disk by its first bytes, starts the export it needs and returns the overlay's backing. */
export async function openRemoteDisk(access: RemoteAccess, loc: RemoteLocation, format?: string): Promise<RemoteDisk> {
  const head = await access.read(loc, HEAD_BYTES);
  const shown = displayLocation(loc);
  if (head.subarray(0, 4).toString('latin1') === 'KDMV') {
    const embedded = parseVmdkDescriptor(head.toString('latin1'));
    if (embedded.parentCID !== 'ffffffff') throw snapshotError(shown);
    const server = await access.serve(loc);
    return { backing: { filename: server.uri, format: 'vmdk', display: shown } };
  }
  const text = head.toString('latin1');
  if (/^#\s*Disk DescriptorFile/m.test(text.slice(0, 1024))) {
    const d = parseVmdkDescriptor(text);
    if (d.parentCID !== 'ffffffff') throw snapshotError(shown);
    const [extent] = d.extents;
    if (d.extents.length === 1 && extent && (extent.type === 'FLAT' || extent.type === 'VMFS') && extent.offset === 0) {
      const server = await access.serve(siblingLocation(loc, extent.file));
      return { backing: { filename: server.uri, format: 'raw', display: shown } };
    }
    throw new SourceError(
      `The remote VMDK ${shown} is "${d.createType}" with ${d.extents.length} extent(s) (${d.extents.map((e) => e.type).join(', ')}): over SSH/HTTPS v2v reads monolithicSparse, streamOptimized and single-extent flat VMDKs; convert it to one of those on the source (vmkfstools -i ... -d thin) or copy the files and convert locally.`,
    );
  }
  const server = await access.serve(loc);
  return { backing: { filename: server.uri, ...(format !== undefined ? { format } : {}), display: shown } };
}

function snapshotError(shown: string): SourceError {
  return new SourceError(
    `The remote VMDK ${shown} is a snapshot (it has a parent disk): delete or consolidate the VM's snapshots, then convert again.`,
  );
}
