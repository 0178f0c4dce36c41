/**
 * Maps a vSphere VM (drivers/vsphere-vm.ts, vSphere's terms) to v2v's Source
 * model: controllers become buses, adapter types become the model names a
 * .vmx would use (vmxnet3, e1000e, pvscsi...), extraConfig's vm.genid pair
 * becomes the generation id. Pure: the disks' backings are set by the input.
 */
import { SourceError } from '../../errors.js';
import type { DiskBus, Source, SourceDisk, SourceNic, SourceRemovable } from '../../model.js';
import type { VsphereController, VsphereVm } from '../../../drivers/vsphere-vm.js';
import { vmxGenidToGuid } from '../vmx/parse.js';

/** Buses in the order the guest enumerates them after conversion (as for a .vmx). */
const BUS_ORDER: readonly DiskBus[] = ['scsi', 'nvme', 'sata', 'ide', 'fdc'];

/** vim25 controller type → bus and the .vmx `virtualDev` name. */
const CONTROLLERS: Record<string, { bus: DiskBus; model?: string }> = {
  ParaVirtualSCSIController: { bus: 'scsi', model: 'pvscsi' },
  VirtualLsiLogicController: { bus: 'scsi', model: 'lsilogic' },
  VirtualLsiLogicSASController: { bus: 'scsi', model: 'lsisas1068' },
  VirtualBusLogicController: { bus: 'scsi', model: 'buslogic' },
  VirtualAHCIController: { bus: 'sata' },
  VirtualIDEController: { bus: 'ide' },
  VirtualNVMEController: { bus: 'nvme' },
  VirtualSIOController: { bus: 'fdc' },
};

/** vim25 NIC type → the .vmx `ethernetN.virtualDev` name. */
const NIC_MODELS: Record<string, string> = {
  VirtualVmxnet3: 'vmxnet3',
  VirtualVmxnet3Vrdma: 'vmxnet3',
  VirtualVmxnet2: 'vmxnet',
  VirtualVmxnet: 'vmxnet',
  VirtualE1000: 'e1000',
  VirtualE1000e: 'e1000e',
  VirtualPCNet32: 'vlance',
  VirtualSriovEthernetCard: 'sriov',
};

interface Slot {
  bus: DiskBus;
  controller: number;
  unit: number;
  controllerModel?: string;
}

/** Builds the Source of a VM, with `warnings` as its warning list; each disk's `path` is its datastore path until the input sets its backing. */
export function vsphereSource(vm: VsphereVm, warnings: string[] = []): Source {
  const controllers = new Map<number, VsphereController>(vm.controllers.map((c) => [c.key, c]));
  const slotOf = (controllerKey: number, unit: number, what: string): Slot => {
    const c = controllers.get(controllerKey);
    const kind = c ? CONTROLLERS[c.type] : undefined;
    if (!c || !kind) {
      throw new SourceError(
        `The VM ${vm.name} has ${what} on a controller v2v does not know (${c?.type ?? `key ${controllerKey}`}): move it to a SCSI, SATA, NVMe or IDE controller in vSphere.`,
      );
    }
    return { bus: kind.bus, controller: c.busNumber, unit, ...(kind.model ? { controllerModel: kind.model } : {}) };
  };
  const bySlot = (a: Slot, b: Slot): number =>
    BUS_ORDER.indexOf(a.bus) - BUS_ORDER.indexOf(b.bus) || a.controller - b.controller || a.unit - b.unit;

  const disks: SourceDisk[] = vm.disks
    .map((d): SourceDisk => ({ path: d.fileName, ...slotOf(d.controllerKey, d.unitNumber, `the disk ${d.fileName}`) }))
    .sort(bySlot);
  const removables: SourceRemovable[] = vm.removables
    .map((r): SourceRemovable => {
      const { bus, controller, unit } = slotOf(r.controllerKey, r.unitNumber, `a ${r.kind} drive`);
      return { kind: r.kind, bus, controller, unit };
    })
    .sort(bySlot);
  const nics: SourceNic[] = vm.nics.map((n) => ({
    model: NIC_MODELS[n.type] ?? n.type.replace(/^Virtual/, '').toLowerCase(),
    ...(n.mac !== undefined ? { mac: n.mac } : {}),
    ...(n.network !== undefined ? { network: n.network } : {}),
  }));
  const cores = vm.coresPerSocket;
  const topology = vm.numCPU % cores === 0 ? { sockets: vm.numCPU / cores, cores, threads: 1 } : undefined;
  const lo = vm.extraConfig.get('vm.genid');
  const hi = vm.extraConfig.get('vm.genidX');
  const genid = lo !== undefined && hi !== undefined ? vmxGenidToGuid(lo, hi) : undefined;
  return {
    name: vm.name,
    memoryMiB: vm.memoryMB,
    vcpus: vm.numCPU,
    ...(topology ? { cpuTopology: topology } : {}),
    firmware: vm.firmware === 'efi' ? 'uefi' : 'bios',
    secureBoot: vm.secureBoot,
    disks,
    removables,
    nics,
    ...(genid !== undefined ? { genid } : {}),
    warnings,
  };
}
