/**
 * What `v2v verify` boots: a converted guest described by its domain XML
 * (disks, firmware, machine, memory, vCPUs), or bare disk images (probed).
 */
import { dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { imageInfo } from '../../drivers/qemu-img.js';
import { tmpParent } from '../host/tmpdir.js';
import { CommandError, SourceError, UsageError } from '../errors.js';
import { parseLibvirtXml } from '../input/libvirtxml/parse.js';
import type { DiskBus } from '../model.js';
import type { CheckedDisk } from './boot-check.js';
import { kubevirtTarget } from './kubevirt-target.js';

/** What the check is run on. */
export interface Target {
  name: string;
  disks: CheckedDisk[];
  firmware: 'bios' | 'uefi';
  machine: 'q35' | 'pc';
  memoryMiB: number;
  vcpus: number;
  /** Default directory of the console log. */
  logDir: string;
}

/**
 * The guest to boot: from a domain XML (disks, firmware, machine, memory,
 * vCPUs), a KubeVirt VirtualMachine's YAML (its hostDisk volumes, read as
 * raw: kubevirt-target.ts), or from disk images (probed).
 */
export async function describeTarget(paths: string[], firmware: 'bios' | 'uefi' | undefined): Promise<Target> {
  const first = paths[0];
  if (first === undefined) throw new UsageError('No guest given: pass a domain XML or the disk images.');
  if (/\.ya?ml$/.test(first)) {
    if (paths.length > 1) throw new UsageError(`Pass one VirtualMachine YAML, or disk images, not both: ${paths.join(' ')}.`);
    if (firmware !== undefined)
      throw new UsageError(`--firmware only applies to disks given directly: the YAML ${first} says its own firmware.`);
    const text = await readFile(first, 'utf8').catch((error: unknown) => {
      throw new UsageError(
        `Cannot read ${first} (${error instanceof Error ? error.message : String(error)}): pass the NAME.yaml of a "-o kubevirt" conversion.`,
      );
    });
    const target = kubevirtTarget(text, first);
    for (const disk of target.disks) {
      const format = await probeFormat(disk.path);
      if (format !== 'raw') {
        throw new SourceError(
          `The disk ${disk.path} of ${first} is ${format}, but KubeVirt reads a hostDisk volume as raw, so this VirtualMachine cannot boot: convert it with "qemu-img convert -O raw" (or import it into a PVC and point the volume at that).`,
        );
      }
    }
    return target;
  }
  if (first.endsWith('.xml')) {
    if (paths.length > 1) throw new UsageError(`Pass one domain XML, or disk images, not both: ${paths.join(' ')}.`);
    if (firmware !== undefined)
      throw new UsageError(`--firmware only applies to disks given directly: the XML ${first} says its own firmware.`);
    const text = await readFile(first, 'utf8').catch((error: unknown) => {
      throw new UsageError(
        `Cannot read ${first} (${error instanceof Error ? error.message : String(error)}): pass the domain XML of a conversion.`,
      );
    });
    const source = parseLibvirtXml(text, first);
    const disks: CheckedDisk[] = [];
    for (const disk of source.disks)
      disks.push({ path: disk.path, format: disk.format ?? (await probeFormat(disk.path)), bus: bootBus(disk.bus) });
    return {
      name: source.name,
      disks,
      firmware: source.firmware,
      machine: /<type\b[^>]*\bmachine=['"]pc(-i440fx[^'"]*)?['"]/.test(text) ? 'pc' : 'q35',
      memoryMiB: source.memoryMiB,
      vcpus: source.vcpus,
      logDir: dirname(first),
    };
  }
  const disks: CheckedDisk[] = [];
  for (const path of paths) disks.push({ path, format: await probeFormat(path), bus: 'virtio' });
  return {
    name: (first.split('/').at(-1) ?? 'guest').replace(/\.[^.]*$/, ''),
    disks,
    firmware: firmware ?? 'bios',
    machine: 'q35',
    memoryMiB: 1024,
    vcpus: 2,
    logDir: tmpParent(),
  };
}

/** Probes a disk's format (it is the user's own image, read only). */
async function probeFormat(path: string): Promise<string> {
  try {
    return (await imageInfo(path)).format;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new SourceError(`Cannot open the disk ${path} (${error.stderr || error.message}): pass an existing disk image.`);
  }
}

/** The bus a boot check uses for a disk the XML put on `bus`: SATA and IDE stay emulated, the rest is virtio. */
function bootBus(bus: DiskBus): CheckedDisk['bus'] {
  return bus === 'sata' || bus === 'ide' ? bus : 'virtio';
}
