/**
 * The libvirt domain XML parser (`-i libvirtxml`): maps a `<domain>` document
 * onto the `Source` model. Pure: no file system access; relative disk paths
 * are resolved as strings against the XML file's directory.
 * Element reference: https://libvirt.org/formatdomain.html
 */
import path from 'node:path';
import { asNode, child, children, parseXmlTree, textOf, type XmlNode } from '../../text/xml-tree.js';
import { SourceError } from '../../errors.js';
import type { DiskBus, Firmware, Source, SourceDisk, SourceNic, SourceRemovable } from '../../model.js';

/** libvirt disk buses we carry over as they are; others are warned about and treated as SCSI. */
const KNOWN_BUSES: ReadonlySet<string> = new Set<DiskBus>(['virtio', 'scsi', 'sata', 'ide', 'nvme', 'fdc']);
/**
 * Guest order of disks: virtio first (a KVM guest's boot disk is nearly always
 * vda), then the emulated buses as in the VMX input, then by target dev.
 */
const BUS_ORDER: readonly DiskBus[] = ['virtio', 'scsi', 'nvme', 'sata', 'ide', 'fdc'];
/** Bus implied by a target dev prefix when `<target bus>` is absent (libvirt does the same). */
const DEV_PREFIX_BUS: ReadonlyArray<[string, string]> = [
  ['xvd', 'xen'],
  ['vd', 'virtio'],
  ['sd', 'scsi'],
  ['hd', 'ide'],
  ['fd', 'fdc'],
];
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Parses the text of a libvirt domain XML file (read from `xmlPath`) into the
 * source model. Warnings are pushed to `warnings` as they are found (it
 * becomes `Source.warnings`), so a caller keeps them when parsing throws.
 */
export function parseLibvirtXml(text: string, xmlPath: string, warnings: string[] = []): Source {
  const root = parseXml(text, xmlPath);
  const domain = root['domain'];
  if (domain === undefined) {
    const found = Object.keys(root)[0] ?? 'nothing';
    throw new SourceError(
      `${xmlPath} is not a libvirt domain XML (its root element is <${found}>, not <domain>): pass the output of "virsh dumpxml GUEST".`,
    );
  }
  const node = asNode(domain);

  const name = textOf(child(node, 'name'))?.trim() || fallbackName(xmlPath, warnings);
  const memoryMiB = memory(node, xmlPath);
  const vcpus = vcpuCount(node, xmlPath, warnings);
  const cpuTopology = topology(node, xmlPath, vcpus, warnings);
  const { firmware, secureBoot } = firmwareOf(node, xmlPath, warnings);
  const devices = child(node, 'devices') ?? {};
  const { disks, removables } = storage(devices, xmlPath, warnings);
  if (disks.length === 0) {
    throw new SourceError(
      `The domain XML ${xmlPath} has no disks: add the guest's disks as <disk type='file' device='disk'> elements with a <source file=...>.`,
    );
  }
  const genid = textOf(child(node, 'genid'))?.trim().toLowerCase();
  const sound = attr(child(devices, 'sound'), 'model')?.trim().toLowerCase();

  return {
    name,
    memoryMiB,
    vcpus,
    ...(cpuTopology && { cpuTopology }),
    firmware,
    secureBoot,
    disks,
    removables,
    nics: children(devices, 'interface').map((nic) => interfaceOf(nic, xmlPath, warnings)),
    ...(genid !== undefined && GUID_RE.test(genid) && { genid }),
    ...(sound && { sound }),
    warnings,
  };
}

/**
 * Bytes for a libvirt scaled integer: `unit` is b/bytes, k/KiB (the default
 * when absent), KB (10^3), M/MiB, MB, G/GiB, GB, T/TiB, TB, P/PiB, PB, E/EiB,
 * EB, case-insensitive. Returns undefined for an unknown unit or a bad number.
 */
export function libvirtScaledBytes(value: string, unit: string | undefined): number | undefined {
  if (!/^\s*\d+\s*$/.test(value)) return undefined;
  const n = Number(value);
  const u = (unit ?? 'KiB').trim().toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return n;
  const power = 'kmgtpe'.indexOf(u.charAt(0)) + 1;
  if (power === 0) return undefined;
  const rest = u.slice(1);
  const base = rest === '' || rest === 'ib' ? 1024 : rest === 'b' ? 1000 : undefined;
  return base === undefined ? undefined : n * base ** power;
}

/** Parses the domain XML; malformed XML is a SourceError. */
function parseXml(text: string, xmlPath: string): XmlNode {
  return parseXmlTree(
    text,
    { stripPrefixes: false },
    (why) => new SourceError(`${xmlPath} is not well-formed XML (${why}): pass the output of "virsh dumpxml GUEST".`),
  );
}

/** An attribute's value. */
function attr(node: XmlNode | undefined, name: string): string | undefined {
  return node?.$?.[name];
}

/** The guest name when `<name>` is missing: the file name, as for a VMX without displayName. */
function fallbackName(xmlPath: string, warnings: string[]): string {
  const name = path.basename(xmlPath, path.extname(xmlPath));
  warnings.push(`${xmlPath} has no <name>; the guest is called "${name}" after the file`);
  return name;
}

/** `<memory>` (the boot-time maximum) in whole MiB, rounded up so the guest never gets less. */
function memory(domain: XmlNode, xmlPath: string): number {
  const element = child(domain, 'memory');
  const value = textOf(element);
  if (value === undefined) {
    throw new SourceError(`The domain XML ${xmlPath} has no <memory> element: add e.g. <memory unit='MiB'>2048</memory>.`);
  }
  const bytes = libvirtScaledBytes(value, attr(element, 'unit'));
  if (bytes === undefined || bytes <= 0) {
    throw new SourceError(
      `<memory unit='${attr(element, 'unit') ?? 'KiB'}'>${value.trim()}</memory> in ${xmlPath} is not a memory size: use a positive whole number and a unit such as KiB, MiB or GiB.`,
    );
  }
  return Math.ceil(bytes / 2 ** 20);
}

/** `<vcpu>`: the maximum vCPU count (libvirt's default is 1); a lower `current` is kept as a warning. */
function vcpuCount(domain: XmlNode, xmlPath: string, warnings: string[]): number {
  const element = child(domain, 'vcpu');
  const value = textOf(element)?.trim();
  if (value === undefined) return 1;
  const n = /^\d+$/.test(value) ? Number(value) : 0;
  if (n <= 0) {
    warnings.push(`${xmlPath}: <vcpu>${value}</vcpu> is not a positive whole number; the guest gets 1 vCPU`);
    return 1;
  }
  const current = attr(element, 'current');
  if (current !== undefined && Number(current) < n) {
    warnings.push(`${xmlPath}: the guest booted with ${current} of ${n} vCPUs; the converted guest gets all ${n}`);
  }
  return n;
}

/** `<cpu><topology>`; dies and clusters fold into sockets. Dropped with a warning when it does not multiply to the vCPU count. */
function topology(domain: XmlNode, xmlPath: string, vcpus: number, warnings: string[]): Source['cpuTopology'] {
  const element = child(child(domain, 'cpu'), 'topology');
  if (element === undefined) return undefined;
  const count = (name: string): number => {
    const value = attr(element, name);
    return value === undefined ? 1 : /^\s*\d+\s*$/.test(value) ? Number(value) : 0;
  };
  const sockets = count('sockets') * count('dies') * count('clusters');
  const cores = count('cores');
  const threads = count('threads');
  if (sockets * cores * threads !== vcpus || vcpus === 0) {
    warnings.push(
      `${xmlPath}: the CPU topology (${sockets} sockets × ${cores} cores × ${threads} threads) does not match ${vcpus} vCPUs; it is dropped`,
    );
    return undefined;
  }
  return { sockets, cores, threads };
}

/**
 * UEFI when `<os firmware='efi'>`, or when a `<loader>` is a pflash image or
 * names OVMF/AAVMF/edk2 (older XML without the firmware attribute). Secure
 * boot from `<firmware><feature name='secure-boot' enabled='yes'>` or
 * `<loader secure='yes'>`.
 */
function firmwareOf(domain: XmlNode, xmlPath: string, warnings: string[]): { firmware: Firmware; secureBoot: boolean } {
  const os = child(domain, 'os');
  const loader = child(os, 'loader');
  const isEfiLoader = attr(loader, 'type') === 'pflash' || /ovmf|aavmf|edk2/i.test(textOf(loader) ?? '');
  const firmware: Firmware = attr(os, 'firmware') === 'efi' || isEfiLoader ? 'uefi' : 'bios';
  const feature = children(child(os, 'firmware'), 'feature').find((f) => attr(f, 'name') === 'secure-boot');
  const secure = attr(feature, 'enabled') === 'yes' || attr(loader, 'secure') === 'yes';
  if (secure && firmware === 'bios') {
    warnings.push(`${xmlPath}: secure boot is enabled but the guest boots with BIOS; secure boot is ignored`);
  }
  return { firmware, secureBoot: secure && firmware === 'uefi' };
}

/** A disk or removable with the key it is sorted by. */
interface Slot {
  bus: DiskBus;
  controller: number;
  unit: number;
}

/** Disks and removables from `<disk>` elements, in guest order (see BUS_ORDER). */
function storage(devices: XmlNode, xmlPath: string, warnings: string[]): { disks: SourceDisk[]; removables: SourceRemovable[] } {
  const disks: SourceDisk[] = [];
  const removables: SourceRemovable[] = [];
  const xmlDir = path.dirname(xmlPath);
  children(devices, 'disk').forEach((disk, index) => {
    const device = attr(disk, 'device') ?? 'disk';
    const dev = attr(child(disk, 'target'), 'dev');
    const what = `the ${device} ${dev ?? `#${index + 1}`} in ${xmlPath}`;
    const slot = slotOf(disk, dev, index, what, warnings);
    if (device === 'cdrom' || device === 'floppy') {
      removables.push({ kind: device, ...slot });
      return;
    }
    const type = attr(disk, 'type') ?? 'file';
    if (type !== 'file' && type !== 'block') {
      throw new SourceError(
        `${capitalize(what)} is a ${type} disk, but only file- and block-backed disks are supported: copy it to a local file and point <source file=...> at it.`,
      );
    }
    const source = attr(child(disk, 'source'), type === 'file' ? 'file' : 'dev');
    if (source === undefined || source === '') {
      throw new SourceError(`${capitalize(what)} has no <source ${type === 'file' ? 'file' : 'dev'}=...>: add the path of its image.`);
    }
    const format = attr(child(disk, 'driver'), 'type');
    disks.push({ path: path.resolve(xmlDir, source), ...(format && { format }), ...slot });
  });
  const order = (a: Slot, b: Slot): number => BUS_ORDER.indexOf(a.bus) - BUS_ORDER.indexOf(b.bus) || a.unit - b.unit;
  return { disks: disks.sort(order), removables: removables.sort(order) };
}

/**
 * Bus from `<target bus>` (else from the dev prefix); unit is the drive
 * letter index of the target dev (vda 0, sdc 2, vdaa 26) so units follow
 * target dev order; controller from `<address controller>`, else 0.
 */
function slotOf(disk: XmlNode, dev: string | undefined, index: number, what: string, warnings: string[]): Slot {
  const target = child(disk, 'target');
  const prefix = DEV_PREFIX_BUS.find(([p]) => dev?.startsWith(p));
  const rawBus = attr(target, 'bus') ?? prefix?.[1] ?? 'scsi';
  let bus: DiskBus;
  if (KNOWN_BUSES.has(rawBus)) {
    bus = rawBus as DiskBus;
  } else {
    warnings.push(`${what} is on a ${rawBus} bus, which has no counterpart here; it is treated as SCSI`);
    bus = 'scsi';
  }
  const letters = dev !== undefined && prefix ? dev.slice(prefix[0].length) : '';
  const unit = /^[a-z]+$/.test(letters) ? letterIndex(letters) : index;
  const controller = Number(attr(child(disk, 'address'), 'controller') ?? 0);
  return { bus, controller: Number.isSafeInteger(controller) ? controller : 0, unit };
}

/** Drive letters to an index: a → 0, z → 25, aa → 26 (bijective base 26). */
function letterIndex(letters: string): number {
  let n = 0;
  for (const c of letters) n = n * 26 + (c.charCodeAt(0) - 96);
  return n - 1;
}

/** One `<interface>`: MAC, model, network/bridge/dev name, and its type as the connection type. */
function interfaceOf(nic: XmlNode, xmlPath: string, warnings: string[]): SourceNic {
  const type = attr(nic, 'type');
  const source = child(nic, 'source');
  const network = attr(source, 'network') ?? attr(source, 'bridge') ?? attr(source, 'dev');
  const model = attr(child(nic, 'model'), 'type')?.trim().toLowerCase();
  const rawMac = attr(child(nic, 'mac'), 'address');
  const mac = rawMac?.trim().toLowerCase();
  if (rawMac !== undefined && !MAC_RE.test(mac ?? '')) {
    warnings.push(`${xmlPath}: <mac address='${rawMac}'> is not a MAC address; it is not kept`);
  }
  return {
    ...(mac !== undefined && MAC_RE.test(mac) && { mac }),
    ...(model && { model }),
    ...(network && { network }),
    ...(type && { connectionType: type }),
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
