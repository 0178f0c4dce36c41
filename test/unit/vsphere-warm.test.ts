/**
 * The warm migration's vSphere messages (drivers/vsphere-snapshots.ts): the
 * request bodies exactly, and the replies recorded from the project's vcsim
 * with change tracking (test/fixtures/vcsim/record-warm-replies.mjs), parsed;
 * and which VMs a warm migration refuses (src/warm/pass.ts vmProblems).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { children, parseRetrieveResult, parseReturnedMoRef, parseSoapReply, type SoapFault } from '../../drivers/vsphere-soap.js';
import {
  createSnapshotBody,
  parseDiskChangeInfo,
  parseSnapshotTree,
  parseTaskInfo,
  powerOffBody,
  queryChangedDiskAreasBody,
  reconfigChangeTrackingBody,
  removeSnapshotBody,
  shutdownGuestBody,
} from '../../drivers/vsphere-snapshots.js';
import { parseDevices, parseVmProperties, type VsphereDisk, type VsphereVm } from '../../drivers/vsphere-vm.js';
import { vmProblems } from '../../src/warm/pass.js';
import { checkAnswer } from '../../src/warm/areas.js';

const recorded = (name: string): string => readFileSync(new URL(`fixtures/vsphere/${name}`, import.meta.url), 'utf8');
const VM = { type: 'VirtualMachine', value: 'vm-69' };
const SNAP = { type: 'VirtualMachineSnapshot', value: 'snapshot-72' };
const MiB = 2 ** 20;

/** The first object of a recorded RetrievePropertiesEx reply. */
function firstObject(name: string) {
  const [obj] = parseRetrieveResult(parseSoapReply(recorded(name))).objects;
  if (obj === undefined) throw new Error(`${name}: no object`);
  return obj;
}

describe('warm migration SOAP requests', () => {
  it('builds CreateSnapshot_Task without memory, escaping the name, quiesce as asked', () => {
    expect(createSnapshotBody(VM, 'v2v-warm-<&>', 'a "b"', false)).toBe(
      '<CreateSnapshot_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-69</_this><name>v2v-warm-&lt;&amp;&gt;</name>' +
        '<description>a &quot;b&quot;</description><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>',
    );
    expect(createSnapshotBody(VM, 'n', 'd', true)).toContain('<memory>false</memory><quiesce>true</quiesce>');
  });
  it('builds RemoveSnapshot_Task of one snapshot (never its children), consolidating', () => {
    expect(removeSnapshotBody(SNAP)).toBe(
      '<RemoveSnapshot_Task xmlns="urn:vim25"><_this type="VirtualMachineSnapshot">snapshot-72</_this><removeChildren>false</removeChildren><consolidate>true</consolidate></RemoveSnapshot_Task>',
    );
  });
  it('builds QueryChangedDiskAreas in the WSDL order, with and without a snapshot', () => {
    expect(queryChangedDiskAreasBody(VM, SNAP, 2000, 1073741824, '52 aa/3')).toBe(
      '<QueryChangedDiskAreas xmlns="urn:vim25"><_this type="VirtualMachine">vm-69</_this><snapshot type="VirtualMachineSnapshot">snapshot-72</snapshot>' +
        '<deviceKey>2000</deviceKey><startOffset>1073741824</startOffset><changeId>52 aa/3</changeId></QueryChangedDiskAreas>',
    );
    expect(queryChangedDiskAreasBody(VM, undefined, 2001, 0, '*')).toBe(
      '<QueryChangedDiskAreas xmlns="urn:vim25"><_this type="VirtualMachine">vm-69</_this><deviceKey>2001</deviceKey><startOffset>0</startOffset><changeId>*</changeId></QueryChangedDiskAreas>',
    );
  });
  it('changes only changeTrackingEnabled in ReconfigVM_Task; ShutdownGuest and PowerOffVM_Task take only the VM', () => {
    expect(reconfigChangeTrackingBody(VM, true)).toBe(
      '<ReconfigVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-69</_this><spec><changeTrackingEnabled>true</changeTrackingEnabled></spec></ReconfigVM_Task>',
    );
    expect(shutdownGuestBody(VM)).toBe('<ShutdownGuest xmlns="urn:vim25"><_this type="VirtualMachine">vm-69</_this></ShutdownGuest>');
    expect(powerOffBody(VM)).toBe('<PowerOffVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-69</_this></PowerOffVM_Task>');
  });
});

describe('warm migration SOAP replies (recorded from vcsim)', () => {
  it('reads the task a snapshot creation starts, and its TaskInfo: success with the snapshot', () => {
    expect(parseReturnedMoRef(parseSoapReply(recorded('warm-create-snapshot.xml')))).toEqual({ type: 'Task', value: 'task-71' });
    expect(parseTaskInfo(firstObject('warm-task-success.xml').props.get('info'))).toEqual({ state: 'success', result: 'snapshot-72' });
    expect(parseTaskInfo(firstObject('warm-reconfig.xml').props.get('info'))).toMatchObject({ state: 'success' });
  });
  it('reads a failed task: the fault type and message', () => {
    expect(parseTaskInfo(firstObject('warm-task-error.xml').props.get('info'))).toEqual({
      state: 'error',
      error: { type: 'InvalidPowerState', message: '*types.InvalidPowerState' },
    });
  });
  it('reads the VM with CBT on, powered on, VMware Tools running, ids and each disk change id', () => {
    const obj = firstObject('warm-vm.xml');
    const vm = parseVmProperties(obj.obj, obj.props);
    expect(vm).toMatchObject({
      name: 'v2v-fixture-debian12',
      powerState: 'poweredOn',
      changeTrackingEnabled: true,
      instanceUuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(vm.disks).toEqual([
      expect.objectContaining({
        key: 2000,
        fileName: '[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12.vmdk',
        capacityBytes: 256 * MiB,
        hasParent: false,
        backingType: 'VirtualDiskFlatVer2BackingInfo',
        diskMode: 'persistent',
        changeId: expect.stringMatching(/^52( [0-9a-f]{2}){7}-[0-9a-f]{2}( [0-9a-f]{2}){7}\/0$/),
      }),
      expect.objectContaining({
        key: 2001,
        fileName: '[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12_1.vmdk',
        capacityBytes: 64 * MiB,
      }),
    ]);
    expect(parseSnapshotTree(obj.props.get('snapshot'))).toEqual([]);
  });
  it('reads the snapshot tree, and the VM disks as deltas while the snapshot exists', () => {
    const obj = firstObject('warm-vm-snapshot.xml');
    expect(parseSnapshotTree(obj.props.get('snapshot'))).toEqual([
      {
        ref: SNAP,
        name: 'v2v-warm-0a1b2c3d',
        description: 'v2v warm migration: pre-copy pass',
        id: 1,
        createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    const vm = parseVmProperties(obj.obj, obj.props);
    expect(vm.disks.map((d) => [d.fileName, d.hasParent])).toEqual([
      ['[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12-000001.vmdk', true],
      ['[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12_1-000001.vmdk', true],
    ]);
  });
  it("reads the snapshot's disks: the base files, with the change id issued at the snapshot", () => {
    const devices = firstObject('warm-snapshot-devices.xml').props.get('config.hardware.device');
    const { disks } = parseDevices(children(devices, 'VirtualDevice'));
    expect(disks.map((d) => [d.key, d.fileName, d.hasParent, d.changeId?.replace(/^.*\//, '/')])).toEqual([
      [2000, '[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12.vmdk', false, '/1'],
      [2001, '[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12_1.vmdk', false, '/1'],
    ]);
  });
  it('reads changed areas: "*" gives the allocated areas, a change id the areas written since', () => {
    const all = parseDiskChangeInfo(parseSoapReply(recorded('warm-query-all.xml')));
    // The recording's disk has 8 MiB of data at 1 MiB and 4 MiB at 100 MiB.
    expect(all).toEqual({
      startOffset: 0,
      length: 256 * MiB,
      areas: [
        { start: MiB, length: 8 * MiB },
        { start: 100 * MiB, length: 4 * MiB },
      ],
    });
    expect(checkAnswer(all, 0, 256 * MiB)).toBe(256 * MiB);
    // 3 MiB + 123 bytes written at 100 MiB: the 64 KiB blocks it touches.
    expect(parseDiskChangeInfo(parseSoapReply(recorded('warm-query-since.xml'))).areas).toEqual([
      { start: 100 * MiB, length: 49 * 64 * 1024 },
    ]);
  });
  it('turns a refused change id into a FileFault, and ShutdownGuest of a powered-off VM into InvalidPowerState', () => {
    const fault = (name: string): SoapFault => {
      try {
        parseSoapReply(recorded(name));
      } catch (error) {
        return error as SoapFault;
      }
      throw new Error(`${name} is no fault`);
    };
    expect(fault('warm-query-fault.xml')).toMatchObject({
      type: 'FileFault',
      faultString: expect.stringMatching(/^Error caused by file \[LocalDS_0\]/),
    });
    expect(fault('warm-shutdown-guest-off.xml')).toMatchObject({ type: 'InvalidPowerState' });
    expect(parseSoapReply(recorded('warm-shutdown-guest.xml'))).toEqual({ $: { xmlns: 'urn:vim25' } });
  });
  it('refuses malformed DiskChangeInfo', () => {
    expect(() => parseDiskChangeInfo({ returnval: [{ startOffset: ['0'], length: ['-1'] }] })).toThrow(/length "-1"/);
    expect(() => parseDiskChangeInfo({})).toThrow(/no DiskChangeInfo/);
  });
});

describe('which VMs a warm migration refuses', () => {
  const disk = (over: Partial<VsphereDisk>): VsphereDisk => ({
    key: 2000,
    fileName: '[ds] w/w.vmdk',
    controllerKey: 1000,
    unitNumber: 0,
    capacityBytes: 2 ** 30,
    hasParent: false,
    backingType: 'VirtualDiskFlatVer2BackingInfo',
    diskMode: 'persistent',
    changeId: '52 aa/1',
    ...over,
  });
  const vm = (disks: VsphereDisk[]): VsphereVm => ({
    ref: VM,
    name: 'w',
    powerState: 'poweredOn',
    firmware: 'bios',
    secureBoot: false,
    memoryMB: 1024,
    numCPU: 1,
    coresPerSocket: 1,
    controllers: [],
    disks,
    nics: [],
    removables: [],
    extraConfig: new Map(),
    changeTrackingEnabled: true,
  });
  const snapshot = (name: string) => ({ ref: SNAP, name, description: '', id: 1 });
  it('takes an ordinary VM, and one holding only its own (crash-left) snapshot', () => {
    expect(vmProblems(vm([disk({})]), [], '0a1b2c3d')).toEqual([]);
    expect(vmProblems(vm([disk({ hasParent: true })]), [snapshot('v2v-warm-0a1b2c3d')], '0a1b2c3d')).toEqual([]);
  });
  it("refuses another snapshot (the user's, or another migration's), never offering to remove it", () => {
    const [user] = vmProblems(vm([disk({})]), [snapshot('before upgrade')], '0a1b2c3d');
    expect(user).toMatch(
      /^The VM "w" has snapshots \("before upgrade"\): .*delete them in the vSphere client.*v2v never removes a snapshot it did not make\.$/,
    );
    const [other] = vmProblems(vm([disk({})]), [snapshot('v2v-warm-99999999')], '0a1b2c3d');
    expect(other).toContain(`"v2v-warm-99999999" (another v2v warm migration's, with another --precopy-dir)`);
  });
  it('refuses an RDM, an independent disk and an unconsolidated delta, naming the fix', () => {
    expect(vmProblems(vm([disk({ backingType: 'VirtualDiskRawDiskMappingVer1BackingInfo' })]), [], 'x')[0]).toMatch(
      /is a raw device mapping \(RDM\): RDMs have no snapshots or change tracking.*migrate the VM cold \(without --warm\)/,
    );
    expect(vmProblems(vm([disk({ diskMode: 'independent_persistent' })]), [], 'x')[0]).toMatch(
      /is independent \(independent_persistent\): snapshots leave it out.*make it dependent/,
    );
    expect(vmProblems(vm([disk({ hasParent: true })]), [], 'x')[0]).toMatch(/needs consolidation/);
  });
});
