/**
 * Builds the libvirt domain XML for a converted guest. Pure: data in, string
 * out. Every element goes through the xml2js Builder, which escapes all text
 * and attribute values; no XML is assembled by string concatenation.
 *
 * Element order follows what `virsh dumpxml` prints, so a defined domain and
 * our output diff cleanly, and object key order makes the output stable for
 * golden files. Schema: https://libvirt.org/formatdomain.html
 */
import { Builder } from 'xml2js';
import { ConversionError } from '../errors.js';
import { type Firmware, type GuestCaps, type Inspection, type Source, type TargetDisk, driveLetters } from '../model.js';
import { bootFirmware } from './firmware.js';

/** Where one converted NIC is plugged in on the target host. */
export interface NicTarget {
  type: 'network' | 'bridge';
  /** libvirt network name, or host bridge name. */
  name: string;
  /** libvirt NIC model ("virtio", "e1000", ...). */
  model: string;
  mac?: string;
}

/** Everything buildDomainXml needs; `networks` defaults to one libvirt "default" network per source NIC. */
export interface DomainXmlInput {
  name: string;
  /** The domain's UUID; absent: libvirt makes one up when defining it. */
  uuid?: string;
  source: Source;
  disks: TargetDisk[];
  caps: GuestCaps;
  inspection?: Inspection;
  networks?: NicTarget[];
}

/** An element as xml2js builds it: `$` holds attributes, `_` text, other keys children. */
type XmlElement = { [key: string]: XmlValue };
type XmlValue = string | number | XmlElement | XmlElement[];

const LIBOSINFO_NS = 'http://libosinfo.org/xmlns/libvirt/domain/1.0';

/**
 * IDE has two buses with a master and a slave each (hda..hdd), and libvirt
 * gives the pc machine type one IDE controller ("Only 1 IDE controller is
 * supported" for hde, libvirt 9.0). SATA has no such limit: libvirt adds an
 * AHCI controller for every 6 SATA devices, and names go on past sdz (sdaa,
 * sdab, ...; 128 disks and 4 CD-ROMs defined, libvirt 9.0).
 */
const IDE_MAX_DEVICES = 4;

/** The libosinfo OS id (e.g. "http://debian.org/debian/12") for an inspected guest, or undefined when we cannot tell. */
export function osinfoId(inspection: Inspection): string | undefined {
  const { distro, majorVersion: major, minorVersion: minor, productName } = inspection;
  // libguestfs reports 0 when it could not read the version.
  if (!(major > 0)) return undefined;
  switch (distro) {
    case 'debian':
      return `http://debian.org/debian/${major}`;
    case 'ubuntu':
      return `http://ubuntu.com/ubuntu/${major}.${String(minor).padStart(2, '0')}`;
    case 'rhel':
      return `http://redhat.com/rhel/${major}.${minor}`;
    case 'centos':
      if (/stream/i.test(productName)) return `http://centos.org/centos-stream/${major}`;
      // osinfo-db has one id for all of CentOS 7 (7.0) and one per major from 8 on.
      if (major >= 8) return `http://centos.org/centos/${major}`;
      if (major === 7) return 'http://centos.org/centos/7.0';
      return `http://centos.org/centos/${major}.${minor}`;
    case 'almalinux':
      return `http://almalinux.org/almalinux/${major}`;
    case 'rocky':
      return `http://rockylinux.org/rocky/${major}`;
    case 'fedora':
      return `http://fedoraproject.org/fedora/${major}`;
    case 'sles': {
      // SLE 15 moved to the shared "sle" id space; 12 and older are "sles".
      const family = major >= 15 ? 'sle' : 'sles';
      return `http://suse.com/${family}/${major}${minor > 0 ? `.${minor}` : ''}`;
    }
    case 'opensuse':
      if (/tumbleweed/i.test(productName)) return 'http://opensuse.org/opensuse/tumbleweed';
      return `http://opensuse.org/opensuse/${major}.${minor}`;
    case 'windows':
      return windowsOsinfoId(major, minor, productName);
    default:
      return undefined;
  }
}

/** Windows shares NT versions between client and server releases; the product name tells them apart. */
function windowsOsinfoId(major: number, minor: number, productName: string): string | undefined {
  const server = /server/i.test(productName);
  const nt = `${major}.${minor}`;
  let id: string | undefined;
  if (nt === '6.0') id = server ? '2k8' : 'vista';
  else if (nt === '6.1') id = server ? '2k8r2' : '7';
  else if (nt === '6.2') id = server ? '2k12' : '8';
  else if (nt === '6.3') id = server ? '2k12r2' : '8.1';
  else if (nt === '10.0' && !server) id = /windows 11/i.test(productName) ? '11' : '10';
  else if (nt === '10.0') {
    const year = /\b(2016|2019|2022|2025)\b/.exec(productName)?.[1];
    id = year === undefined ? undefined : `2k${year.slice(2)}`;
  }
  return id === undefined ? undefined : `http://microsoft.com/win/${id}`;
}

/** The NICs to write when the caller did not choose networks: each source NIC on libvirt's "default" network. */
export function defaultNicTargets(source: Source, caps: GuestCaps): NicTarget[] {
  return source.nics.map((nic) => ({
    type: 'network',
    name: 'default',
    model: caps.netModel,
    ...(nic.mac === undefined ? {} : { mac: nic.mac }),
  }));
}

/** The libvirt domain XML (no XML declaration, 2-space indent, trailing newline) for the converted guest. */
export function buildDomainXml(input: DomainXmlInput): string {
  const { source, caps } = input;
  checkCaps(source, caps);
  const osId = input.inspection === undefined ? undefined : osinfoId(input.inspection);
  const isWindows = input.inspection?.type === 'windows';
  const memoryKiB = Math.round(source.memoryMiB * 1024);

  const domain: XmlElement = { $: { type: caps.domainType }, name: input.name, ...(input.uuid ? { uuid: input.uuid } : {}) };
  if (osId !== undefined) {
    domain.metadata = {
      'libosinfo:libosinfo': { $: { 'xmlns:libosinfo': LIBOSINFO_NS }, 'libosinfo:os': { $: { id: osId } } },
    };
  }
  domain.memory = { $: { unit: 'KiB' }, _: String(memoryKiB) };
  domain.currentMemory = { $: { unit: 'KiB' }, _: String(memoryKiB) };
  domain.vcpu = String(source.vcpus);
  domain.os = osElement(source, caps, bootFirmware(source, input.inspection));
  domain.features = featuresElement(source);
  const cpu = cpuElement(source, caps);
  if (cpu !== undefined) domain.cpu = cpu;
  // Windows keeps the RTC in local time; everything else we convert uses UTC.
  domain.clock = { $: { offset: isWindows ? 'localtime' : 'utc' } };
  domain.on_poweroff = 'destroy';
  domain.on_reboot = 'restart';
  domain.on_crash = 'restart';
  domain.devices = devicesElement(input);

  const builder = new Builder({
    headless: true,
    renderOpts: { pretty: true, indent: '  ', newline: '\n' },
  });
  return `${builder.buildObject({ domain })}\n`;
}

/** Rejects capability combinations libvirt would refuse at define time; these are bugs upstream of us. */
function checkCaps(source: Source, caps: GuestCaps): void {
  if (caps.machine === 'q35' && caps.blockBus === 'ide') {
    throw new Error('internal: the q35 machine type has no IDE controller; use sata or the pc machine type');
  }
  if (source.firmware === 'uefi' && source.secureBoot && caps.machine !== 'q35') {
    throw new Error('internal: UEFI secure boot needs SMM, which libvirt only offers on the q35 machine type');
  }
  const topo = source.cpuTopology;
  if (topo !== undefined && topo.sockets * topo.cores * topo.threads !== source.vcpus) {
    throw new Error(`internal: CPU topology ${topo.sockets}×${topo.cores}×${topo.threads} does not match ${source.vcpus} vCPUs`);
  }
}

function osElement(source: Source, caps: GuestCaps, firmware: Firmware): XmlElement {
  const type = { $: { arch: 'x86_64', machine: caps.machine }, _: 'hvm' };
  if (firmware !== 'uefi') return { type };
  // Firmware autoselection picks the first matching descriptor, which on many
  // hosts is a secure-boot build with enrolled keys; say "no" explicitly so
  // a guest that did not use secure boot (unsigned bootloader) still boots.
  return {
    $: { firmware: 'efi' },
    type,
    firmware: { feature: { $: { enabled: source.secureBoot ? 'yes' : 'no', name: 'secure-boot' } } },
  };
}

function featuresElement(source: Source): XmlElement {
  const features: XmlElement = { acpi: '', apic: '' };
  // Secure-boot OVMF builds require SMM; asking for it avoids relying on libvirt to infer it.
  if (source.firmware === 'uefi' && source.secureBoot) features.smm = { $: { state: 'on' } };
  return features;
}

function cpuElement(source: Source, caps: GuestCaps): XmlElement | undefined {
  const topo = source.cpuTopology;
  const topology =
    topo === undefined ? undefined : { $: { sockets: String(topo.sockets), cores: String(topo.cores), threads: String(topo.threads) } };
  // host-model needs a host CPU to copy from, which only KVM provides; under
  // TCG we leave the model to QEMU's default and only describe the topology.
  if (caps.domainType === 'kvm') {
    return topology === undefined ? { $: { mode: 'host-model' } } : { $: { mode: 'host-model' }, topology };
  }
  return topology === undefined ? undefined : { topology };
}

function devicesElement(input: DomainXmlInput): XmlElement {
  const { source, caps } = input;
  const disks: XmlElement[] = input.disks.map((disk, index) => {
    const element: XmlElement = {
      $: { type: 'file', device: 'disk' },
      driver: { $: { name: 'qemu', type: disk.format, discard: 'unmap' } },
      source: { $: { file: disk.path } },
      target: { $: { dev: deviceNameOnBus(disk.dev, caps.blockBus), bus: caps.blockBus } },
    };
    if (index === 0) element.boot = { $: { order: '1' } };
    return element;
  });
  disks.push(...cdromElements(input));

  const devices: XmlElement = {};
  if (disks.length > 0) devices.disk = disks;
  devices.controller = { $: { type: 'virtio-serial', index: '0' } };
  const nics = (input.networks ?? defaultNicTargets(source, caps)).map(interfaceElement);
  if (nics.length > 0) devices.interface = nics;
  devices.serial = { $: { type: 'pty' }, target: { $: { port: '0' } } };
  devices.console = { $: { type: 'pty' }, target: { $: { type: 'serial', port: '0' } } };
  devices.channel = { $: { type: 'unix' }, target: { $: { type: 'virtio', name: 'org.qemu.guest_agent.0' } } };
  devices.input = { $: { type: 'tablet', bus: 'usb' } };
  // VNC on loopback needs no X server and is the only console a guest
  // without a serial console (Windows) has; it is not reachable from outside.
  devices.graphics = {
    $: { type: 'vnc', autoport: 'yes', listen: '127.0.0.1' },
    listen: { $: { type: 'address', address: '127.0.0.1' } },
  };
  devices.video = { model: { $: { type: 'vga' } } };
  devices.memballoon = { $: { model: 'virtio' } };
  devices.rng = { $: { model: 'virtio' }, backend: { $: { model: 'random' }, _: '/dev/urandom' } };
  return devices;
}

/**
 * Refuses a guest whose disks and CD-ROMs do not all fit on the buses the
 * conversion chose: only IDE (pc machine type) is limited, to 4 devices in
 * all. Run once the bus is known (right after conversion, before the copy),
 * so such a guest fails before a byte is copied, not in the output.
 */
export function checkDeviceRoom(source: Source, diskCount: number, caps: Pick<GuestCaps, 'machine' | 'blockBus'>): void {
  const ideDisks = caps.blockBus === 'ide' ? diskCount : 0;
  const ideCdroms = cdromBus(caps) === 'ide' ? source.removables.filter((removable) => removable.kind === 'cdrom').length : 0;
  if (ideDisks + ideCdroms > IDE_MAX_DEVICES) {
    throw new ConversionError(
      `The converted guest would have ${ideDisks} disk(s) and ${ideCdroms} CD-ROM drive(s) on IDE, whose controller has ${IDE_MAX_DEVICES} places: remove CD-ROM drives (or disks) from the source VM so that at most ${IDE_MAX_DEVICES} remain, and convert again.`,
    );
  }
}

/** The bus CD-ROMs go on: SATA on q35, IDE on pc. */
function cdromBus(caps: Pick<GuestCaps, 'machine'>): 'sata' | 'ide' {
  return caps.machine === 'q35' ? 'sata' : 'ide';
}

/**
 * One empty CD-ROM per source CD-ROM, on SATA (q35) or IDE (pc), named with
 * the first free sdX/hdX so it never collides with a target disk. Floppies
 * are dropped: recent QEMU q35 machine types have no floppy controller by default.
 */
function cdromElements(input: DomainXmlInput): XmlElement[] {
  checkDeviceRoom(input.source, input.disks.length, input.caps);
  const bus = cdromBus(input.caps);
  const prefix = bus === 'sata' ? 'sd' : 'hd';
  const used = new Set(input.disks.map((disk) => deviceNameOnBus(disk.dev, input.caps.blockBus)));
  const cdroms = input.source.removables.filter((removable) => removable.kind === 'cdrom');
  return cdroms.map(() => {
    const dev = firstFreeDeviceName(prefix, used);
    used.add(dev);
    return {
      $: { type: 'file', device: 'cdrom' },
      driver: { $: { name: 'qemu', type: 'raw' } },
      target: { $: { dev, bus } },
      readonly: '',
    };
  });
}

/**
 * A disk's target name with the prefix its bus uses (vdX virtio, sdX sata,
 * hdX ide): targets are planned as vdX before conversion decides the bus,
 * and a guest left on emulated SATA (Windows without virtio-win) must not
 * get a "vda" on a SATA bus.
 */
export function deviceNameOnBus(dev: string, bus: GuestCaps['blockBus']): string {
  const prefix = bus === 'virtio' ? 'vd' : bus === 'sata' ? 'sd' : 'hd';
  return dev.replace(/^(vd|sd|hd|xvd)/, prefix);
}

/** The first of prefix+"a", prefix+"b", ..., prefix+"z", prefix+"aa", ... not in `used` (one of the first used.size + 1 names). */
function firstFreeDeviceName(prefix: string, used: ReadonlySet<string>): string {
  for (let index = 0; ; index++) {
    const name = prefix + driveLetters(index);
    if (!used.has(name)) return name;
  }
}

function interfaceElement(nic: NicTarget): XmlElement {
  const element: XmlElement = { $: { type: nic.type } };
  if (nic.mac !== undefined) element.mac = { $: { address: nic.mac } };
  element.source = { $: { [nic.type]: nic.name } };
  element.model = { $: { type: nic.model } };
  return element;
}
