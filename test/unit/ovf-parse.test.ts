import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { ovfUnitBytes, parseOvf } from '../../src/input/ova/ovf.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'ovf');

/** Parses a fixture as if the OVA were unpacked in /ova. */
function parseFixture(name: string) {
  return parseOvf(readFileSync(path.join(fixtures, name), 'utf8'), '/ova', `/ova/${name}`);
}

/** Catches what `fn` throws so its type and message can be asserted. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** A minimal envelope with one disk whose File has the given attributes. */
function envelopeWithFile(fileAttrs: string): string {
  return `<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="f1" ${fileAttrs}/></References>
  <DiskSection><Disk ovf:diskId="d1" ovf:fileRef="f1"/></DiskSection>
  <VirtualSystem ovf:id="vm"><VirtualHardwareSection>
    <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType></Item>
    <Item><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>2</rasd:InstanceID><rasd:Parent>1</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
  </VirtualHardwareSection></VirtualSystem></Envelope>`;
}

describe('parseOvf on VMware exports', () => {
  it('maps a vSphere 8 RHEL 9 export (EFI + secure boot, pvscsi, disks by unit not item order, SATA cdrom, vmxnet3 with MAC)', () => {
    expect(parseFixture('vsphere8-rhel9.ovf')).toEqual({
      name: 'rhel9-web01',
      memoryMiB: 8192,
      vcpus: 4,
      cpuTopology: { sockets: 2, cores: 2, threads: 1 },
      firmware: 'uefi',
      secureBoot: true,
      disks: [
        { path: '/ova/rhel9-web01-disk1.vmdk', format: 'vmdk', bus: 'scsi', controller: 0, unit: 0, controllerModel: 'pvscsi' },
        { path: '/ova/rhel9-web01-disk2.vmdk', format: 'vmdk', bus: 'scsi', controller: 0, unit: 1, controllerModel: 'pvscsi' },
      ],
      removables: [{ kind: 'cdrom', bus: 'sata', controller: 0, unit: 0 }],
      nics: [{ mac: '00:50:56:9a:2e:71', model: 'vmxnet3', network: 'VM Network' }],
      warnings: [],
    });
  });

  it('maps a Workstation export (no <Name>, GiB memory, lsilogic, IDE cdrom on controller 1, floppy, e1000, sound)', () => {
    expect(parseFixture('workstation-ubuntu.ovf')).toEqual({
      name: 'Ubuntu 64-bit',
      memoryMiB: 4096,
      vcpus: 2,
      firmware: 'bios',
      secureBoot: false,
      disks: [{ path: '/ova/Ubuntu 64-bit-disk1.vmdk', format: 'vmdk', bus: 'scsi', controller: 0, unit: 0, controllerModel: 'lsilogic' }],
      removables: [
        { kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 },
        { kind: 'floppy', bus: 'fdc', controller: 0, unit: 0 },
      ],
      nics: [{ model: 'e1000', network: 'nat' }],
      sound: 'es1371',
      warnings: [],
    });
  });

  it('reads a VM in a VirtualSystemCollection with ovf: prefixed elements, NVMe before SATA, ovf:/file/ references', () => {
    const source = parseFixture('nvme-sata-collection.ovf');
    expect(source).toMatchObject({ name: 'ws2022-dc', memoryMiB: 16384, vcpus: 6, firmware: 'uefi', secureBoot: false });
    expect(source.cpuTopology).toBeUndefined();
    expect(source.disks).toEqual([
      { path: '/ova/boot.vmdk', format: 'vmdk', bus: 'nvme', controller: 0, unit: 0 },
      { path: '/ova/data.vmdk', format: 'vmdk', bus: 'sata', controller: 0, unit: 3 },
    ]);
    expect(source.nics).toEqual([
      { model: 'e1000e', network: 'dvportgroup-1042' },
      { mac: '00:50:56:01:02:03', model: 'vlance' },
    ]);
    expect(source.warnings).toEqual([
      '/ova/nvme-sata-collection.ovf: 4 cores per socket does not divide 6 vCPUs; the CPU topology is dropped',
      '/ova/nvme-sata-collection.ovf: the network adapter address "not-a-mac" is not a MAC address; it is not kept',
    ]);
  });

  it('skips a blank disk, takes an orphan disk as SCSI, defaults memory, keeps subdirectories, probes non-VMDK formats', () => {
    const source = parseFixture('blank-and-orphan.ovf');
    expect(source).toMatchObject({ name: 'appliance', memoryMiB: 2048, vcpus: 1, firmware: 'bios' });
    expect(source.disks).toEqual([
      { path: '/ova/disks/root.vmdk', format: 'vmdk', bus: 'scsi', controller: 0, unit: 0 },
      { path: '/ova/extra.img', bus: 'scsi', controller: 0, unit: 2 },
    ]);
    expect(source.warnings).toEqual([
      'Scratch disk in /ova/blank-and-orphan.ovf is a blank disk created at deploy time; it is skipped',
      'Extra disk in /ova/blank-and-orphan.ovf is not on a known disk controller (Parent 99); it is taken as SCSI',
      '/ova/blank-and-orphan.ovf gives no memory size; the guest gets 2048 MiB',
    ]);
  });
});

describe('parseOvf refuses what it cannot convert', () => {
  it.each([
    [
      'a multi-VM vApp',
      readFileSync(path.join(fixtures, 'multi-vm.ovf'), 'utf8'),
      /describes 2 virtual machines, but only single-VM OVAs are supported/,
    ],
    ['malformed XML', '<Envelope><References>', /is not well-formed XML .*: the OVA is corrupt, re-export it/],
    ['another document', '<domain/>', /is not an OVF descriptor/],
    ['no VirtualSystem', '<Envelope><References/></Envelope>', /has no <VirtualSystem>/],
    [
      'a disk outside the OVA',
      envelopeWithFile('ovf:href="../../etc/shadow"'),
      /names the disk file "..\/..\/etc\/shadow", which is not a file inside the OVA/,
    ],
    ['an absolute disk path', envelopeWithFile('ovf:href="/etc/shadow"'), /which is not a file inside the OVA/],
    ['a disk URL', envelopeWithFile('ovf:href="http://example.com/d.vmdk"'), /which is not a file inside the OVA/],
    [
      'a disk compressed otherwise than with gzip',
      envelopeWithFile('ovf:href="d.vmdk.bz2" ovf:compression="bzip2"'),
      /is compressed with "bzip2" or split .* re-export the OVA without compression or with gzip/,
    ],
    ['no disks', envelopeWithFile('ovf:href="d.vmdk"').replace('ovf:/disk/d1', 'ovf:/disk/nope'), /describes no disks/],
  ])('%s', (_what, text, message) => {
    const error = thrown(() => parseOvf(text, '/ova', '/ova/x.ovf'));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses memory in unknown units', () => {
    const text = envelopeWithFile('ovf:href="d.vmdk"').replace(
      '<VirtualHardwareSection>',
      '<VirtualHardwareSection><Item><rasd:AllocationUnits>furlongs</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>3</rasd:VirtualQuantity></Item>',
    );
    expect(() => parseOvf(text, '/ova')).toThrow(/gives memory in unknown units "furlongs"/);
  });
});

describe('ovfUnitBytes', () => {
  it.each([
    ['byte', 1],
    ['bytes', 1],
    ['byte * 2^10', 1024],
    ['byte * 2^20', 2 ** 20],
    ['byte*2^30', 2 ** 30],
    ['byte * 10^6', 1_000_000],
    ['byte * 1024 * 1024', 2 ** 20],
    ['MegaBytes', 2 ** 20],
    ['GigaBytes', 2 ** 30],
    ['KB', 1024],
  ])('%s', (units, bytes) => {
    expect(ovfUnitBytes(units)).toBe(bytes);
  });
  it.each(['hertz * 10^6', 'furlongs', 'byte * x', ''])('refuses %j', (units) => {
    expect(ovfUnitBytes(units)).toBeUndefined();
  });
});
