import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testSource } from '../helpers/source.js';
import { parseStringPromise } from 'xml2js';
import { type GuestCaps, type Inspection, type TargetDisk, driveLetters } from '../../src/model.js';
import { ConversionError } from '../../src/errors.js';
import {
  buildDomainXml,
  checkDeviceRoom,
  defaultNicTargets,
  deviceNameOnBus,
  osinfoId,
  type DomainXmlInput,
} from '../../src/output/domain-xml.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'domain-xml');

const source = testSource;

function inspection(overrides: Partial<Inspection> = {}): Inspection {
  return {
    root: '/dev/sda1',
    type: 'linux',
    distro: 'debian',
    majorVersion: 12,
    minorVersion: 0,
    productName: 'Debian GNU/Linux 12 (bookworm)',
    hostname: 'guest',
    arch: 'x86_64',
    packageFormat: 'deb',
    packageManagement: 'apt',
    mounts: [],
    packages: [],
    kernels: [],
    bootloader: 'grub2',
    firmware: 'bios',
    ...overrides,
  };
}

function disk(dev: string, format: TargetDisk['format'], path: string): TargetDisk {
  return { overlay: `/tmp/overlay-${dev}.qcow2`, path, format, virtualSize: 10 * 2 ** 30, dev };
}

const kvmCaps: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'kvm', serialConsole: true };

/** The guests behind the golden files, by golden file name. */
const guests: Record<string, DomainXmlInput> = {
  'debian-bios': {
    name: 'debian12',
    source: source({
      name: 'debian12',
      memoryMiB: 2048,
      vcpus: 2,
      cpuTopology: { sockets: 1, cores: 2, threads: 1 },
      removables: [{ kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 }],
      nics: [{ mac: '00:50:56:aa:bb:01', model: 'vmxnet3', network: 'VM Network' }],
    }),
    disks: [disk('vda', 'qcow2', '/var/lib/libvirt/images/debian12-sda')],
    caps: kvmCaps,
    inspection: inspection(),
  },
  'windows-uefi-secureboot': {
    name: 'win2022',
    source: source({
      name: 'win2022',
      memoryMiB: 8192,
      vcpus: 4,
      cpuTopology: { sockets: 2, cores: 2, threads: 1 },
      firmware: 'uefi',
      secureBoot: true,
      nics: [{ mac: '00:50:56:aa:bb:02' }, { mac: '00:50:56:aa:bb:03' }],
    }),
    disks: [disk('vda', 'qcow2', '/srv/vms/win2022-sda.qcow2'), disk('vdb', 'raw', '/srv/vms/win2022-sdb.img')],
    caps: kvmCaps,
    inspection: inspection({
      type: 'windows',
      distro: 'windows',
      majorVersion: 10,
      minorVersion: 0,
      productName: 'Windows Server 2022 Standard',
      firmware: 'uefi',
    }),
    networks: [
      { type: 'network', name: 'default', model: 'virtio', mac: '00:50:56:aa:bb:02' },
      { type: 'bridge', name: 'br0', model: 'virtio', mac: '00:50:56:aa:bb:03' },
    ],
  },
  'tcg-sata-e1000': {
    name: 'legacy',
    source: source({
      name: 'legacy',
      memoryMiB: 512,
      vcpus: 1,
      removables: [
        { kind: 'cdrom', bus: 'sata', controller: 0, unit: 1 },
        { kind: 'floppy', bus: 'ide', controller: 0, unit: 0 },
      ],
    }),
    disks: [disk('sda', 'raw', '/var/tmp/legacy-sda')],
    caps: { blockBus: 'sata', netModel: 'e1000', machine: 'q35', domainType: 'qemu', serialConsole: false },
  },
  escaping: {
    name: `a<b>&c'd"e`,
    source: source({ name: `a<b>&c'd"e`, nics: [{ mac: '52:54:00:00:00:01' }] }),
    disks: [disk('vda', 'qcow2', `/srv/<odd> & 'quoted' "dir"/disk.qcow2`)],
    caps: kvmCaps,
    networks: [{ type: 'network', name: `net<&>'"`, model: 'virtio', mac: '52:54:00:00:00:01' }],
  },
};

function golden(name: string, xml: string): void {
  const file = join(FIXTURES, `${name}.xml`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, xml);
  expect(xml).toBe(readFileSync(file, 'utf8'));
}

describe('buildDomainXml golden files', () => {
  for (const [name, input] of Object.entries(guests)) {
    it(`matches ${name}.xml`, () => {
      golden(name, buildDomainXml(input));
    });
  }

  it('is deterministic', () => {
    const input = guests['windows-uefi-secureboot']!;
    expect(buildDomainXml(structuredClone(input))).toBe(buildDomainXml(input));
  });
});

// libvirt 9.0 (qemu driver, qemu:///embed) defined 30 SATA disks sda..sdad
// plus a CD-ROM sdae (six AHCI controllers added), and 128 + 4; it refused
// hde on the pc machine type: "Only 1 IDE controller is supported".
describe('buildDomainXml with many devices', () => {
  const targetsOf = (domain: { devices: [{ disk: Array<{ $: { device: string }; target: [{ $: { dev: string; bus: string } }] }> }] }) =>
    domain.devices[0].disk.map((d) => ({ device: d.$.device, ...d.target[0].$ }));
  const cdrom = { kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 } as const;

  it('puts CD-ROMs of a guest with 30 virtio disks on sda.. (the SATA names are all free)', async () => {
    const domain = (
      await parseStringPromise(
        buildDomainXml({
          name: 'many',
          source: source({ removables: [cdrom, cdrom] }),
          disks: Array.from({ length: 30 }, (_, i) => disk(`vd${driveLetters(i)}`, 'raw', `/d${i}`)),
          caps: kvmCaps,
        }),
      )
    ).domain;
    expect(targetsOf(domain).slice(29)).toEqual([
      { device: 'disk', dev: 'vdad', bus: 'virtio' },
      { device: 'cdrom', dev: 'sda', bus: 'sata' },
      { device: 'cdrom', dev: 'sdb', bus: 'sata' },
    ]);
  });

  it('refuses 5 IDE devices (4 disks and a CD-ROM, or 5 disks) with a ConversionError naming the fix', () => {
    const pc = { machine: 'pc', blockBus: 'ide' } as const;
    const fourDisks = ['hda', 'hdb', 'hdc', 'hdd'].map((dev) => disk(dev, 'raw', `/${dev}`));
    const withCdrom: DomainXmlInput = {
      name: 'pc',
      source: source({ removables: [cdrom] }),
      disks: fourDisks,
      caps: { ...kvmCaps, ...pc },
    };
    const message =
      'The converted guest would have 4 disk(s) and 1 CD-ROM drive(s) on IDE, whose controller has 4 places: remove CD-ROM drives (or disks) from the source VM so that at most 4 remain, and convert again.';
    expect(() => checkDeviceRoom(withCdrom.source, 4, pc)).toThrow(ConversionError);
    expect(() => checkDeviceRoom(withCdrom.source, 4, pc)).toThrow(message);
    expect(() => buildDomainXml(withCdrom)).toThrow(message);
    expect(() => checkDeviceRoom(source(), 5, pc)).toThrow(/5 disk\(s\) and 0 CD-ROM drive\(s\) on IDE/);
    expect(() => buildDomainXml({ ...withCdrom, source: source(), disks: [...fourDisks, disk('hde', 'raw', '/hde')] })).toThrow(
      ConversionError,
    );
  });

  it('accepts 4 IDE devices, and IDE CD-ROMs beside SATA or virtio disks up to 4', async () => {
    const pc = { machine: 'pc', blockBus: 'ide' } as const;
    expect(() => checkDeviceRoom(source({ removables: [cdrom] }), 3, pc)).not.toThrow();
    expect(() =>
      checkDeviceRoom(source({ removables: [cdrom, cdrom, cdrom, cdrom] }), 30, { machine: 'pc', blockBus: 'virtio' }),
    ).not.toThrow();
    expect(() =>
      checkDeviceRoom(source({ removables: [cdrom, cdrom, cdrom, cdrom] }), 128, { machine: 'q35', blockBus: 'sata' }),
    ).not.toThrow();
    const domain = (
      await parseStringPromise(
        buildDomainXml({
          name: 'pc',
          source: source({ removables: [cdrom] }),
          disks: ['hda', 'hdb', 'hdc'].map((dev) => disk(dev, 'raw', `/${dev}`)),
          caps: { ...kvmCaps, ...pc },
        }),
      )
    ).domain;
    expect(targetsOf(domain).at(-1)).toEqual({ device: 'cdrom', dev: 'hdd', bus: 'ide' });
  });
});

describe('buildDomainXml escaping', () => {
  it('round-trips XML special characters in name, path and network', async () => {
    const input = guests.escaping!;
    const xml = buildDomainXml(input);
    expect(xml).not.toContain(`a<b>`);
    const parsed = await parseStringPromise(xml);
    expect(parsed.domain.name[0]).toBe(`a<b>&c'd"e`);
    expect(parsed.domain.devices[0].disk[0].source[0].$.file).toBe(`/srv/<odd> & 'quoted' "dir"/disk.qcow2`);
    expect(parsed.domain.devices[0].interface[0].source[0].$.network).toBe(`net<&>'"`);
  });
});

describe('buildDomainXml structure', () => {
  async function parse(input: DomainXmlInput) {
    return (await parseStringPromise(buildDomainXml(input))).domain;
  }

  it('defaults each source NIC to the default network with the caps model and source MAC', async () => {
    const base = guests['debian-bios']!;
    const { networks: _omit, ...input } = base;
    const domain = await parse(input);
    const nic = domain.devices[0].interface[0];
    expect(nic.$.type).toBe('network');
    expect(nic.source[0].$.network).toBe('default');
    expect(nic.model[0].$.type).toBe('virtio');
    expect(nic.mac[0].$.address).toBe('00:50:56:aa:bb:01');
    expect(defaultNicTargets(source({ nics: [{}] }), kvmCaps)).toEqual([{ type: 'network', name: 'default', model: 'virtio' }]);
  });

  it('puts boot order only on the first disk', async () => {
    const domain = await parse(guests['windows-uefi-secureboot']!);
    const disks = domain.devices[0].disk;
    expect(disks[0].boot[0].$.order).toBe('1');
    expect(disks[1].boot).toBeUndefined();
  });

  it('names CD-ROMs after the disks on the same bus', async () => {
    const domain = await parse(guests['tcg-sata-e1000']!);
    const cdroms = domain.devices[0].disk.filter((d: { $: { device: string } }) => d.$.device === 'cdrom');
    expect(cdroms.map((c: { target: [{ $: { dev: string; bus: string } }] }) => c.target[0].$)).toEqual([{ dev: 'sdb', bus: 'sata' }]);
  });

  it('uses IDE CD-ROMs on the pc machine, skipping names taken by IDE disks', async () => {
    const domain = await parse({
      name: 'pc',
      source: source({ removables: [{ kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 }] }),
      disks: [disk('hda', 'raw', '/a'), disk('hdb', 'raw', '/b')],
      caps: { ...kvmCaps, machine: 'pc', blockBus: 'ide' },
    });
    expect(domain.devices[0].disk[2].target[0].$).toEqual({ dev: 'hdc', bus: 'ide' });
    expect(domain.os[0].type[0].$.machine).toBe('pc');
  });

  it('writes host-model only for kvm and omits <cpu> under TCG without topology', async () => {
    expect((await parse(guests['debian-bios']!)).cpu[0].$.mode).toBe('host-model');
    expect((await parse(guests['tcg-sata-e1000']!)).cpu).toBeUndefined();
    const tcgTopology = await parse({
      ...guests['tcg-sata-e1000']!,
      source: source({ vcpus: 4, cpuTopology: { sockets: 1, cores: 2, threads: 2 } }),
    });
    expect(tcgTopology.cpu[0].$).toBeUndefined();
    expect(tcgTopology.cpu[0].topology[0].$).toEqual({ sockets: '1', cores: '2', threads: '2' });
  });

  it('disables secure boot explicitly for UEFI guests without it', async () => {
    const domain = await parse({ ...guests['debian-bios']!, source: source({ firmware: 'uefi' }) });
    expect(domain.os[0].$.firmware).toBe('efi');
    expect(domain.os[0].firmware[0].feature[0].$).toEqual({ enabled: 'no', name: 'secure-boot' });
    expect(domain.features[0].smm).toBeUndefined();
  });

  it('names disks by their bus: vdX on virtio, sdX on SATA, hdX on IDE', () => {
    expect(deviceNameOnBus('vda', 'virtio')).toBe('vda');
    expect(deviceNameOnBus('vdb', 'sata')).toBe('sdb');
    expect(deviceNameOnBus('vdaa', 'ide')).toBe('hdaa');
    expect(deviceNameOnBus('sdc', 'virtio')).toBe('vdc');
  });

  it('boots UEFI when only inspection found an ESP (-i disk has no firmware metadata)', async () => {
    const base = guests['debian-bios']!;
    const efi = await parse({ ...base, inspection: inspection({ firmware: 'uefi' }) });
    expect(efi.os[0].$).toEqual({ firmware: 'efi' });
    expect(efi.os[0].firmware[0].feature[0].$).toEqual({ enabled: 'no', name: 'secure-boot' });
    const bios = await parse({ ...base, inspection: inspection({ firmware: 'bios' }) });
    expect(bios.os[0].$).toBeUndefined();
    expect(bios.os[0].firmware).toBeUndefined();
  });

  it('uses localtime for Windows and utc otherwise', async () => {
    expect((await parse(guests['windows-uefi-secureboot']!)).clock[0].$.offset).toBe('localtime');
    expect((await parse(guests['debian-bios']!)).clock[0].$.offset).toBe('utc');
  });

  it('rejects caps libvirt would refuse', () => {
    const base = guests['debian-bios']!;
    expect(() => buildDomainXml({ ...base, caps: { ...kvmCaps, blockBus: 'ide' } })).toThrow(/IDE/);
    expect(() =>
      buildDomainXml({ ...base, source: source({ firmware: 'uefi', secureBoot: true }), caps: { ...kvmCaps, machine: 'pc' } }),
    ).toThrow(/q35/);
    expect(() => buildDomainXml({ ...base, source: source({ vcpus: 3, cpuTopology: { sockets: 1, cores: 2, threads: 1 } }) })).toThrow(
      /topology/,
    );
    const fiveCdroms = Array.from({ length: 5 }, () => ({ kind: 'cdrom' as const, bus: 'ide' as const, controller: 0, unit: 0 }));
    expect(() => buildDomainXml({ ...base, source: source({ removables: fiveCdroms }), caps: { ...kvmCaps, machine: 'pc' } })).toThrow(
      /at most 4/,
    );
  });
});

describe('osinfoId', () => {
  const cases: [Partial<Inspection>, string | undefined][] = [
    [{ distro: 'debian', majorVersion: 12, minorVersion: 5 }, 'http://debian.org/debian/12'],
    [{ distro: 'ubuntu', majorVersion: 22, minorVersion: 4 }, 'http://ubuntu.com/ubuntu/22.04'],
    [{ distro: 'rhel', majorVersion: 9, minorVersion: 2 }, 'http://redhat.com/rhel/9.2'],
    [{ distro: 'centos', majorVersion: 7, minorVersion: 9 }, 'http://centos.org/centos/7.0'],
    [{ distro: 'centos', majorVersion: 6, minorVersion: 10 }, 'http://centos.org/centos/6.10'],
    [{ distro: 'centos', majorVersion: 8, minorVersion: 5 }, 'http://centos.org/centos/8'],
    [{ distro: 'centos', majorVersion: 9, minorVersion: 0, productName: 'CentOS Stream 9' }, 'http://centos.org/centos-stream/9'],
    [{ distro: 'fedora', majorVersion: 39, minorVersion: 0 }, 'http://fedoraproject.org/fedora/39'],
    [{ distro: 'sles', majorVersion: 15, minorVersion: 4 }, 'http://suse.com/sle/15.4'],
    [{ distro: 'sles', majorVersion: 15, minorVersion: 0 }, 'http://suse.com/sle/15'],
    [{ distro: 'sles', majorVersion: 12, minorVersion: 5 }, 'http://suse.com/sles/12.5'],
    [{ distro: 'opensuse', majorVersion: 15, minorVersion: 5 }, 'http://opensuse.org/opensuse/15.5'],
    [
      { distro: 'opensuse', majorVersion: 20240101, minorVersion: 0, productName: 'openSUSE Tumbleweed' },
      'http://opensuse.org/opensuse/tumbleweed',
    ],
    [{ distro: 'windows', majorVersion: 6, minorVersion: 1, productName: 'Windows 7 Professional' }, 'http://microsoft.com/win/7'],
    [
      { distro: 'windows', majorVersion: 6, minorVersion: 3, productName: 'Windows Server 2012 R2 Standard' },
      'http://microsoft.com/win/2k12r2',
    ],
    [{ distro: 'windows', majorVersion: 10, minorVersion: 0, productName: 'Windows 10 Pro' }, 'http://microsoft.com/win/10'],
    [{ distro: 'windows', majorVersion: 10, minorVersion: 0, productName: 'Windows 11 Pro' }, 'http://microsoft.com/win/11'],
    [
      { distro: 'windows', majorVersion: 10, minorVersion: 0, productName: 'Windows Server 2019 Datacenter' },
      'http://microsoft.com/win/2k19',
    ],
    [{ distro: 'windows', majorVersion: 10, minorVersion: 0, productName: 'Windows Server Datacenter' }, undefined],
    [{ distro: 'debian', majorVersion: 0, minorVersion: 0 }, undefined],
    [{ distro: 'archlinux', majorVersion: 1, minorVersion: 0 }, undefined],
  ];
  it.each(cases)('%o → %s', (fields, expected) => {
    expect(osinfoId(inspection({ productName: '', ...fields }))).toBe(expected);
  });

  it('omits <metadata> when the OS is unknown', () => {
    const input = { ...guests['debian-bios']!, inspection: inspection({ distro: 'unknown' }) };
    expect(buildDomainXml(input)).not.toContain('<metadata>');
  });
});
