import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { libvirtScaledBytes, parseLibvirtXml } from '../../src/input/libvirtxml/parse.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'libvirtxml');

/** Parses a fixture as if it lived at /vm/NAME. */
function parseFixture(name: string) {
  return parseLibvirtXml(readFileSync(path.join(fixtures, name), 'utf8'), `/vm/${name}`);
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

/** A minimal domain around the given <devices> content and top-level extras. */
function domain(devices: string, extra = "<memory unit='MiB'>1024</memory>"): string {
  return `<domain type='kvm'><name>t</name>${extra}<devices>${devices}</devices></domain>`;
}

const VDA = "<disk type='file' device='disk'><source file='/i/a.img'/><target dev='vda' bus='virtio'/></disk>";

describe('parseLibvirtXml on realistic domains', () => {
  it('maps a virt-install Debian guest (KiB memory, topology, qcow2 virtio disk, empty SATA cdrom, NAT NIC, genid, sound)', () => {
    expect(parseFixture('debian-kvm.xml')).toEqual({
      name: 'debian12',
      memoryMiB: 2048,
      vcpus: 2,
      cpuTopology: { sockets: 1, cores: 2, threads: 1 },
      firmware: 'bios',
      secureBoot: false,
      disks: [{ path: '/var/lib/libvirt/images/debian12.qcow2', format: 'qcow2', bus: 'virtio', controller: 0, unit: 0 }],
      removables: [{ kind: 'cdrom', bus: 'sata', controller: 0, unit: 0 }],
      nics: [{ mac: '52:54:00:3b:7a:10', model: 'virtio', network: 'default', connectionType: 'network' }],
      genid: 'f4d5a8c0-3a11-4b1e-8e3c-0c8d8b5a1f22',
      sound: 'ich9',
      warnings: [],
    });
  });

  it('maps a Windows 11 guest: GiB memory, efi + secure boot, relative paths, disks ordered by target dev, bridge NIC', () => {
    const source = parseFixture('windows-uefi.xml');
    expect(source).toMatchObject({ name: 'win11', memoryMiB: 8192, vcpus: 4, firmware: 'uefi', secureBoot: true });
    expect(source.cpuTopology).toEqual({ sockets: 1, cores: 2, threads: 2 });
    expect(source.disks).toEqual([
      { path: '/vm/disks/win11.img', format: 'raw', bus: 'sata', controller: 0, unit: 0 },
      { path: '/vm/disks/data.qcow2', format: 'qcow2', bus: 'sata', controller: 0, unit: 1 },
    ]);
    expect(source.removables).toEqual([
      { kind: 'cdrom', bus: 'ide', controller: 0, unit: 2 },
      { kind: 'floppy', bus: 'fdc', controller: 0, unit: 0 },
    ]);
    expect(source.nics).toEqual([{ mac: '52:54:00:aa:bb:cc', model: 'e1000e', network: 'br0', connectionType: 'bridge' }]);
    expect(source.warnings).toEqual(['/vm/windows-uefi.xml: the guest booted with 2 of 4 vCPUs; the converted guest gets all 4']);
  });

  it('reads an old pflash loader as UEFI, a block disk, bus from the dev prefix, and warns on what it drops', () => {
    const source = parseFixture('legacy-loader.xml');
    expect(source).toMatchObject({ memoryMiB: 1024, vcpus: 1, firmware: 'uefi', secureBoot: true });
    expect(source.cpuTopology).toBeUndefined();
    expect(source.disks.map((d) => [d.path, d.bus, d.controller, d.unit])).toEqual([
      ['/dev/vg0/centos7-root', 'virtio', 0, 0],
      ['/data/centos7-home.img', 'virtio', 0, 1],
      ['/data/centos7-scratch.img', 'scsi', 1, 2],
      ['/data/centos7-usb.img', 'scsi', 0, 3],
    ]);
    expect(source.disks[3]?.format).toBeUndefined();
    expect(source.nics).toEqual([
      { model: 'rtl8139', connectionType: 'user' },
      { network: 'eth0', connectionType: 'direct' },
    ]);
    expect(source.warnings).toHaveLength(3);
    expect(source.warnings[0]).toMatch(/topology .* does not match 1 vCPUs/);
    expect(source.warnings[1]).toMatch(/sdd .* on a usb bus, .* treated as SCSI/);
    expect(source.warnings[2]).toMatch(/52-54-00-xx.* not a MAC address/);
  });
});

describe('parseLibvirtXml refuses what it cannot convert', () => {
  it.each([
    ['network-disk.xml', /disk vda in \/vm\/network-disk\.xml is a network disk, but only file- and block-backed disks are supported/],
    ['volume-disk.xml', /is a volume disk, but only file- and block-backed disks are supported: copy it to a local file/],
    ['not-domain.xml', /root element is <network>, not <domain>/],
    ['bad-memory.xml', /<memory unit='parsecs'>12<\/memory> .* is not a memory size/],
  ])('%s', (name, message) => {
    const error = thrown(() => parseFixture(name));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(message);
  });

  it('malformed XML, no memory, no disks, a disk without source', () => {
    const cases: Array<[string, RegExp]> = [
      ['<domain><name>x</name', /is not well-formed XML/],
      ['', /is not well-formed XML \(the file is empty\)/],
      [domain(VDA, ''), /has no <memory> element/],
      [domain("<disk type='file' device='cdrom'><target dev='hdc'/></disk>"), /has no disks/],
      [domain("<disk type='file' device='disk'><target dev='vdb'/></disk>"), /The disk vdb in \/vm\/x\.xml has no <source file=\.\.\.>/],
    ];
    for (const [text, message] of cases) {
      const error = thrown(() => parseLibvirtXml(text, '/vm/x.xml'));
      expect(error).toBeInstanceOf(SourceError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('parseLibvirtXml details', () => {
  it('names the guest after the file when <name> is missing, with a warning', () => {
    const source = parseLibvirtXml(`<domain><memory>1024</memory><devices>${VDA}</devices></domain>`, '/vm/guest7.xml');
    expect(source.name).toBe('guest7');
    expect(source.warnings).toEqual(['/vm/guest7.xml has no <name>; the guest is called "guest7" after the file']);
    expect(source.memoryMiB).toBe(1);
  });
  it('rounds memory up to whole MiB, defaults to 1 vCPU, and ignores a malformed genid', () => {
    const source = parseLibvirtXml(domain(VDA, "<memory unit='KB'>1000000</memory><genid>nope</genid>"), '/vm/x.xml');
    expect(source.memoryMiB).toBe(954); // 10^9 bytes = 953.67 MiB
    expect(source.vcpus).toBe(1);
    expect(source.genid).toBeUndefined();
  });
  it('resolves the drive index of long target names (vdaa is the 27th disk)', () => {
    const disks = `<disk type='file'><source file='b'/><target dev='vdaa'/></disk><disk type='file'><source file='a'/><target dev='vdz'/></disk>`;
    expect(parseLibvirtXml(domain(disks), '/vm/x.xml').disks.map((d) => [d.path, d.unit])).toEqual([
      ['/vm/a', 25],
      ['/vm/b', 26],
    ]);
  });
  it('warns about secure boot on a BIOS guest and does not keep it', () => {
    const extra = "<memory>1024</memory><os><loader secure='yes' type='rom'>/usr/share/seabios/bios.bin</loader></os>";
    const source = parseLibvirtXml(domain(VDA, extra), '/vm/x.xml');
    expect(source).toMatchObject({ firmware: 'bios', secureBoot: false });
    expect(source.warnings).toEqual(['/vm/x.xml: secure boot is enabled but the guest boots with BIOS; secure boot is ignored']);
  });
});

describe('libvirtScaledBytes', () => {
  it.each([
    ['1024', undefined, 1024 * 1024],
    ['1024', 'KiB', 1024 * 1024],
    ['1024', 'k', 1024 * 1024],
    ['1000', 'KB', 1_000_000],
    ['512', 'MiB', 512 * 2 ** 20],
    ['512', 'M', 512 * 2 ** 20],
    ['512', 'mb', 512_000_000],
    ['2', 'GiB', 2 * 2 ** 30],
    ['2', 'G', 2 * 2 ** 30],
    ['2', 'GB', 2_000_000_000],
    ['1', 'TiB', 2 ** 40],
    ['4096', 'b', 4096],
    ['4096', 'bytes', 4096],
    ['4096', 'Byte', 4096],
  ])('%s %s', (value, unit, bytes) => {
    expect(libvirtScaledBytes(value, unit)).toBe(bytes);
  });
  it.each([
    ['1', 'parsecs'],
    ['1', 'KiBB'],
    ['1.5', 'GiB'],
    ['-1', 'GiB'],
    ['', 'GiB'],
  ])('refuses %s %s', (value, unit) => {
    expect(libvirtScaledBytes(value, unit)).toBeUndefined();
  });
});
