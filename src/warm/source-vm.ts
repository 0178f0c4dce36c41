/**
 * The source VM of a warm migration, through one vSphere session: what it
 * is now (hardware, power, snapshots, VMware Tools), v2v's snapshots, the
 * changed areas of a snapshot's disks, reading a base disk's bytes, and the
 * guest's shutdown. Every message a failure gives names the fix.
 */
import { endpointName, type VsphereSession } from '../../drivers/vsphere.js';
import { children, SoapFault, text, type MoRef } from '../../drivers/vsphere-soap.js';
import {
  createSnapshotBody,
  parseDiskChangeInfo,
  parseSnapshotTree,
  powerOffBody,
  queryChangedDiskAreasBody,
  reconfigChangeTrackingBody,
  removeSnapshotBody,
  shutdownGuestBody,
  type SnapshotNode,
  type TaskInfo,
} from '../../drivers/vsphere-snapshots.js';
import { parseDatastorePath, parseDevices, parseVmProperties, type VsphereDisk, type VsphereVm } from '../../drivers/vsphere-vm.js';
import { PreflightError, SourceError } from '../errors.js';
import { findDatacenter, findVm, loginWithOptions, datastoreUrl, type Datacenter } from '../input/vsphere/inventory.js';
import type { VsphereOptions } from '../input/vsphere/options.js';
import { parseVmdkDescriptor } from '../remote/remote-disk.js';
import { collectAreas, type DiskArea } from './areas.js';
import type { RangeReader } from './copy-areas.js';

/** Snapshot tasks and reconfiguration: minutes on a busy datastore (consolidation copies the delta). */
const TASK_TIMEOUT_MS = 30 * 60_000;

/** The VM as a pass sees it. */
export interface VmNow {
  vm: VsphereVm;
  snapshots: SnapshotNode[];
  /** guest.toolsRunningStatus is guestToolsRunning. */
  toolsRunning: boolean;
}

/** QueryChangedDiskAreas refused the change id: CBT was reset (or the id is unknown): the disk must be copied in full. */
export class ChangeIdRefused extends Error {
  constructor(readonly fault: SoapFault) {
    super(fault.faultString);
    this.name = 'ChangeIdRefused';
  }
}

/** One VM of one session. */
export class SourceVm {
  private readonly flatUrls = new Map<string, string>();

  private constructor(
    readonly session: VsphereSession,
    readonly dc: Datacenter,
    readonly ref: MoRef,
    readonly options: VsphereOptions,
  ) {}

  /** Logs in and finds the VM; the caller logs out ({@link logout}). */
  static async open(options: VsphereOptions): Promise<SourceVm> {
    const session = await loginWithOptions(options);
    try {
      const dc = await findDatacenter(session, options.uri);
      return new SourceVm(session, dc, await findVm(session, dc, options.vmName), options);
    } catch (error) {
      await session.logout().catch(() => undefined);
      throw error;
    }
  }

  get where(): string {
    return `${this.options.uri.kind === 'vpx' ? 'vCenter' : 'ESXi'} ${endpointName(this.session.endpoint)}`;
  }

  async logout(): Promise<void> {
    await this.session.logout();
  }

  /** The VM now: config, power state, snapshot tree, whether VMware Tools run. */
  async read(): Promise<VmNow> {
    const [obj] = await this.session.retrieve(
      'VirtualMachine',
      ['name', 'config', 'runtime.powerState', 'snapshot', 'guest.toolsRunningStatus'],
      { objects: [this.ref] },
    );
    if (obj === undefined || !obj.props.has('config')) {
      throw new SourceError(
        `vSphere at ${this.where} returned no configuration for the VM ${this.ref.value}: check that the user may read it.`,
      );
    }
    return {
      vm: parseVmProperties(this.ref, obj.props),
      snapshots: parseSnapshotTree(obj.props.get('snapshot')),
      toolsRunning: text(obj.props.get('guest.toolsRunningStatus')) === 'guestToolsRunning',
    };
  }

  /** The power state now. */
  async powerState(): Promise<string> {
    const [obj] = await this.session.retrieve('VirtualMachine', ['runtime.powerState'], { objects: [this.ref] });
    return text(obj?.props.get('runtime.powerState')) ?? 'unknown';
  }

  private async task(method: string, body: string, what: string, signal?: AbortSignal): Promise<TaskInfo> {
    const reply = await this.session.call(method, body);
    const ref = text(reply, 'returnval');
    if (ref === undefined) throw new SourceError(`vSphere at ${this.where} started no task for ${what}: check the server.`);
    return this.session.waitForTask({ type: 'Task', value: ref.trim() }, what, TASK_TIMEOUT_MS, signal);
  }

  /** Creates v2v's snapshot (no memory); returns it. */
  async createSnapshot(name: string, description: string, quiesce: boolean): Promise<MoRef> {
    // Never abandoned midway (no abort signal): a snapshot created after v2v stopped waiting would be left untracked.
    const info = await this.task(
      'CreateSnapshot_Task',
      createSnapshotBody(this.ref, name, description, quiesce),
      `creating the snapshot ${name}`,
    );
    if (info.state !== 'success' || info.result === undefined) {
      const type = info.error?.type;
      const fix =
        quiesce && type === 'ToolsUnavailable'
          ? 'a quiesced snapshot needs VMware Tools running in the guest: start them, or run without --quiesce'
          : 'check the VM (free space on its datastore, a snapshot task already running) and the user\'s "Virtual machine.Snapshot management" privilege';
      throw new SourceError(
        `vSphere at ${this.where} could not create the snapshot ${name} of "${this.options.vmName}" (${type ?? 'error'}: ${info.error?.message ?? 'no reason given'}): ${fix}.`,
      );
    }
    return { type: 'VirtualMachineSnapshot', value: info.result };
  }

  /** Removes a snapshot (consolidating its disks). */
  async removeSnapshot(snapshot: MoRef, name: string): Promise<void> {
    const info = await this.task('RemoveSnapshot_Task', removeSnapshotBody(snapshot), `removing the snapshot ${name}`);
    if (info.state !== 'success') {
      throw new SourceError(
        `vSphere at ${this.where} could not remove the snapshot ${name} (${snapshot.value}) of "${this.options.vmName}" (${info.error?.type ?? 'error'}: ${info.error?.message ?? 'no reason given'}): remove it in the vSphere client (Snapshots → Manage), then run again.`,
      );
    }
  }

  /** The disks of a snapshot's configuration: what it froze, with each disk's change id there. */
  async snapshotDisks(snapshot: MoRef): Promise<VsphereDisk[]> {
    const [obj] = await this.session.retrieve('VirtualMachineSnapshot', ['config.hardware.device'], { objects: [snapshot] });
    const devices = obj?.props.get('config.hardware.device');
    if (devices === undefined)
      throw new SourceError(`vSphere at ${this.where} returned no configuration for the snapshot ${snapshot.value}: check the server.`);
    return parseDevices(children(devices, 'VirtualDevice')).disks;
  }

  /**
   * Every area of disk `key` changed since `changeId` ("*": every allocated
   * area) in the snapshot's state (the current one, without a snapshot, for
   * a powered-off VM). Throws {@link ChangeIdRefused} for a refused change id.
   */
  async changedAreas(snapshot: MoRef | undefined, key: number, capacity: number, changeId: string): Promise<DiskArea[]> {
    try {
      return await collectAreas(capacity, async (start) =>
        parseDiskChangeInfo(
          await this.session.callKeepingFaults(
            'QueryChangedDiskAreas',
            queryChangedDiskAreasBody(this.ref, snapshot, key, start, changeId),
          ),
        ),
      );
    } catch (error) {
      if (error instanceof SoapFault && error.type === 'FileFault' && changeId !== '*') throw new ChangeIdRefused(error);
      if (error instanceof SoapFault) {
        throw new SourceError(
          `vSphere at ${this.where} refused QueryChangedDiskAreas on the disk ${key} of "${this.options.vmName}" (${error.type ?? 'fault'}: ${error.faultString}): check that Changed Block Tracking is on for the VM and its disks (ctkEnabled), then run again.`,
        );
      }
      if (error instanceof SourceError) throw error;
      throw new SourceError(
        `vSphere at ${this.where} answered QueryChangedDiskAreas badly for the disk ${key}: ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
  }

  /** Turns CBT on (ReconfigVM_Task changeTrackingEnabled = true). */
  async enableCbt(signal?: AbortSignal): Promise<void> {
    const info = await this.task(
      'ReconfigVM_Task',
      reconfigChangeTrackingBody(this.ref, true),
      'turning Changed Block Tracking on',
      signal,
    );
    if (info.state !== 'success') {
      throw new SourceError(
        `vSphere at ${this.where} could not turn Changed Block Tracking on for "${this.options.vmName}" (${info.error?.type ?? 'error'}: ${info.error?.message ?? 'no reason given'}): turn it on in the VM's settings (Advanced: ctkEnabled = TRUE), then run again.`,
      );
    }
  }

  /** Asks VMware Tools to shut the guest down (returns at once). */
  async shutdownGuest(): Promise<void> {
    await this.session.call('ShutdownGuest', shutdownGuestBody(this.ref));
  }

  /** Powers the VM off (no guest shutdown). */
  async powerOff(signal?: AbortSignal): Promise<void> {
    const info = await this.task('PowerOffVM_Task', powerOffBody(this.ref), 'powering the VM off', signal);
    if (info.state !== 'success' && (await this.powerState()) !== 'poweredOff') {
      throw new SourceError(
        `vSphere at ${this.where} could not power "${this.options.vmName}" off (${info.error?.type ?? 'error'}: ${info.error?.message ?? 'no reason given'}): power it off in the vSphere client, then run again.`,
      );
    }
  }

  /** Waits until the VM is powered off; false when `timeoutMs` passed first. */
  async waitPoweredOff(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.powerState()) === 'poweredOff') return true;
      if (Date.now() >= deadline) return false;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now())));
        signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          },
          { once: true },
        );
      });
    }
  }

  /**
   * The HTTPS URL of a disk's base data: its descriptor (a small file) is
   * read and must name one flat extent at offset 0, whose bytes are the
   * disk's at the same offsets (what a pass reads by Range). Anything else
   * (vSAN/vVol objects, sparse or split bases) is refused with the fix.
   */
  async flatUrl(disk: VsphereDisk): Promise<string> {
    const known = this.flatUrls.get(disk.fileName);
    if (known !== undefined) return known;
    const ds = parseDatastorePath(disk.fileName);
    if (ds === undefined) {
      throw new SourceError(
        `The VM "${this.options.vmName}" names the disk "${disk.fileName}", which is not a datastore path: check the VM's disks in vSphere.`,
      );
    }
    const endpoint = this.session.endpoint;
    const descriptorUrl = datastoreUrl(endpoint, this.dc.path, ds.datastore, ds.path);
    const head = await this.session.readFile(descriptorUrl, 65_536);
    const text = head.toString('latin1');
    const descriptor = /^#\s*Disk DescriptorFile/m.test(text.slice(0, 1024)) ? parseVmdkDescriptor(text) : undefined;
    const [extent] = descriptor?.extents ?? [];
    if (
      descriptor === undefined ||
      descriptor.parentCID !== 'ffffffff' ||
      descriptor.extents.length !== 1 ||
      extent === undefined ||
      (extent.type !== 'FLAT' && extent.type !== 'VMFS') ||
      extent.offset !== 0
    ) {
      throw new PreflightError(
        `The disk ${disk.fileName} of "${this.options.vmName}" is not a flat VMDK (${descriptor ? `"${descriptor.createType}", ${descriptor.extents.map((e) => e.type).join(', ') || 'no extent'}` : 'no text descriptor'}): a warm migration reads a base disk's bytes at their own offsets, which only a flat (thin or thick) VMFS/NFS disk has; convert this VM cold (without --warm), or move the disk to a VMFS or NFS datastore first.`,
      );
    }
    const dir = ds.path.includes('/') ? ds.path.slice(0, ds.path.lastIndexOf('/') + 1) : '';
    const url = datastoreUrl(endpoint, this.dc.path, ds.datastore, `${dir}${extent.file}`);
    this.flatUrls.set(disk.fileName, url);
    return url;
  }

  /** A reader of a base disk's data (the URL of {@link flatUrl}). */
  reader(url: string): RangeReader {
    return async (start, end, signal) => this.session.openRange(url, start, end, signal);
  }
}
