/**
 * A vSphere VM's hardware as the API describes it (VirtualMachineConfigInfo,
 * runtime.powerState), parsed from RetrievePropertiesEx values into typed
 * data in vSphere's own terms. Mapping to v2v's Source model is
 * src/input/vsphere/source.ts.
 */
import { child, children, text, xsiType, type MoRef } from './vsphere-soap.js';
import type { XmlNode } from '../src/text/xml-tree.js';

/** A disk controller: its device key (what disks name as controllerKey), kind and bus number. */
export interface VsphereController {
  key: number;
  /** vim25 type, e.g. "ParaVirtualSCSIController", "VirtualAHCIController". */
  type: string;
  busNumber: number;
}

/** A virtual disk and where its file is. */
export interface VsphereDisk {
  key: number;
  /** Datastore path, e.g. "[LocalDS_0] web01/web01.vmdk". */
  fileName: string;
  controllerKey: number;
  unitNumber: number;
  capacityBytes: number;
  /** The disk has a parent (it is a snapshot delta). */
  hasParent: boolean;
  /** The backing's vim25 type, e.g. "VirtualDiskFlatVer2BackingInfo", "VirtualDiskRawDiskMappingVer1BackingInfo" (an RDM). */
  backingType: string;
  /** "persistent", "independent_persistent", "independent_nonpersistent"... (absent: not given). */
  diskMode?: string;
  /** Changed Block Tracking: the disk's change id ("UUID/SEQ") at this state; absent while CBT is inactive. */
  changeId?: string;
}

/** A network adapter. */
export interface VsphereNic {
  /** vim25 type, e.g. "VirtualVmxnet3", "VirtualE1000e". */
  type: string;
  mac?: string;
  /** Port group name (standard switch), or the distributed port group's key until resolved. */
  network?: string;
  /** Set for a distributed port group: its key, resolved to a name by the caller. */
  portgroupKey?: string;
}

/** A CD-ROM or floppy drive. */
export interface VsphereRemovable {
  kind: 'cdrom' | 'floppy';
  controllerKey: number;
  unitNumber: number;
}

/** What v2v reads of a VM. */
export interface VsphereVm {
  ref: MoRef;
  name: string;
  /** "poweredOff", "poweredOn", "suspended". */
  powerState: string;
  guestId?: string;
  guestFullName?: string;
  /** "bios" or "efi". */
  firmware: string;
  secureBoot: boolean;
  memoryMB: number;
  numCPU: number;
  coresPerSocket: number;
  controllers: VsphereController[];
  disks: VsphereDisk[];
  nics: VsphereNic[];
  removables: VsphereRemovable[];
  /** extraConfig entries (the VMX keys vSphere exposes), e.g. vm.genid. */
  extraConfig: Map<string, string>;
  /** Path of the .vmx, e.g. "[LocalDS_0] web01/web01.vmx". */
  vmPathName?: string;
  /** config.uuid (the BIOS UUID) and config.instanceUuid (vCenter's identity of the VM), when given. */
  uuid?: string;
  instanceUuid?: string;
  /** config.changeTrackingEnabled: Changed Block Tracking is on. */
  changeTrackingEnabled: boolean;
}

/** The controller kinds v2v maps (vim25 type names). */
const CONTROLLER_TYPES = new Set([
  'ParaVirtualSCSIController',
  'VirtualLsiLogicController',
  'VirtualLsiLogicSASController',
  'VirtualBusLogicController',
  'VirtualAHCIController',
  'VirtualIDEController',
  'VirtualNVMEController',
  'VirtualSIOController',
]);

/** NIC types (VirtualEthernetCard subclasses). */
const NIC_TYPES = new Set([
  'VirtualVmxnet3',
  'VirtualVmxnet3Vrdma',
  'VirtualVmxnet2',
  'VirtualVmxnet',
  'VirtualE1000',
  'VirtualE1000e',
  'VirtualPCNet32',
  'VirtualSriovEthernetCard',
]);

const num = (value: string | undefined): number => (value === undefined ? 0 : Number(value));

/** Parses the device list (`config.hardware.device` elements) into controllers, disks, NICs and drives. */
export function parseDevices(devices: XmlNode[]): Pick<VsphereVm, 'controllers' | 'disks' | 'nics' | 'removables'> {
  const controllers: VsphereController[] = [];
  const disks: VsphereDisk[] = [];
  const nics: VsphereNic[] = [];
  const removables: VsphereRemovable[] = [];
  for (const d of devices) {
    const type = xsiType(d) ?? '';
    const key = num(text(d, 'key'));
    if (CONTROLLER_TYPES.has(type)) {
      controllers.push({ key, type, busNumber: num(text(d, 'busNumber')) });
    } else if (type === 'VirtualDisk') {
      const backing = child(d, 'backing');
      const capacity = text(d, 'capacityInBytes') ?? String(num(text(d, 'capacityInKB')) * 1024);
      const diskMode = text(backing, 'diskMode');
      const changeId = text(backing, 'changeId')?.trim();
      disks.push({
        key,
        fileName: text(backing, 'fileName') ?? '',
        controllerKey: num(text(d, 'controllerKey')),
        unitNumber: num(text(d, 'unitNumber')),
        capacityBytes: Number(capacity),
        hasParent: child(backing, 'parent') !== undefined,
        backingType: xsiType(backing) ?? '',
        ...(diskMode ? { diskMode } : {}),
        ...(changeId ? { changeId } : {}),
      });
    } else if (NIC_TYPES.has(type)) {
      const backing = child(d, 'backing');
      const portgroupKey = text(backing, 'port', 'portgroupKey');
      const mac = text(d, 'macAddress')?.toLowerCase();
      const network = text(backing, 'deviceName') ?? portgroupKey;
      nics.push({ type, ...(mac ? { mac } : {}), ...(network ? { network } : {}), ...(portgroupKey ? { portgroupKey } : {}) });
    } else if (type === 'VirtualCdrom' || type === 'VirtualFloppy') {
      removables.push({
        kind: type === 'VirtualCdrom' ? 'cdrom' : 'floppy',
        controllerKey: num(text(d, 'controllerKey')),
        unitNumber: num(text(d, 'unitNumber')),
      });
    }
  }
  return { controllers, disks, nics, removables };
}

/** Builds a VM from the properties `name`, `config` and `runtime.powerState` of one RetrievePropertiesEx object. */
export function parseVmProperties(ref: MoRef, props: Map<string, XmlNode>): VsphereVm {
  const config = props.get('config');
  const hardware = child(config, 'hardware');
  const extraConfig = new Map<string, string>();
  for (const o of children(config, 'extraConfig')) {
    const key = text(o, 'key');
    if (key !== undefined) extraConfig.set(key, text(o, 'value') ?? '');
  }
  const guestId = text(config, 'guestId');
  const guestFullName = text(config, 'guestFullName');
  const vmPathName = text(config, 'files', 'vmPathName');
  const numCPU = num(text(hardware, 'numCPU')) || 1;
  const uuid = text(config, 'uuid');
  const instanceUuid = text(config, 'instanceUuid');
  return {
    ref,
    name: text(props.get('name')) ?? text(config, 'name') ?? ref.value,
    powerState: text(props.get('runtime.powerState')) ?? 'unknown',
    ...(guestId ? { guestId } : {}),
    ...(guestFullName ? { guestFullName } : {}),
    firmware: text(config, 'firmware') ?? 'bios',
    secureBoot: text(config, 'bootOptions', 'efiSecureBootEnabled') === 'true',
    memoryMB: num(text(hardware, 'memoryMB')),
    numCPU,
    coresPerSocket: num(text(hardware, 'numCoresPerSocket')) || 1,
    ...parseDevices(children(hardware, 'device')),
    extraConfig,
    ...(vmPathName ? { vmPathName } : {}),
    ...(uuid ? { uuid } : {}),
    ...(instanceUuid ? { instanceUuid } : {}),
    changeTrackingEnabled: text(config, 'changeTrackingEnabled') === 'true',
  };
}

/** One VM as `v2v list` shows it. */
export interface VsphereVmSummary {
  name: string;
  powerState: string;
  guestId?: string;
  guestFullName?: string;
  disks: { fileName: string; capacityBytes: number }[];
}

/** Builds a list entry from `name`, `runtime.powerState`, `config.guestId`, `config.guestFullName`, `config.hardware.device`. */
export function parseVmSummary(ref: MoRef, props: Map<string, XmlNode>): VsphereVmSummary {
  const guestId = text(props.get('config.guestId'));
  const guestFullName = text(props.get('config.guestFullName'));
  const { disks } = parseDevices(children(props.get('config.hardware.device'), 'VirtualDevice'));
  return {
    name: text(props.get('name')) ?? ref.value,
    powerState: text(props.get('runtime.powerState')) ?? 'unknown',
    ...(guestId ? { guestId } : {}),
    ...(guestFullName ? { guestFullName } : {}),
    disks: disks.map((d) => ({ fileName: d.fileName, capacityBytes: d.capacityBytes })),
  };
}

/** Splits a datastore path "[DS] dir/file.vmdk" into the datastore and the path inside it. */
export function parseDatastorePath(fileName: string): { datastore: string; path: string } | undefined {
  const m = /^\[([^\]]+)\]\s*(.+)$/.exec(fileName.trim());
  return m ? { datastore: m[1]!, path: m[2]!.replace(/^\/+/, '') } : undefined;
}
