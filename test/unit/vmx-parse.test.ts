import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import type { Source } from '../../src/model.js';
import { isVmxHidden, parseVmx, parseVmxBool, parseVmxText, vmxGenidToGuid, vmxGet, vmxToSource } from '../../src/input/vmx/parse.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'vmx');

/** Raw fixture text (read as UTF-8, like the vmx input does). */
function fixture(name: string): string {
  return readFileSync(path.join(fixtures, name), 'utf8');
}

/** Parses a fixture as if it lived at `vmxPath`. */
function parseFixture(name: string, vmxPath: string): Source {
  return parseVmx(fixture(name), vmxPath);
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

describe('parseVmx on realistic VMs', () => {
  it('maps an ESXi 8 RHEL 9 VM (EFI, pvscsi, two datastores, vmxnet3, genid)', () => {
    expect(parseFixture('esxi8-rhel9.vmx', '/vmfs/volumes/datastore1/rhel9/rhel9.vmx')).toEqual({
      name: 'rhel9-web01',
      memoryMiB: 8192,
      vcpus: 4,
      cpuTopology: { sockets: 2, cores: 2, threads: 1 },
      firmware: 'uefi',
      secureBoot: false,
      disks: [
        { path: '/vmfs/volumes/datastore1/rhel9/rhel9.vmdk', bus: 'scsi', controller: 0, unit: 0, controllerModel: 'pvscsi' },
        {
          path: '/vmfs/volumes/64f0c2a1-5e7d3b10-9a2c-0050569a1b2c/rhel9/rhel9_1.vmdk',
          bus: 'scsi',
          controller: 0,
          unit: 1,
          controllerModel: 'pvscsi',
        },
      ],
      removables: [{ kind: 'cdrom', bus: 'sata', controller: 0, unit: 0 }],
      nics: [{ mac: '00:50:56:9a:2e:71', model: 'vmxnet3', network: 'VM Network', pciSlot: 192 }],
      genid: '09512cc5-940a-8987-b950-f54f631015e8',
      warnings: [],
    } satisfies Source);
  });

  it('maps an ESXi 7 Debian VM (BIOS, lsilogic, IDE CD-ROM, two NICs)', () => {
    expect(parseFixture('esxi7-debian11.vmx', '/vmfs/volumes/ds2/debian11/debian11.vmx')).toEqual({
      name: 'debian11',
      memoryMiB: 2048,
      vcpus: 2,
      firmware: 'bios',
      secureBoot: false,
      disks: [{ path: '/vmfs/volumes/ds2/debian11/debian11.vmdk', bus: 'scsi', controller: 0, unit: 0, controllerModel: 'lsilogic' }],
      removables: [{ kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 }],
      nics: [
        { mac: '00:50:56:ab:01:02', model: 'vmxnet3', network: 'DMZ' },
        { mac: '00:50:56:ab:01:03', model: 'e1000', network: 'Backup Net' },
      ],
      warnings: [],
    } satisfies Source);
  });

  it('maps a Workstation VM (file names with spaces, NAT, sound)', () => {
    const dir = '/home/ana/vmware/Ubuntu 64-bit';
    expect(parseFixture('workstation-ubuntu.vmx', `${dir}/Ubuntu 64-bit.vmx`)).toEqual({
      name: 'Ubuntu 64-bit',
      memoryMiB: 4096,
      vcpus: 2,
      cpuTopology: { sockets: 2, cores: 1, threads: 1 },
      firmware: 'bios',
      secureBoot: false,
      disks: [{ path: `${dir}/Ubuntu 64-bit.vmdk`, bus: 'scsi', controller: 0, unit: 0, controllerModel: 'lsilogic' }],
      removables: [{ kind: 'cdrom', bus: 'sata', controller: 0, unit: 1 }],
      nics: [{ mac: '00:0c:29:8a:3b:1f', model: 'e1000', connectionType: 'nat' }],
      sound: 'hdaudio',
      warnings: [],
    } satisfies Source);
  });

  it('maps Windows 11 with EFI, secure boot, NVMe, static MAC and a non-UTF-8 .encoding', () => {
    const vmxPath = '/data/vms/win11/Windows 11 x64.vmx';
    expect(parseFixture('windows11-efi-nvme.vmx', vmxPath)).toEqual({
      name: 'Windows 11 x64',
      memoryMiB: 8192,
      vcpus: 4,
      cpuTopology: { sockets: 1, cores: 4, threads: 1 },
      firmware: 'uefi',
      secureBoot: true,
      disks: [
        { path: '/data/vms/win11/Windows 11 x64.vmdk', bus: 'nvme', controller: 0, unit: 0 },
        { path: '/data/vms/win11/Windows 11 x64-data.vmdk', bus: 'nvme', controller: 0, unit: 1 },
      ],
      removables: [{ kind: 'cdrom', bus: 'sata', controller: 0, unit: 1 }],
      nics: [{ mac: '00:50:56:3f:00:10', model: 'e1000e', connectionType: 'bridged' }],
      // Cross-checked with Python: uuid.UUID(bytes_le=struct.pack('<QQ', genid % 2**64, genidX % 2**64)).
      genid: '99553006-b98c-582e-d783-431f1d5573ab',
      sound: 'hdaudio',
      warnings: [`${vmxPath} declares encoding "windows-1252" but was read as UTF-8, so non-ASCII names may be wrong`],
    } satisfies Source);
  });
});

describe('parseVmx disks and removables', () => {
  it('orders SATA before IDE and splits disks from CD-ROMs, whatever the file order', () => {
    const source = parseFixture('sata-ide-mix.vmx', '/vms/mix/mix.vmx');
    expect(source.disks).toEqual([
      { path: '/vms/mix/legacy-sata0.vmdk', bus: 'sata', controller: 0, unit: 0 },
      { path: '/vms/mix/legacy-plain.pln', bus: 'sata', controller: 0, unit: 3 },
      { path: '/vms/mix/legacy-sata1.vmdk', bus: 'sata', controller: 1, unit: 0 },
      { path: '/vms/mix/legacy-ide.vmdk', bus: 'ide', controller: 0, unit: 0 },
      { path: '/vms/mix/legacy-ide-2.vmdk', bus: 'ide', controller: 0, unit: 1 },
    ]);
    expect(source.removables).toEqual([
      { kind: 'cdrom', bus: 'sata', controller: 0, unit: 2 },
      { kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 },
      { kind: 'cdrom', bus: 'ide', controller: 1, unit: 1 },
    ]);
    expect(source.nics).toEqual([]);
    expect(source.warnings).toEqual([]);
  });

  it('orders controllers and units numerically (scsi10 after scsi2, unit 10 after unit 2) with per-controller models', () => {
    const source = parseFixture('multi-scsi.vmx', '/vms/db/db.vmx');
    expect(source.disks).toEqual([
      { path: '/vms/db/db_os.vmdk', bus: 'scsi', controller: 0, unit: 0, controllerModel: 'pvscsi' },
      { path: '/vms/db/db_tmp.vmdk', bus: 'scsi', controller: 1, unit: 0 },
      { path: '/vms/db/db_data_a.vmdk', bus: 'scsi', controller: 2, unit: 2, controllerModel: 'buslogic' },
      { path: '/vms/db/db_data_b.vmdk', bus: 'scsi', controller: 2, unit: 10, controllerModel: 'buslogic' },
      { path: '/vms/db/db_log.vmdk', bus: 'scsi', controller: 10, unit: 0, controllerModel: 'lsisas1068' },
    ]);
    expect(source.cpuTopology).toEqual({ sockets: 2, cores: 8, threads: 1 });
    expect(source.memoryMiB).toBe(65536);
    expect(source.vcpus).toBe(16);
  });

  it('hides devices whose unit, controller or namespace has present = FALSE', () => {
    expect(parseFixture('present-false.vmx', '/vms/hidden/hidden.vmx')).toEqual({
      name: 'hidden-devices',
      memoryMiB: 2048,
      vcpus: 2,
      firmware: 'bios',
      secureBoot: false,
      disks: [
        { path: '/vms/hidden/visible.vmdk', bus: 'scsi', controller: 0, unit: 0, controllerModel: 'pvscsi' },
        { path: '/vms/hidden/visible-2.vmdk', bus: 'scsi', controller: 0, unit: 2, controllerModel: 'pvscsi' },
      ],
      removables: [],
      nics: [
        { mac: '00:50:56:00:00:01', model: 'vmxnet3' },
        { mac: '00:50:56:00:00:03', model: 'e1000e' },
      ],
      warnings: [],
    } satisfies Source);
  });

  it('orders buses SCSI, NVMe, SATA, IDE regardless of file order', () => {
    const text = ['ide0:0', 'sata0:0', 'nvme0:0', 'scsi0:0'].map((ns) => `${ns}.fileName = "${ns.replace(':', '-')}.vmdk"`).join('\n');
    expect(parseVmx(text, '/v/all.vmx').disks.map((d) => d.path)).toEqual([
      '/v/scsi0-0.vmdk',
      '/v/nvme0-0.vmdk',
      '/v/sata0-0.vmdk',
      '/v/ide0-0.vmdk',
    ]);
  });

  it('resolves relative fileNames against the .vmx directory and keeps absolute ones', () => {
    const vmxPath = '/vms/p/paths.vmx';
    const source = parseFixture('paths.vmx', vmxPath);
    expect(source.disks.map((d) => [d.unit, d.path])).toEqual([
      [0, '/vms/p/local.vmdk'],
      [1, '/vms/p/sub dir/nested.vmdk'],
      [2, '/vms/shared/base.vmdk'],
      [3, '/srv/images/absolute.vmdk'],
      [4, '/vms/p/dot/y.vmdk'],
    ]);
    expect(source.warnings).toEqual([
      `scsi0:5 in ${vmxPath} has no fileName, so the disk is skipped`,
      `scsi0:6 in ${vmxPath} has no fileName, so the disk is skipped`,
      `scsi0:8 in ${vmxPath} has deviceType "scsi-passthru", which is neither a disk nor a CD-ROM; it is skipped`,
      `scsi0:9 in ${vmxPath} has no deviceType and file "stray.iso", which is neither a disk nor a CD-ROM; it is skipped`,
    ]);
  });

  it('makes disk paths absolute when the .vmx path itself is relative', () => {
    const source = parseFixture('paths.vmx', 'guests/paths.vmx');
    expect(source.disks[0]?.path).toBe(path.resolve('guests', 'local.vmdk'));
    expect(source.disks[3]?.path).toBe('/srv/images/absolute.vmdk');
  });

  it('carries floppy drives over in order of N, skipping hidden ones', () => {
    const source = parseFixture('floppy.vmx', '/vms/dos/dos.vmx');
    expect(source.disks).toEqual([{ path: '/vms/dos/dos.vmdk', bus: 'ide', controller: 0, unit: 0 }]);
    expect(source.removables).toEqual([
      { kind: 'floppy', bus: 'fdc', controller: 0, unit: 0 },
      { kind: 'floppy', bus: 'fdc', controller: 0, unit: 1 },
    ]);
    expect(source.memoryMiB).toBe(64);
  });

  it('rejects a VM whose only disk is hidden and whose other drives are CD-ROMs', () => {
    const error = thrown(() => parseFixture('no-disks.vmx', '/vms/nd/no-disks.vmx'));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toBe(
      'The VMX file /vms/nd/no-disks.vmx has no disks; check that it names the guest\'s disks in scsiX:Y, sataX:Y, nvmeX:Y or ideX:Y fileName settings that are not switched off by present = "FALSE".',
    );
  });
});

describe('parseVmx NICs', () => {
  it('carries ethernetN.pciSlotNumber (systemd names the NIC ens<slot>); -1 means not placed yet', () => {
    const text = [
      '.encoding = "UTF-8"',
      'displayName = "slots"',
      'scsi0.present = "TRUE"',
      'scsi0:0.present = "TRUE"',
      'scsi0:0.fileName = "slots.vmdk"',
      'ethernet0.present = "TRUE"',
      'ethernet0.virtualDev = "vmxnet3"',
      'ethernet0.pciSlotNumber = "160"',
      'ethernet1.present = "TRUE"',
      'ethernet1.virtualDev = "e1000"',
      'ethernet1.pciSlotNumber = "33"',
      'ethernet2.present = "TRUE"',
      'ethernet2.pciSlotNumber = "-1"',
      '',
    ].join('\n');
    expect(parseVmx(text, '/vms/slots.vmx').nics.map((n) => n.pciSlot)).toEqual([160, 33, undefined]);
  });

  it('uses .address only for static addressType, validates MACs and orders ethernet10 last', () => {
    const vmxPath = '/vms/macs/macs.vmx';
    const source = parseFixture('static-mac.vmx', vmxPath);
    expect(source.nics).toEqual([
      { mac: '00:50:56:aa:bb:cc', model: 'vmxnet3', network: 'Prod VLAN 10' },
      { model: 'e1000', connectionType: 'hostonly' },
      { model: 'e1000', connectionType: 'bridged' },
      { model: 'vmxnet3' },
    ]);
    expect(source.warnings).toEqual([
      `line 12 of ${vmxPath}: ethernet1.generatedAddress = "00:0c:29:zz:00:01" is not a MAC address; it is not kept`,
      `ethernet2 in ${vmxPath} has addressType "static" but no address; it gets no fixed MAC`,
    ]);
  });
});

describe('parseVmx defaults and warnings', () => {
  it('falls back to the file name, 32 MiB and 1 vCPU', () => {
    expect(parseFixture('defaults.vmx', '/vms/minimal/minimal-vm.vmx')).toEqual({
      name: 'minimal-vm',
      memoryMiB: 32,
      vcpus: 1,
      firmware: 'bios',
      secureBoot: false,
      disks: [{ path: '/vms/minimal/minimal-disk.vmdk', bus: 'scsi', controller: 0, unit: 0 }],
      removables: [],
      nics: [],
      warnings: [],
    } satisfies Source);
  });

  it('warns about an odd topology, zero memory, secure boot on BIOS and a half genid', () => {
    const vmxPath = '/vms/odd/odd.vmx';
    const source = parseFixture('topology-mismatch.vmx', vmxPath);
    expect(source).toMatchObject({ memoryMiB: 32, vcpus: 6, firmware: 'bios', secureBoot: false });
    expect(source.cpuTopology).toBeUndefined();
    expect(source.genid).toBeUndefined();
    expect(source.warnings).toEqual([
      `line 4 of ${vmxPath}: memsize = "0" is not a positive whole number; it is ignored`,
      `${vmxPath}: cpuid.coresPerSocket = 4 does not divide numvcpus = 6; the CPU topology is dropped`,
      `${vmxPath}: UEFI secure boot is enabled but the VM boots with BIOS; secure boot is ignored`,
      `${vmxPath}: vm.genid and vm.genidX must both be 64-bit decimal numbers; the VM generation ID is dropped`,
    ]);
  });

  it('lets the last duplicate win (keys compared case-insensitively) and warns', () => {
    const vmxPath = '/vms/dup/dup.vmx';
    const source = parseFixture('duplicate-keys.vmx', vmxPath);
    expect(source).toMatchObject({ name: 'second-name', memoryMiB: 3072, vcpus: 2 });
    expect(source.warnings).toEqual([
      `line 5 of ${vmxPath} sets DisplayName again (first set on line 1); the last value "second-name" is used`,
      `line 6 of ${vmxPath} sets memsize again (first set on line 2); the last value "3072" is used`,
    ]);
  });

  it('skips malformed lines with one warning each and keeps the good ones', () => {
    const f = '/vms/bad/bad-lines.vmx';
    const source = parseFixture('bad-lines.vmx', f);
    expect(source).toMatchObject({ name: 'bad-lines', memoryMiB: 32, vcpus: 2 });
    expect(source.cpuTopology).toBeUndefined();
    expect(source.disks).toEqual([{ path: '/vms/bad/bad.vmdk', bus: 'scsi', controller: 0, unit: 0 }]);
    expect(source.warnings).toEqual([
      `line 2 of ${f} has no "=", so it is ignored: this line has no equals sign`,
      `line 3 of ${f} has no closing quote, so it is ignored: memsize = "2048`,
      `line 4 of ${f} has text after the closing quote, which is ignored: numvcpus = "2" trailing junk`,
      `line 5 of ${f} has no valid key before "=", so it is ignored: = "no key"`,
      `line 6 of ${f} has no value after "=", so it is ignored: cpuid.coresPerSocket =`,
      `line 7 of ${f} has no valid key before "=", so it is ignored: bad key = "spaces in key"`,
      `line 8 of ${f} has a "|" not followed by two hex digits; it is kept as is`,
    ]);
  });

  it('handles a BOM, CRLF, comments (whole-line and trailing) and unquoted values', () => {
    const text = fixture('comments-crlf-bom.vmx');
    // Guard: the fixture really has the bytes this test is about.
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(text).toContain('\r\n');
    expect(parseVmx(text, '/vms/crlf/crlf.vmx')).toEqual({
      name: 'crlf-vm',
      memoryMiB: 512,
      vcpus: 2,
      firmware: 'bios',
      secureBoot: false,
      disks: [{ path: '/vms/crlf/crlf.vmdk', bus: 'scsi', controller: 0, unit: 0, controllerModel: 'pvscsi' }],
      removables: [],
      nics: [{ model: 'vmxnet3' }],
      warnings: [],
    } satisfies Source);
  });

  it('decodes |XX escapes as UTF-8 bytes in names and file names', () => {
    const source = parseFixture('hex-escapes.vmx', '/vms/hex/hex.vmx');
    expect(source.name).toBe('Ana\'s "test" VM | café | done');
    expect(source.disks).toEqual([{ path: '/vms/hex/disk "one".vmdk', bus: 'scsi', controller: 0, unit: 0 }]);
    expect(source.warnings).toEqual([]);
  });
});

describe('parseVmxText', () => {
  it('returns entries by lower-case key with the original spelling, decoded value and line', () => {
    const vmx = parseVmxText(fixture('hex-escapes.vmx'));
    expect(vmx.entries.get('displayname')).toEqual({
      key: 'displayName',
      value: 'Ana\'s "test" VM | café | done',
      line: 1,
    });
    expect(vmx.entries.get('annotation')?.value).toBe('Line one\nLine two');
    expect([...vmx.entries.keys()]).toEqual([
      'displayname',
      'annotation',
      'memsize',
      'scsi0.present',
      'scsi0:0.filename',
      'scsi0:0.present',
    ]);
    expect(vmx.encoding).toBeUndefined();
  });

  it('keeps .encoding out of the entries and counts CRLF lines correctly', () => {
    const vmx = parseVmxText(fixture('comments-crlf-bom.vmx'));
    expect(vmx.encoding).toBe('UTF-8');
    expect(vmx.entries.has('.encoding')).toBe(false);
    expect(vmx.entries.get('displayname')).toEqual({ key: 'displayName', value: 'crlf-vm', line: 5 });
    expect(vmx.entries.get('numvcpus')?.value).toBe('2');
    expect(vmx.entries.get('scsi0:0.present')?.value).toBe('TRUE');
    expect(vmx.warnings).toEqual([]);
  });

  it('replaces escapes that are not UTF-8 and says so', () => {
    const vmx = parseVmxText('displayName = "caf|E9"\n', 'x.vmx');
    expect(vmx.entries.get('displayname')?.value).toBe('caf\uFFFD');
    expect(vmx.warnings).toEqual(['line 1 of x.vmx has |XX escapes that are not valid UTF-8; they were replaced by U+FFFD']);
  });

  it('accepts values without spaces around "=" and lower-case hex escapes', () => {
    const vmx = parseVmxText('a.b="x|7cy|22"\nc = "|41|42"');
    expect(vmxGet(vmx, 'A.B')).toBe('x|y"');
    expect(vmxGet(vmx, 'c')).toBe('AB');
  });

  it('throws SourceError when nothing in the text is a setting', () => {
    const error = thrown(() => parseVmxText(fixture('garbage.vmx'), '/vms/g/garbage.vmx'));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toBe(
      '/vms/g/garbage.vmx contains no key = "value" settings; check that the path names a VMware .vmx file.',
    );
    expect(() => parseVmxText('')).toThrow(SourceError);
    expect(() => parseVmxText('\uFEFF.encoding = "UTF-8"\r\n# only a comment\r\n')).toThrow(SourceError);
  });
});

describe('present = FALSE and booleans', () => {
  it('treats TRUE/true/yes/1 as true and everything else as false', () => {
    expect(['TRUE', 'true', 'Yes', '1', ' TRUE '].map(parseVmxBool)).toEqual([true, true, true, true, true]);
    expect(['FALSE', 'no', '0', '', 'maybe', undefined].map(parseVmxBool)).toEqual([false, false, false, false, false, false]);
  });

  it('hides a namespace, its controller children and deeper keys, but not siblings', () => {
    const vmx = parseVmxText(
      [
        'scsi1.present = "FALSE"',
        'scsi1:0.fileName = "a.vmdk"',
        'scsi0:1.present = "false"',
        'scsi0:1.fileName = "b.vmdk"',
        'scsi0:10.fileName = "c.vmdk"',
        'a.b.present = "no"',
        'a.b.c.d = "deep"',
        'a.x = "sibling"',
      ].join('\n'),
    );
    expect(isVmxHidden(vmx, 'scsi1:0.fileName')).toBe(true);
    expect(isVmxHidden(vmx, 'SCSI1.virtualDev')).toBe(true);
    expect(isVmxHidden(vmx, 'scsi0:1.fileName')).toBe(true);
    expect(isVmxHidden(vmx, 'scsi0:10.fileName')).toBe(false);
    expect(vmxGet(vmx, 'scsi0:10.filename')).toBe('c.vmdk');
    expect(vmxGet(vmx, 'a.b.c.d')).toBeUndefined();
    expect(vmxGet(vmx, 'a.x')).toBe('sibling');
  });
});

describe('vmxGenidToGuid', () => {
  it('lays genid then genidX out little-endian and prints a Microsoft-layout GUID', () => {
    // Example from the qemu-devel thread of Sept 2021: the guest saw 8987940a09512cc5:e81510634ff550b9.
    expect(vmxGenidToGuid('-8536691797830587195', '-1723453263670062919')).toBe('09512cc5-940a-8987-b950-f54f631015e8');
    expect(vmxGenidToGuid('1', '0')).toBe('00000001-0000-0000-0000-000000000000');
    expect(vmxGenidToGuid('0', '1')).toBe('00000000-0000-0000-0100-000000000000');
  });

  it('rejects values that are not 64-bit decimals', () => {
    expect(vmxGenidToGuid('18446744073709551616', '0')).toBeUndefined();
    expect(vmxGenidToGuid('0x10', '0')).toBeUndefined();
    expect(vmxGenidToGuid('1', '')).toBeUndefined();
  });
});

describe('vmxToSource', () => {
  it('carries the tokenizer warnings of the VmxFile it is given', () => {
    const vmx = parseVmxText('scsi0:0.fileName = "d.vmdk"\nscsi0:0.fileName = "e.vmdk"\n', '/v/t.vmx');
    const source = vmxToSource(vmx, '/v/t.vmx');
    expect(source.disks).toEqual([{ path: '/v/e.vmdk', bus: 'scsi', controller: 0, unit: 0 }]);
    expect(source.name).toBe('t');
    expect(source.warnings).toEqual([
      'line 2 of /v/t.vmx sets scsi0:0.fileName again (first set on line 1); the last value "e.vmdk" is used',
    ]);
  });
});
