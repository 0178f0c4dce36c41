import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createContainerViewBody,
  findByInventoryPathBody,
  loginBody,
  parseReturnedMoRef,
  parseRetrieveResult,
  parseServiceContent,
  parseSoapReply,
  retrievePropertiesExBody,
  soapEnvelope,
  SoapFault,
} from '../../drivers/vsphere-soap.js';
import { parseDatastorePath, parseVmProperties, parseVmSummary } from '../../drivers/vsphere-vm.js';
import { sessionCookie } from '../../drivers/vsphere.js';
import { datastoreUrl } from '../../src/input/vsphere/inventory.js';
import { vsphereSource } from '../../src/input/vsphere/source.js';
import { parseXmlTree } from '../../src/text/xml-tree.js';

/** Replies recorded from govmomi's vcsim (test/fixtures/vcsim, the e2e test's simulator). */
const recorded = (name: string): string => readFileSync(new URL(`fixtures/vsphere/${name}`, import.meta.url), 'utf8');

const SM = { type: 'SessionManager', value: 'SessionManager' };

describe('vSphere SOAP requests', () => {
  it('escapes what the user typed in a Login and never adds anything else', () => {
    const body = loginBody(SM, 'administrator@vsphere.local', 'p<&>"\'w');
    expect(body).toBe(
      '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>administrator@vsphere.local</userName><password>p&lt;&amp;&gt;&quot;&apos;w</password></Login>',
    );
    // Well-formed: it parses back to the same password.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks a parsed SOAP envelope by path
    const parsed = parseXmlTree(soapEnvelope(body), { stripPrefixes: true }, (r) => new Error(r)) as Record<string, any>;
    expect(parsed['Envelope'].Body[0].Login[0].password[0]).toBe('p<&>"\'w');
  });
  it('builds FindByInventoryPath, CreateContainerView and a view-wide RetrievePropertiesEx', () => {
    expect(findByInventoryPathBody({ type: 'SearchIndex', value: 'SearchIndex' }, 'DC0/vm/a&b')).toBe(
      '<FindByInventoryPath xmlns="urn:vim25"><_this type="SearchIndex">SearchIndex</_this><inventoryPath>DC0/vm/a&amp;b</inventoryPath></FindByInventoryPath>',
    );
    expect(
      createContainerViewBody(
        { type: 'ViewManager', value: 'ViewManager' },
        { type: 'Datacenter', value: 'datacenter-2' },
        ['VirtualMachine'],
        true,
      ),
    ).toBe(
      '<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">ViewManager</_this><container type="Datacenter">datacenter-2</container><type>VirtualMachine</type><recursive>true</recursive></CreateContainerView>',
    );
    const body = retrievePropertiesExBody(
      { type: 'PropertyCollector', value: 'propertyCollector' },
      'VirtualMachine',
      ['name', 'runtime.powerState'],
      { view: { type: 'ContainerView', value: 'session[1]view' } },
    );
    expect(body).toContain('<propSet><type>VirtualMachine</type><pathSet>name</pathSet><pathSet>runtime.powerState</pathSet></propSet>');
    expect(body).toContain(
      '<objectSet><obj type="ContainerView">session[1]view</obj><skip>true</skip><selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>',
    );
  });
  it('keeps only name=value of the session cookie', () => {
    expect(sessionCookie(['vmware_soap_session="abc-123"; Path=/; HttpOnly; Secure;'])).toBe('vmware_soap_session="abc-123"');
    expect(sessionCookie(['other=1'])).toBeUndefined();
  });
  it('makes datastore URLs with dcPath and dsName, path segments encoded', () => {
    expect(datastoreUrl({ host: 'vc', port: 8443, noVerify: false }, 'Folder/DC 1', 'ds&1', 'web 01/web 01.vmdk')).toBe(
      'https://vc:8443/folder/web%2001/web%2001.vmdk?dcPath=Folder%2FDC%201&dsName=ds%261',
    );
    expect(parseDatastorePath('[LocalDS_0] web01/web01.vmdk')).toEqual({ datastore: 'LocalDS_0', path: 'web01/web01.vmdk' });
    expect(parseDatastorePath('web01.vmdk')).toBeUndefined();
  });
});

describe('vSphere SOAP replies (recorded from vcsim)', () => {
  it('reads the service content', () => {
    expect(parseServiceContent(parseSoapReply(recorded('retrieve-service-content.xml')))).toMatchObject({
      rootFolder: { type: 'Folder', value: 'group-d1' },
      propertyCollector: { type: 'PropertyCollector' },
      sessionManager: { type: 'SessionManager' },
      searchIndex: { type: 'SearchIndex' },
      viewManager: { type: 'ViewManager' },
      apiType: 'VirtualCenter',
    });
  });
  it('turns a fault into SoapFault with its vim25 type', () => {
    const call = (): unknown => parseSoapReply(recorded('login-invalid.xml'));
    expect(call).toThrow(SoapFault);
    try {
      call();
    } catch (error) {
      expect((error as SoapFault).type).toBe('InvalidLogin');
    }
  });
  it('reads FindByInventoryPath with and without a result', () => {
    expect(parseReturnedMoRef(parseSoapReply(recorded('find-datacenter.xml')))).toEqual({ type: 'Datacenter', value: expect.any(String) });
    expect(parseReturnedMoRef(parseSoapReply(recorded('find-nothing.xml')))).toBeUndefined();
  });
  it('maps the test VM (pvscsi disk, vmxnet3 NIC with its MAC, genid) to a Source', () => {
    const [obj] = parseRetrieveResult(parseSoapReply(recorded('retrieve-vm.xml'))).objects;
    const vm = parseVmProperties(obj!.obj, obj!.props);
    expect(vm).toMatchObject({
      name: 'v2v-fixture-debian12',
      powerState: 'poweredOff',
      firmware: 'bios',
      memoryMB: 1024,
      numCPU: 2,
      coresPerSocket: 2,
    });
    expect(vsphereSource(vm)).toEqual({
      name: 'v2v-fixture-debian12',
      memoryMiB: 1024,
      vcpus: 2,
      cpuTopology: { sockets: 1, cores: 2, threads: 1 },
      firmware: 'bios',
      secureBoot: false,
      disks: [
        {
          path: '[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12.vmdk',
          bus: 'scsi',
          controller: 0,
          unit: 0,
          controllerModel: 'pvscsi',
        },
      ],
      removables: [],
      nics: [{ model: 'vmxnet3', mac: '00:50:56:3f:a0:01', network: 'VM Network' }],
      genid: '09512cc5-940a-8987-b950-f54f631015e8',
      warnings: [],
    });
  });
  it('reads the list properties of every VM of a container view', () => {
    const { objects } = parseRetrieveResult(parseSoapReply(recorded('retrieve-list.xml')));
    const vms = objects.map((o) => parseVmSummary(o.obj, o.props));
    expect(vms.find((v) => v.name === 'DC0_H0_VM0')).toMatchObject({
      powerState: 'poweredOn',
      disks: [{ fileName: expect.stringMatching(/^\[LocalDS_0\] /) }],
    });
    expect(vms.find((v) => v.name === 'v2v-fixture-debian12')).toMatchObject({
      powerState: 'poweredOff',
      disks: [{ capacityBytes: 2 ** 31 }],
    });
  });
});

describe('vSphere hardware mapping', () => {
  const base = {
    ref: { type: 'VirtualMachine', value: 'vm-1' },
    name: 'w',
    powerState: 'poweredOff',
    firmware: 'efi',
    secureBoot: true,
    memoryMB: 4096,
    numCPU: 3,
    coresPerSocket: 2,
    extraConfig: new Map<string, string>(),
    changeTrackingEnabled: false,
  };
  it('orders disks SCSI, NVMe, SATA, IDE; maps controllers, NIC types, cdroms, UEFI and an odd topology', () => {
    const source = vsphereSource({
      ...base,
      controllers: [
        { key: 200, type: 'VirtualIDEController', busNumber: 0 },
        { key: 15000, type: 'VirtualAHCIController', busNumber: 0 },
        { key: 1000, type: 'VirtualLsiLogicSASController', busNumber: 1 },
        { key: 31000, type: 'VirtualNVMEController', busNumber: 0 },
      ],
      disks: [
        {
          key: 1,
          fileName: '[ds] w/w_2.vmdk',
          controllerKey: 15000,
          unitNumber: 0,
          capacityBytes: 1,
          hasParent: false,
          backingType: 'VirtualDiskFlatVer2BackingInfo',
        },
        {
          key: 2,
          fileName: '[ds] w/w.vmdk',
          controllerKey: 1000,
          unitNumber: 0,
          capacityBytes: 1,
          hasParent: false,
          backingType: 'VirtualDiskFlatVer2BackingInfo',
        },
        {
          key: 3,
          fileName: '[ds] w/w_1.vmdk',
          controllerKey: 31000,
          unitNumber: 0,
          capacityBytes: 1,
          hasParent: false,
          backingType: 'VirtualDiskFlatVer2BackingInfo',
        },
      ],
      nics: [{ type: 'VirtualE1000e', mac: '00:50:56:00:00:01', network: 'dvpg-prod' }],
      removables: [{ kind: 'cdrom', controllerKey: 200, unitNumber: 0 }],
    });
    expect(source.disks.map((d) => [d.path, d.bus, d.controller, d.controllerModel])).toEqual([
      ['[ds] w/w.vmdk', 'scsi', 1, 'lsisas1068'],
      ['[ds] w/w_1.vmdk', 'nvme', 0, undefined],
      ['[ds] w/w_2.vmdk', 'sata', 0, undefined],
    ]);
    expect(source.removables).toEqual([{ kind: 'cdrom', bus: 'ide', controller: 0, unit: 0 }]);
    expect(source.nics).toEqual([{ model: 'e1000e', mac: '00:50:56:00:00:01', network: 'dvpg-prod' }]);
    expect(source).toMatchObject({ firmware: 'uefi', secureBoot: true, vcpus: 3, memoryMiB: 4096 });
    expect(source.cpuTopology).toBeUndefined();
  });
  it('refuses a disk on a controller it cannot map, naming the fix', () => {
    expect(() =>
      vsphereSource({
        ...base,
        controllers: [],
        nics: [],
        removables: [],
        disks: [
          {
            key: 1,
            fileName: '[ds] w/w.vmdk',
            controllerKey: 7,
            unitNumber: 0,
            capacityBytes: 1,
            hasParent: false,
            backingType: 'VirtualDiskFlatVer2BackingInfo',
          },
        ],
      }),
    ).toThrow(/controller v2v does not know \(key 7\): move it to a SCSI, SATA, NVMe or IDE controller/);
  });
});
