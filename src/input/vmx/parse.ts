/**
 * The VMX parser: maps the settings of a VMware `.vmx` file onto the `Source`
 * model (name, memory, CPUs, firmware, disks, removables, NICs). Pure: no file
 * system access; relative disk paths are resolved as strings.
 */

import path from 'node:path';
import { SourceError } from '../../errors.js';
import type { DiskBus, Source, SourceDisk, SourceNic, SourceRemovable } from '../../model.js';
import { isVmxNamespaceHidden, parseVmxBool, parseVmxText, vmxEntry, vmxGet, type VmxFile } from './text.js';

export { isVmxHidden, parseVmxBool, parseVmxText, vmxGet, type VmxEntry, type VmxFile } from './text.js';

/** Memory VMware assumes when `memSize` is absent, in MiB. */
export const DEFAULT_MEMORY_MIB = 32;

/** Buses in the order the guest enumerates them after conversion: SCSI, NVMe, SATA, IDE. */
const BUS_ORDER: readonly DiskBus[] = ['scsi', 'nvme', 'sata', 'ide'];
const DEVICE_KEY_RE = /^(scsi|nvme|sata|ide)(0|[1-9]\d*):(0|[1-9]\d*)\./;
const NIC_KEY_RE = /^ethernet(0|[1-9]\d*)\./;
const FLOPPY_KEY_RE = /^floppy(0|[1-9]\d*)\./;
const DISK_TYPES = new Set(['disk', 'plaindisk', 'scsi-harddisk', 'ata-harddisk']);
const CDROM_TYPES = new Set(['atapi-cdrom', 'cdrom-image', 'cdrom-raw']);
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Parses VMX text into the source model; tokenizer warnings come first in
 * `warnings`. Warnings are pushed to `warnings` as they are found (it
 * becomes `Source.warnings`), so a caller keeps them when parsing throws.
 */
export function parseVmx(text: string, vmxPath: string, warnings: string[] = []): Source {
  return vmxToSource(parseVmxText(text, vmxPath), vmxPath, warnings);
}

/** Builds the source model from tokenized VMX; `vmx.warnings`, then its own, are pushed to `warnings` (`Source.warnings`). */
export function vmxToSource(vmx: VmxFile, vmxPath: string, warnings: string[] = []): Source {
  warnings.push(...vmx.warnings);
  const name = vmxGet(vmx, 'displayName')?.trim() || path.basename(vmxPath, path.extname(vmxPath));
  const memoryMiB = positiveInt(vmx, vmxPath, 'memSize', warnings) ?? DEFAULT_MEMORY_MIB;
  const vcpus = positiveInt(vmx, vmxPath, 'numvcpus', warnings) ?? 1;
  const cpuTopology = topology(vmx, vmxPath, vcpus, warnings);

  const firmware = vmxGet(vmx, 'firmware')?.trim().toLowerCase() === 'efi' ? 'uefi' : 'bios';
  const secureBootSet = parseVmxBool(vmxGet(vmx, 'uefi.secureBoot.enabled'));
  if (secureBootSet && firmware === 'bios') {
    warnings.push(`${vmxPath}: UEFI secure boot is enabled but the VM boots with BIOS; secure boot is ignored`);
  }
  const genid = generationId(vmx, vmxPath, warnings);
  // Unlike disks, a sound card exists only when sound.present says so (VMware's default is FALSE).
  const sound = parseVmxBool(vmxGet(vmx, 'sound.present')) ? vmxGet(vmx, 'sound.virtualDev') : undefined;

  const { disks, removables } = storage(vmx, vmxPath, warnings);
  if (disks.length === 0) {
    throw new SourceError(
      `The VMX file ${vmxPath} has no disks; check that it names the guest's disks in scsiX:Y, sataX:Y, nvmeX:Y or ideX:Y fileName settings that are not switched off by present = "FALSE".`,
    );
  }

  return {
    name,
    memoryMiB,
    vcpus,
    ...(cpuTopology && { cpuTopology }),
    firmware,
    secureBoot: secureBootSet && firmware === 'uefi',
    disks,
    removables,
    nics: nics(vmx, vmxPath, warnings),
    ...(genid !== undefined && { genid }),
    ...(sound && { sound: sound.trim().toLowerCase() }),
    warnings,
  };
}

/** A positive whole number setting; warns and returns undefined (use the default) when it is not one. */
function positiveInt(vmx: VmxFile, vmxPath: string, key: string, warnings: string[]): number | undefined {
  const entry = vmxEntry(vmx, key);
  if (!entry) return undefined;
  const n = /^\s*\d+\s*$/.test(entry.value) ? Number(entry.value) : Number.NaN;
  if (Number.isSafeInteger(n) && n > 0) return n;
  warnings.push(`line ${entry.line} of ${vmxPath}: ${entry.key} = "${entry.value}" is not a positive whole number; it is ignored`);
  return undefined;
}

/** Sockets × cores from `cpuid.coresPerSocket`; VMware has no threads per core, so threads is 1. */
function topology(vmx: VmxFile, vmxPath: string, vcpus: number, warnings: string[]): Source['cpuTopology'] {
  const cores = positiveInt(vmx, vmxPath, 'cpuid.coresPerSocket', warnings);
  if (cores === undefined) return undefined;
  if (vcpus % cores !== 0) {
    warnings.push(`${vmxPath}: cpuid.coresPerSocket = ${cores} does not divide numvcpus = ${vcpus}; the CPU topology is dropped`);
    return undefined;
  }
  return { sockets: vcpus / cores, cores, threads: 1 };
}

/** A signed or unsigned 64-bit decimal as its unsigned value, or undefined. */
function uint64(value: string | undefined): bigint | undefined {
  if (value === undefined || !/^\s*-?\d+\s*$/.test(value)) return undefined;
  const n = BigInt(value.trim());
  if (n < -(1n << 63n) || n >= 1n << 64n) return undefined;
  return BigInt.asUintN(64, n);
}

/**
 * The VM generation ID as the GUID string libvirt's <genid> expects.
 *
 * VMware stores the 128-bit ID as two signed 64-bit decimals; a guest on ESXi
 * reads them as two little-endian words, `vm.genid` first then `vm.genidX`
 * (VMGENID.EXE prints them as "genid:genidX" in hex). QEMU writes a GUID string
 * into guest memory in Microsoft's mixed-endian layout (the first three fields
 * byte-swapped), so we lay the 16 bytes out as the guest must see them and
 * print them in that layout: the converted guest then sees the same ID. Worked
 * example (qemu-devel, Sept 2021): genid -8536691797830587195, genidX
 * -1723453263670062919 → guest 8987940a09512cc5:e81510634ff550b9 → GUID
 * 09512cc5-940a-8987-b950-f54f631015e8.
 */
export function vmxGenidToGuid(genid: string, genidX: string): string | undefined {
  const lo = uint64(genid);
  const hi = uint64(genidX);
  if (lo === undefined || hi === undefined) return undefined;
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, lo, true);
  view.setBigUint64(8, hi, true);
  const hex = (from: number, to: number, reverse = false): string => {
    const part = Array.from(bytes.slice(from, to), (b) => b.toString(16).padStart(2, '0'));
    return (reverse ? part.reverse() : part).join('');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10), hex(10, 16)].join('-');
}

/** `vm.genid` + `vm.genidX` as a GUID; warns when only one is set or either is not a 64-bit number. */
function generationId(vmx: VmxFile, vmxPath: string, warnings: string[]): string | undefined {
  const lo = vmxGet(vmx, 'vm.genid');
  const hi = vmxGet(vmx, 'vm.genidX');
  if (lo === undefined && hi === undefined) return undefined;
  const guid = lo !== undefined && hi !== undefined ? vmxGenidToGuid(lo, hi) : undefined;
  if (guid === undefined) {
    warnings.push(`${vmxPath}: vm.genid and vm.genidX must both be 64-bit decimal numbers; the VM generation ID is dropped`);
  }
  return guid;
}

/** A device slot such as scsi0:1, parsed from its key prefix. */
interface Slot {
  bus: DiskBus;
  controller: number;
  unit: number;
  /** The namespace as written in lower case, e.g. "scsi0:1". */
  ns: string;
}

/** Sorts slots SCSI, NVMe, SATA, IDE, then by controller and unit numerically (scsi10 after scsi2). */
function compareSlots(a: Slot, b: Slot): number {
  return BUS_ORDER.indexOf(a.bus) - BUS_ORDER.indexOf(b.bus) || a.controller - b.controller || a.unit - b.unit;
}

/** Disks and removables (CD-ROMs, floppies) in guest order. */
function storage(vmx: VmxFile, vmxPath: string, warnings: string[]): { disks: SourceDisk[]; removables: SourceRemovable[] } {
  const slots = new Map<string, Slot>();
  for (const key of vmx.entries.keys()) {
    const m = DEVICE_KEY_RE.exec(key);
    if (!m?.[1] || !m[2] || !m[3]) continue;
    const ns = key.slice(0, key.indexOf('.'));
    if (!slots.has(ns)) slots.set(ns, { bus: m[1] as DiskBus, controller: Number(m[2]), unit: Number(m[3]), ns });
  }

  const disks: SourceDisk[] = [];
  const removables: SourceRemovable[] = [];
  const vmxDir = path.dirname(vmxPath);
  for (const slot of [...slots.values()].sort(compareSlots)) {
    if (isVmxNamespaceHidden(vmx, slot.ns)) continue;
    const { bus, controller, unit } = slot;
    const fileName = vmxGet(vmx, `${slot.ns}.fileName`)?.trim() || undefined;
    const typeEntry = vmxEntry(vmx, `${slot.ns}.deviceType`);
    const type = typeEntry?.value.trim().toLowerCase();

    if (type !== undefined && CDROM_TYPES.has(type)) {
      removables.push({ kind: 'cdrom', bus, controller, unit });
      continue;
    }
    // Without a deviceType VMware assumes a hard disk; we trust that only for a .vmdk file.
    const isDisk = type !== undefined ? DISK_TYPES.has(type) : fileName === undefined || /\.vmdk$/i.test(fileName);
    if (!isDisk) {
      const what = typeEntry ? `has deviceType "${typeEntry.value}"` : `has no deviceType and file "${fileName}"`;
      warnings.push(`${slot.ns} in ${vmxPath} ${what}, which is neither a disk nor a CD-ROM; it is skipped`);
      continue;
    }
    if (fileName === undefined) {
      warnings.push(`${slot.ns} in ${vmxPath} has no fileName, so the disk is skipped`);
      continue;
    }
    const controllerModel = bus === 'scsi' ? vmxGet(vmx, `scsi${controller}.virtualDev`)?.trim().toLowerCase() : undefined;
    disks.push({
      // path.resolve keeps an absolute fileName and joins a relative one to the .vmx directory.
      path: path.resolve(vmxDir, fileName),
      bus,
      controller,
      unit,
      ...(controllerModel && { controllerModel }),
    });
  }
  return { disks, removables: [...removables, ...floppies(vmx)] };
}

/**
 * Floppy drives `floppyN`, in order of N. VMware's default for floppy0.present
 * is TRUE (hence ESXi writes "FALSE" explicitly), so a floppy namespace that is
 * not switched off is a drive.
 */
function floppies(vmx: VmxFile): SourceRemovable[] {
  const units = new Set<number>();
  for (const key of vmx.entries.keys()) {
    const n = FLOPPY_KEY_RE.exec(key)?.[1];
    if (n !== undefined && !isVmxNamespaceHidden(vmx, `floppy${n}`)) units.add(Number(n));
  }
  return [...units].sort((a, b) => a - b).map((unit) => ({ kind: 'floppy', bus: 'fdc', controller: 0, unit }));
}

/** Network interfaces `ethernetN`, in order of N. */
function nics(vmx: VmxFile, vmxPath: string, warnings: string[]): SourceNic[] {
  const indexes = new Set<number>();
  for (const key of vmx.entries.keys()) {
    const n = NIC_KEY_RE.exec(key)?.[1];
    if (n !== undefined) indexes.add(Number(n));
  }
  const result: SourceNic[] = [];
  for (const n of [...indexes].sort((a, b) => a - b)) {
    const ns = `ethernet${n}`;
    if (isVmxNamespaceHidden(vmx, ns)) continue;
    const model = vmxGet(vmx, `${ns}.virtualDev`)?.trim().toLowerCase() || 'e1000';
    const mac = nicMac(vmx, ns, vmxPath, warnings);
    const network = vmxGet(vmx, `${ns}.networkName`);
    const connectionType = vmxGet(vmx, `${ns}.connectionType`)?.trim().toLowerCase();
    const slot = vmxGet(vmx, `${ns}.pciSlotNumber`)?.trim();
    // -1 (or absent) means VMware has not placed the NIC yet: no slot, no ensN name to expect.
    const pciSlot = slot !== undefined && /^\d+$/.test(slot) ? Number(slot) : undefined;
    result.push({
      ...(mac && { mac }),
      model,
      ...(network && { network }),
      ...(connectionType && { connectionType }),
      ...(pciSlot !== undefined && { pciSlot }),
    });
  }
  return result;
}

/** The MAC of a NIC: `.address` when addressType is "static", else `.generatedAddress` (also for "vpx"). */
function nicMac(vmx: VmxFile, ns: string, vmxPath: string, warnings: string[]): string | undefined {
  const isStatic = vmxGet(vmx, `${ns}.addressType`)?.trim().toLowerCase() === 'static';
  const key = `${ns}.${isStatic ? 'address' : 'generatedAddress'}`;
  const entry = vmxEntry(vmx, key);
  if (!entry) {
    if (isStatic) warnings.push(`${ns} in ${vmxPath} has addressType "static" but no address; it gets no fixed MAC`);
    return undefined;
  }
  const mac = entry.value.trim().toLowerCase();
  if (MAC_RE.test(mac)) return mac;
  warnings.push(`line ${entry.line} of ${vmxPath}: ${entry.key} = "${entry.value}" is not a MAC address; it is not kept`);
  return undefined;
}
