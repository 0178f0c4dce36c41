/**
 * Finding things in a vSphere inventory with one session: the datacenter a
 * vpx:// URI names, a VM by name or inventory path, every VM for `v2v list`.
 */
import { readFile } from 'node:fs/promises';
import { VsphereSession, endpointName, type VsphereEndpoint } from '../../../drivers/vsphere.js';
import type { MoRef } from '../../../drivers/vsphere-soap.js';
import {
  parseDatastorePath,
  parseVmProperties,
  parseVmSummary,
  type VsphereVm,
  type VsphereVmSummary,
} from '../../../drivers/vsphere-vm.js';
import { text } from '../../../drivers/vsphere-soap.js';
import { SourceError } from '../../errors.js';
import { displayVsphereUri, type VsphereOptions, type VsphereUri } from './options.js';

/** ESXi's one datacenter, as its datastore URLs name it (dcPath=ha-datacenter). */
export const ESX_DATACENTER = 'ha-datacenter';

/** The datacenter a run works in: its object and its inventory path (the datastore URLs' dcPath). */
export interface Datacenter {
  ref: MoRef;
  path: string;
}

/** The endpoint of a URI with the trust settings of the options. */
export function vsphereEndpoint(options: Pick<VsphereOptions, 'uri' | 'caFile'>): VsphereEndpoint {
  return {
    host: options.uri.host,
    ...(options.uri.port !== undefined ? { port: options.uri.port } : {}),
    noVerify: options.uri.noVerify,
    ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
  };
}

/** Reads the password (first line of -ip FILE) and logs in. */
export async function loginWithOptions(options: Pick<VsphereOptions, 'uri' | 'caFile' | 'passwordFile'>): Promise<VsphereSession> {
  let password: string;
  try {
    password = (await readFile(options.passwordFile, 'utf8')).split('\n')[0]?.replace(/\r$/, '') ?? '';
  } catch (error) {
    throw new SourceError(
      `Cannot read the password file ${options.passwordFile} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the -ip path and its permissions.`,
    );
  }
  return VsphereSession.login(vsphereEndpoint(options), options.uri.user, password);
}

/**
 * The datacenter of the URI. ESXi: ha-datacenter. vCenter: the shortest
 * prefix of the URI's path that is a Datacenter (a datacenter may sit in
 * folders, as libvirt's vpx:// paths allow), so DC/CLUSTER/HOST and
 * FOLDER/DC/HOST both work.
 */
export async function findDatacenter(session: VsphereSession, uri: VsphereUri): Promise<Datacenter> {
  const prefixes = uri.kind === 'esx' ? [ESX_DATACENTER] : uri.path.map((_, i) => uri.path.slice(0, i + 1).join('/'));
  for (const path of prefixes) {
    const ref = await session.findByInventoryPath(path);
    if (ref?.type === 'Datacenter') return { ref, path };
  }
  throw new SourceError(
    `No datacenter "${uri.path[0] ?? ESX_DATACENTER}" at ${endpointName(session.endpoint)}: check the datacenter in the -ic URI ${displayVsphereUri(uri)} (vpx://USER@VCENTER/DATACENTER/[CLUSTER/]HOST).`,
  );
}

/** Finds the VM by inventory path (DC/vm/NAME, folders allowed) or, failing that, by name anywhere in the datacenter. */
export async function findVm(session: VsphereSession, dc: Datacenter, name: string): Promise<MoRef> {
  const direct = await session.findByInventoryPath(`${dc.path}/vm/${name}`);
  if (direct?.type === 'VirtualMachine') return direct;
  const all = await session.retrieve('VirtualMachine', ['name'], { container: dc.ref });
  const matches = all.filter((o) => text(o.props.get('name')) === name);
  if (matches.length === 0) {
    throw new SourceError(
      `No VM named "${name}" in datacenter ${dc.path} at ${endpointName(session.endpoint)}: check the name ("v2v list -ic URI -ip FILE" lists the VMs).`,
    );
  }
  if (matches.length > 1) {
    throw new SourceError(
      `${matches.length} VMs are named "${name}" in datacenter ${dc.path}: give the VM's inventory path under the VM folder (FOLDER/${name}) instead.`,
    );
  }
  return matches[0]!.obj;
}

/** The VM's hardware and power state, distributed port groups resolved to their names. */
export async function readVm(session: VsphereSession, ref: MoRef): Promise<VsphereVm> {
  const [obj] = await session.retrieve('VirtualMachine', ['name', 'config', 'runtime.powerState'], { objects: [ref] });
  if (obj === undefined || !obj.props.has('config')) {
    throw new SourceError(
      `vSphere at ${endpointName(session.endpoint)} returned no configuration for the VM ${ref.value}: check that the user may read it.`,
    );
  }
  const vm = parseVmProperties(ref, obj.props);
  const keys = [...new Set(vm.nics.flatMap((n) => (n.portgroupKey !== undefined ? [n.portgroupKey] : [])))];
  if (keys.length > 0) {
    const groups = await session
      .retrieve('DistributedVirtualPortgroup', ['name'], { objects: keys.map((value) => ({ type: 'DistributedVirtualPortgroup', value })) })
      .catch(() => []);
    const names = new Map(groups.map((g) => [g.obj.value, text(g.props.get('name'))]));
    for (const nic of vm.nics) {
      const name = nic.portgroupKey !== undefined ? names.get(nic.portgroupKey) : undefined;
      if (name !== undefined) nic.network = name;
    }
  }
  return vm;
}

/** Every VM of the datacenter (vCenter URI with a path) or of the whole inventory. */
export async function listVms(session: VsphereSession, uri: VsphereUri): Promise<VsphereVmSummary[]> {
  const container = uri.kind === 'vpx' && uri.path.length > 0 ? (await findDatacenter(session, uri)).ref : session.content.rootFolder;
  const objects = await session.retrieve(
    'VirtualMachine',
    ['name', 'runtime.powerState', 'config.guestId', 'config.guestFullName', 'config.hardware.device'],
    { container },
  );
  return objects.map((o) => parseVmSummary(o.obj, o.props)).sort((a, b) => a.name.localeCompare(b.name));
}

/** The HTTPS URL of a datastore file: https://HOST/folder/PATH?dcPath=DC&dsName=DS. */
export function datastoreUrl(endpoint: VsphereEndpoint, dcPath: string, datastore: string, path: string): string {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  return `https://${endpointName(endpoint)}/folder/${encodedPath}?dcPath=${encodeURIComponent(dcPath)}&dsName=${encodeURIComponent(datastore)}`;
}

/**
 * The HTTPS URL of a disk the VM names by its datastore path
 * ("[ds2] web01/web01_1.vmdk"): each disk on its own datastore, so a VM
 * whose data disks sit on other datastores reads each from the right one.
 * Throws SourceError for a name that is not a datastore path.
 */
export function diskDatastoreUrl(endpoint: VsphereEndpoint, dcPath: string, vmName: string, fileName: string): string {
  const ds = parseDatastorePath(fileName);
  if (ds === undefined) {
    throw new SourceError(
      `The VM "${vmName}" names the disk "${fileName}", which is not a datastore path ([DATASTORE] dir/file.vmdk): check the VM's disks in vSphere.`,
    );
  }
  return datastoreUrl(endpoint, dcPath, ds.datastore, ds.path);
}
