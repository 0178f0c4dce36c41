/**
 * `v2v verify NAME.yaml`: the guest a KubeVirt VirtualMachine describes, as
 * KubeVirt would start it: its hostDisk volumes in the order of its disks
 * (read as raw, as KubeVirt's virt-launcher opens a hostDisk whatever the
 * file holds), its bootloader, memory and CPU count, on q35. Pure: text in,
 * target out; docs/verify.md#v2v-verify.
 */
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../errors.js';
import type { CheckedDisk } from './boot-check.js';

/** The parts of a VirtualMachine the check reads (KubeVirt's API, kubevirt.io/v1). */
interface VmText {
  kind?: unknown;
  metadata?: { name?: unknown };
  spec?: {
    template?: {
      spec?: {
        domain?: {
          firmware?: { bootloader?: { efi?: unknown } };
          cpu?: { sockets?: unknown; cores?: unknown; threads?: unknown };
          memory?: { guest?: unknown };
          resources?: { requests?: { memory?: unknown } };
          devices?: { disks?: Array<{ name?: unknown; bootOrder?: unknown; disk?: { bus?: unknown } }> };
        };
        volumes?: Array<{ name?: unknown; hostDisk?: { path?: unknown } }>;
      };
    };
  };
}

/** Kubernetes quantity suffixes, in bytes. */
const QUANTITY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** A memory quantity ("1024Mi", "2Gi", "1073741824") in MiB, or undefined when it is not one. */
export function quantityMiB(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value) : undefined;
  if (typeof value === 'number' && value > 0) return value / 2 ** 20;
  if (!match) return undefined;
  return (Number(match[1]) * (QUANTITY_UNITS[match[2] ?? ''] ?? 1)) / 2 ** 20;
}

const positive = (value: unknown): number => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 1);

/** The boot check's target from a VirtualMachine's YAML text; throws UsageError when it describes no bootable hostDisk. */
export function kubevirtTarget(
  text: string,
  path: string,
): {
  name: string;
  disks: CheckedDisk[];
  firmware: 'bios' | 'uefi';
  machine: 'q35';
  memoryMiB: number;
  vcpus: number;
  logDir: string;
} {
  const notOurs = (why: string): UsageError =>
    new UsageError(`${path} ${why}: pass the NAME.yaml of a "-o kubevirt" conversion, a domain XML or the disk images.`);
  let vm: VmText | null;
  try {
    vm = parse(text, { version: '1.1' }) as VmText | null;
  } catch (error) {
    throw notOurs(`is not YAML (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  if (vm?.kind !== 'VirtualMachine') throw notOurs('is not a KubeVirt VirtualMachine');
  const spec = vm.spec?.template?.spec;
  const volumes = new Map((spec?.volumes ?? []).map((volume) => [volume.name, volume.hostDisk?.path]));
  const disks: CheckedDisk[] = [];
  // The disk with the lowest bootOrder boots: it goes first, the others keep their order.
  const order = (disk: { bootOrder?: unknown }): number => (typeof disk.bootOrder === 'number' ? disk.bootOrder : Infinity);
  for (const disk of [...(spec?.domain?.devices?.disks ?? [])].sort((a, b) => order(a) - order(b))) {
    const file = volumes.get(disk.name);
    if (typeof file !== 'string') continue; // not a hostDisk (a PVC, a containerDisk): nothing on this host to boot
    const bus = disk.disk?.bus;
    disks.push({ path: file, format: 'raw', bus: bus === 'sata' ? 'sata' : 'virtio' });
  }
  if (disks.length === 0) throw notOurs('has no hostDisk volume to boot');
  const domain = spec?.domain;
  const memoryMiB = quantityMiB(domain?.memory?.guest) ?? quantityMiB(domain?.resources?.requests?.memory) ?? 1024;
  const cpu = domain?.cpu;
  const name = typeof vm.metadata?.name === 'string' ? vm.metadata.name : 'guest';
  return {
    name,
    disks,
    firmware: domain?.firmware?.bootloader?.efi !== undefined ? 'uefi' : 'bios',
    machine: 'q35',
    memoryMiB: Math.round(memoryMiB),
    vcpus: positive(cpu?.sockets) * positive(cpu?.cores) * positive(cpu?.threads),
    logDir: dirname(path),
  };
}
