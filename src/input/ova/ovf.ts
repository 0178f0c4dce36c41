/**
 * The OVF parser (`-i ova`): maps an OVF envelope, as VMware (ovftool, vSphere,
 * Workstation) exports it, onto the `Source` model. Pure: no file system
 * access; disk file names are resolved as strings against the OVF directory.
 * Resource types and units: DMTF DSP0243 (OVF), CIM_ResourceAllocationSettingData.
 */
import path from 'node:path';
import { asNode, child, children, parseXmlTree, textOf as rawText, type XmlNode } from '../../text/xml-tree.js';
import { SourceError } from '../../errors.js';
import type { DiskBus, Source, SourceDisk, SourceNic, SourceRemovable } from '../../model.js';

/** Memory assumed when the OVF has no memory item, in MiB (the -i disk default). */
export const OVF_DEFAULT_MEMORY_MIB = 2048;

/** CIM resource types (rasd:ResourceType) we read. */
const RT = { other: 1, cpu: 3, memory: 4, ide: 5, scsi: 6, ethernet: 10, floppy: 14, cd: 15, dvd: 16, disk: 17, storage: 20 } as const;
/** Guest order of disks, as in the VMX input: SCSI, NVMe, SATA, IDE. */
const BUS_ORDER: readonly DiskBus[] = ['scsi', 'nvme', 'sata', 'ide', 'fdc'];
/** OVF SCSI subtypes → the VMX `scsiN.virtualDev` names the rest of v2v knows. */
const SCSI_MODELS: Readonly<Record<string, string>> = {
  virtualscsi: 'pvscsi',
  lsilogicsas: 'lsisas1068',
  lsilogic: 'lsilogic',
  buslogic: 'buslogic',
};
/** OVF NIC subtypes → VMX `ethernetN.virtualDev` names. */
const NIC_MODELS: Readonly<Record<string, string>> = { pcnet32: 'vlance' };
/** OVF sound subtypes (`vmware.soundcard.X`) → VMX `sound.virtualDev` names. */
const SOUND_MODELS: Readonly<Record<string, string>> = { ensoniq1371: 'es1371' };
const MAC_RE = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/;

/** A controller Item: bus, index on that bus and model. */
interface Controller {
  bus: DiskBus;
  index: number;
  model?: string;
}

/**
 * Parses OVF text; `dir` is where the .ovf and its files are, `label` names
 * the .ovf in messages. Warnings are pushed to `warnings` as they are found
 * (it becomes `Source.warnings`), so a caller keeps them when parsing throws.
 */
export function parseOvf(text: string, dir: string, label = dir, warnings: string[] = []): Source {
  const envelope = parseXml(text, label)['Envelope'];
  if (envelope === undefined) {
    throw new SourceError(`${label} is not an OVF descriptor (no <Envelope> root element): re-export the VM as OVF/OVA.`);
  }
  const root = asNode(envelope);
  const system = virtualSystem(root, label);
  const hardware = child(system, 'VirtualHardwareSection');
  const items = ['Item', 'StorageItem', 'EthernetPortItem'].flatMap((name) => children(hardware, name));
  const config = configValues(hardware);

  const name = textOf(child(system, 'Name'))?.trim() || attr(system, 'id')?.trim() || path.basename(label, '.ovf');
  const cpu = items.find((item) => resourceType(item) === RT.cpu);
  const vcpus = positive(field(cpu, 'VirtualQuantity')) ?? 1;
  const coresPerSocket = positive(field(cpu, 'CoresPerSocket'));
  let cpuTopology: Source['cpuTopology'];
  if (coresPerSocket !== undefined && vcpus % coresPerSocket === 0) {
    cpuTopology = { sockets: vcpus / coresPerSocket, cores: coresPerSocket, threads: 1 };
  } else if (coresPerSocket !== undefined) {
    warnings.push(`${label}: ${coresPerSocket} cores per socket does not divide ${vcpus} vCPUs; the CPU topology is dropped`);
  }

  const systemType = textOf(child(child(hardware, 'System'), 'VirtualSystemType')) ?? '';
  const firmware = config.get('firmware')?.toLowerCase() === 'efi' || /\befi\b/i.test(systemType) ? 'uefi' : 'bios';
  const secure = [config.get('bootoptions.efisecurebootenabled'), config.get('uefi.secureboot.enabled')].some(
    (v) => v?.toLowerCase() === 'true',
  );
  if (secure && firmware === 'bios') warnings.push(`${label}: secure boot is enabled but the VM boots with BIOS; secure boot is ignored`);

  const { disks, removables } = storage(root, items, dir, label, warnings);
  if (disks.length === 0) {
    throw new SourceError(
      `${label} describes no disks (no disk Item with a HostResource that names a file): re-export the VM with its disks.`,
    );
  }
  const soundType = items.map((item) => /^vmware\.soundcard\.(.+)$/i.exec(field(item, 'ResourceSubType') ?? '')?.[1]).find(Boolean);
  const sound = soundType === undefined ? undefined : (SOUND_MODELS[soundType.toLowerCase()] ?? soundType.toLowerCase());

  return {
    name,
    memoryMiB: memoryMiB(items, label, warnings),
    vcpus,
    ...(cpuTopology && { cpuTopology }),
    firmware,
    secureBoot: secure && firmware === 'uefi',
    disks,
    removables,
    nics: items.filter((item) => resourceType(item) === RT.ethernet).map((item) => nic(item, label, warnings)),
    ...(sound && { sound }),
    warnings,
  };
}

/**
 * Bytes per unit of a CIM programmatic unit such as "byte * 2^20", "byte *
 * 10^9" or "bytes", or a legacy name ("MegaBytes", "KB"; binary, as VMware
 * means them). Undefined when the unit is not one of those.
 */
export function ovfUnitBytes(units: string): number | undefined {
  const u = units.replace(/\s+/g, '').toLowerCase();
  const legacy: Record<string, number> = {
    kilobytes: 2 ** 10,
    kb: 2 ** 10,
    megabytes: 2 ** 20,
    mb: 2 ** 20,
    gigabytes: 2 ** 30,
    gb: 2 ** 30,
  };
  if (legacy[u] !== undefined) return legacy[u];
  const m = /^bytes?((?:\*\d+(?:\^\d+)?)*)$/.exec(u);
  if (!m) return undefined;
  let bytes = 1;
  for (const factor of (m[1] ?? '').split('*').filter(Boolean)) {
    const [base = '1', exponent = '1'] = factor.split('^');
    bytes *= Number(base) ** Number(exponent);
  }
  return bytes;
}

/** Parses the OVF with namespace prefixes stripped; malformed XML is a SourceError. */
function parseXml(text: string, label: string): XmlNode {
  return parseXmlTree(
    text,
    { stripPrefixes: true },
    (why) => new SourceError(`${label} is not well-formed XML (${why}): the OVA is corrupt, re-export it.`),
  );
}

/** An element's trimmed text. */
function textOf(node: XmlNode | undefined): string | undefined {
  return rawText(node)?.trim();
}

/** An attribute's value (prefix stripped: ovf:href → href). */
function attr(node: XmlNode | undefined, name: string): string | undefined {
  return node?.$?.[name];
}

/** The text of an Item's property element (rasd:X, vmw:X...). */
function field(item: XmlNode | undefined, name: string): string | undefined {
  return textOf(child(item, name));
}

function resourceType(item: XmlNode): number {
  return Number(field(item, 'ResourceType'));
}

function positive(value: string | undefined): number | undefined {
  const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : 0;
  return n > 0 ? n : undefined;
}

/** The one VirtualSystem (directly in the envelope or in a VirtualSystemCollection). */
function virtualSystem(root: XmlNode, label: string): XmlNode {
  const systems = [...children(root, 'VirtualSystem'), ...children(child(root, 'VirtualSystemCollection'), 'VirtualSystem')];
  const [system] = systems;
  if (system === undefined) throw new SourceError(`${label} has no <VirtualSystem>: re-export the VM as OVF/OVA.`);
  if (systems.length > 1) {
    throw new SourceError(
      `${label} describes ${systems.length} virtual machines, but only single-VM OVAs are supported: export each VM on its own.`,
    );
  }
  return system;
}

/** vmw:Config and vmw:ExtraConfig key → value, keys lower-cased. */
function configValues(hardware: XmlNode | undefined): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of [...children(hardware, 'Config'), ...children(hardware, 'ExtraConfig')]) {
    const key = attr(entry, 'key');
    const value = attr(entry, 'value');
    if (key !== undefined && value !== undefined) values.set(key.toLowerCase(), value);
  }
  return values;
}

/** The memory Item in whole MiB (rounded up); units default to MiB as VMware writes them. */
function memoryMiB(items: XmlNode[], label: string, warnings: string[]): number {
  const item = items.find((i) => resourceType(i) === RT.memory);
  const quantity = positive(field(item, 'VirtualQuantity'));
  if (item === undefined || quantity === undefined) {
    warnings.push(`${label} gives no memory size; the guest gets ${OVF_DEFAULT_MEMORY_MIB} MiB`);
    return OVF_DEFAULT_MEMORY_MIB;
  }
  const units = field(item, 'AllocationUnits') ?? 'byte * 2^20';
  const unitBytes = ovfUnitBytes(units);
  if (unitBytes === undefined) {
    throw new SourceError(
      `${label} gives memory in unknown units "${units}": edit its AllocationUnits to "byte * 2^20" (MiB) and fix the manifest.`,
    );
  }
  return Math.ceil((quantity * unitBytes) / 2 ** 20);
}

/** Controller Items by InstanceID; the index is rasd:Address, else the count of that bus so far. */
function controllers(items: XmlNode[]): Map<string, Controller> {
  const result = new Map<string, Controller>();
  const counts = new Map<DiskBus, number>();
  for (const item of items) {
    const type = resourceType(item);
    const subtype = field(item, 'ResourceSubType')?.toLowerCase() ?? '';
    let bus: DiskBus | undefined;
    if (type === RT.ide) bus = 'ide';
    else if (type === RT.scsi) bus = 'scsi';
    else if (type === RT.storage && /sata|ahci/.test(subtype)) bus = 'sata';
    else if (type === RT.storage && /nvme/.test(subtype)) bus = 'nvme';
    const id = field(item, 'InstanceID');
    if (bus === undefined || id === undefined) continue;
    const count = counts.get(bus) ?? 0;
    counts.set(bus, count + 1);
    const model = bus === 'scsi' && subtype ? (SCSI_MODELS[subtype] ?? subtype) : undefined;
    result.set(id, { bus, index: positiveOrZero(field(item, 'Address')) ?? count, ...(model && { model }) });
  }
  return result;
}

function positiveOrZero(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** A slot on a controller for a device Item; an unknown Parent is warned about and taken as SCSI 0. */
function slot(item: XmlNode, ctrls: Map<string, Controller>, index: number, what: string, warnings: string[]) {
  const parent = field(item, 'Parent');
  const ctrl = parent === undefined ? undefined : ctrls.get(parent);
  if (ctrl === undefined) warnings.push(`${what} is not on a known disk controller (Parent ${parent ?? 'missing'}); it is taken as SCSI`);
  const unit = positiveOrZero(field(item, 'AddressOnParent')) ?? index;
  return { bus: ctrl?.bus ?? 'scsi', controller: ctrl?.index ?? 0, unit, model: ctrl?.model };
}

/** Disks and removables in guest order. */
function storage(root: XmlNode, items: XmlNode[], dir: string, label: string, warnings: string[]) {
  const files = new Map(children(child(root, 'References'), 'File').map((f) => [attr(f, 'id') ?? '', f]));
  const ovfDisks = new Map(children(child(root, 'DiskSection'), 'Disk').map((d) => [attr(d, 'diskId') ?? '', d]));
  const ctrls = controllers(items);
  const disks: SourceDisk[] = [];
  const removables: SourceRemovable[] = [];
  items.forEach((item, index) => {
    const type = resourceType(item);
    const what = `${field(item, 'ElementName') ?? `Item ${field(item, 'InstanceID') ?? index}`} in ${label}`;
    if (type === RT.floppy) {
      removables.push({ kind: 'floppy', bus: 'fdc', controller: 0, unit: positiveOrZero(field(item, 'AddressOnParent')) ?? 0 });
    } else if (type === RT.cd || type === RT.dvd) {
      const { bus, controller, unit } = slot(item, ctrls, index, what, warnings);
      removables.push({ kind: 'cdrom', bus, controller, unit });
    } else if (type === RT.disk) {
      const resource = field(item, 'HostResource') ?? '';
      const ref = /^(?:ovf:)?\/(disk|file)\/(.+)$/.exec(resource);
      const disk = ref?.[1] === 'disk' ? ovfDisks.get(ref[2] ?? '') : undefined;
      const fileId = ref?.[1] === 'file' ? ref[2] : attr(disk, 'fileRef');
      const file = fileId === undefined ? undefined : files.get(fileId);
      if (file === undefined) {
        const why =
          disk !== undefined && fileId === undefined
            ? 'is a blank disk created at deploy time'
            : `names "${resource}", which is not in References`;
        warnings.push(`${what} ${why}; it is skipped`);
        return;
      }
      const { bus, controller, unit, model } = slot(item, ctrls, index, what, warnings);
      const vmdk = /vmdk/i.test(attr(disk, 'format') ?? '') || /\.vmdk$/i.test(attr(file, 'href') ?? '');
      disks.push({
        path: filePath(file, dir, label),
        ...(vmdk && { format: 'vmdk' }),
        bus,
        controller,
        unit,
        ...(model && { controllerModel: model }),
      });
    }
  });
  const order = (a: { bus: DiskBus; controller: number; unit: number }, b: typeof a): number =>
    BUS_ORDER.indexOf(a.bus) - BUS_ORDER.indexOf(b.bus) || a.controller - b.controller || a.unit - b.unit;
  return { disks: disks.sort(order), removables: removables.sort(order) };
}

/** The hrefs of the References/File entries compressed with gzip (`ovf:compression="gzip"`, what `ovftool --compress` writes). */
export function gzipFiles(text: string, label: string): Set<string> {
  const root = asNode(parseXml(text, label)['Envelope']);
  return new Set(
    children(child(root, 'References'), 'File')
      .filter((f) => attr(f, 'compression')?.toLowerCase() === 'gzip')
      .map((f) => attr(f, 'href') ?? ''),
  );
}

/** A References/File as a path inside `dir`; URLs, escapes from the directory, chunked files and compression other than gzip are refused. */
function filePath(file: XmlNode, dir: string, label: string): string {
  const href = attr(file, 'href') ?? '';
  if (href === '' || /^[a-z][a-z0-9+.-]*:/i.test(href) || path.isAbsolute(href) || href.split(/[\\/]/).includes('..')) {
    throw new SourceError(
      `${label} names the disk file "${href}", which is not a file inside the OVA: only disks shipped in the OVA itself are supported.`,
    );
  }
  const compression = attr(file, 'compression');
  if ((compression !== undefined && compression.toLowerCase() !== 'gzip') || attr(file, 'chunkSize') !== undefined) {
    throw new SourceError(
      `The disk file ${href} in ${label} is compressed with "${compression ?? 'none'}" or split (ovf:chunkSize), which is not supported: re-export the OVA without compression or with gzip.`,
    );
  }
  return path.resolve(dir, href);
}

/** One ethernet Item: MAC from rasd:Address, model from the subtype, network from rasd:Connection. */
function nic(item: XmlNode, label: string, warnings: string[]): SourceNic {
  const subtype = field(item, 'ResourceSubType')?.toLowerCase();
  const model = subtype === undefined ? undefined : (NIC_MODELS[subtype] ?? subtype);
  const address = field(item, 'Address');
  const mac = address?.toLowerCase().replaceAll('-', ':');
  if (address !== undefined && !MAC_RE.test(address.toLowerCase())) {
    warnings.push(`${label}: the network adapter address "${address}" is not a MAC address; it is not kept`);
  }
  const network = field(item, 'Connection');
  return {
    ...(mac !== undefined && MAC_RE.test(mac) && { mac }),
    ...(model && { model }),
    ...(network && { network }),
  };
}
