import { describe, expect, it } from 'vitest';
import {
  buildDeviceMap,
  ensureGrubCfgLinuxArg,
  ensureGrubCmdlineArg,
  SERIAL_CONSOLE_ARGS,
  SERIAL_CONSOLE_RE,
  ensureModuleLines,
  initramfsModulesPolicy,
  remapDeviceNames,
  setInitramfsModulesPolicy,
} from '../../src/convert/linux/config.js';
import type { SourceDisk } from '../../src/model.js';

const disk = (bus: SourceDisk['bus'], controller = 0, unit = 0): SourceDisk => ({
  path: `/d/${bus}${controller}${unit}`,
  bus,
  controller,
  unit,
});

describe('buildDeviceMap', () => {
  it('maps sd/xvd letters by target position and legacy hd names by IDE order', () => {
    const map = buildDeviceMap([disk('scsi'), disk('scsi', 0, 1), disk('ide'), disk('ide', 0, 1)]);
    expect(Object.fromEntries(map)).toEqual({
      sda: 'vda',
      xvda: 'vda',
      sdb: 'vdb',
      xvdb: 'vdb',
      sdc: 'vdc',
      xvdc: 'vdc',
      hda: 'vdc',
      sdd: 'vdd',
      xvdd: 'vdd',
      hdb: 'vdd',
    });
  });

  it('leaves NVMe disks out (their names do not change)', () => {
    expect(Object.fromEntries(buildDeviceMap([disk('nvme'), disk('sata')]))).toEqual({ sdb: 'vdb', xvdb: 'vdb' });
  });
});

describe('remapDeviceNames', () => {
  const map = buildDeviceMap([disk('scsi'), disk('scsi', 0, 1)]);

  it('renames partitions and whole disks in an fstab', () => {
    const fstab = [
      '# <file system> <mount point> <type> <options> <dump> <pass>',
      '/dev/sda1 / ext4 errors=remount-ro 0 1',
      '/dev/sda2\t/srv\text4\tdefaults\t0\t2',
      '/dev/sdb /data xfs defaults 0 0',
      'UUID=1234 /boot ext4 defaults 0 2',
      '/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0',
      '',
    ].join('\n');
    const result = remapDeviceNames(fstab, map);
    expect(result.text).toBe(fstab.replace('/dev/sda1', '/dev/vda1').replace('/dev/sda2', '/dev/vda2').replace('/dev/sdb ', '/dev/vdb '));
    expect(result.changes).toEqual(['/dev/sda1 → /dev/vda1', '/dev/sda2 → /dev/vda2', '/dev/sdb → /dev/vdb']);
    expect(result.unknown).toEqual([]);
  });

  it('reports devices that are not converted disks and leaves them alone', () => {
    const result = remapDeviceNames('resume=/dev/sdc3 root=/dev/hda1', map);
    expect(result.text).toBe('resume=/dev/sdc3 root=/dev/hda1');
    expect(result.unknown).toEqual(['/dev/sdc3', '/dev/hda1']);
  });

  it('does not touch /dev/disk/by-* or lookalike words', () => {
    const text = 'root=/dev/disk/by-uuid/abc /dev/sdaX /dev/sda1';
    expect(remapDeviceNames(text, map).text).toBe('root=/dev/disk/by-uuid/abc /dev/sdaX /dev/vda1');
  });
});

describe('ensureGrubCmdlineArg', () => {
  const present = /console=ttyS\d/;
  it('appends to an existing quoted GRUB_CMDLINE_LINUX', () => {
    expect(ensureGrubCmdlineArg('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="quiet"\n', 'console=ttyS0', present)).toBe(
      'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="quiet console=ttyS0"\n',
    );
  });
  it('fills an empty value', () => {
    expect(ensureGrubCmdlineArg('GRUB_CMDLINE_LINUX=""\n', 'console=ttyS0', present)).toBe('GRUB_CMDLINE_LINUX="console=ttyS0"\n');
  });
  it('adds the line when missing', () => {
    expect(ensureGrubCmdlineArg('GRUB_TIMEOUT=5', 'console=ttyS0', present)).toBe('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="console=ttyS0"\n');
  });
  it('keeps the text when a serial console is already there', () => {
    const text = 'GRUB_CMDLINE_LINUX="console=ttyS1,9600"\n';
    expect(ensureGrubCmdlineArg(text, 'console=ttyS0', present)).toBe(text);
  });
});

describe('grub.cfg kernel lines', () => {
  // The shape update-grub writes on Debian 12 (normal entry, submenu with a normal and a recovery entry).
  const cfg = [
    "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1234' {",
    '\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=1234 ro  quiet',
    '\tinitrd\t/boot/initrd.img-6.1.0-28-amd64',
    '}',
    "submenu 'Advanced options for Debian GNU/Linux' {",
    "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-28-amd64' {",
    '\t\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=1234 ro  quiet',
    '\t}',
    "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-28-amd64 (recovery mode)' {",
    '\t\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=1234 ro single ',
    '\t}',
    '}',
    '',
  ].join('\n');

  it('adds the serial console to every kernel line, normal and recovery, and nothing else', () => {
    const { text, changed, entries } = ensureGrubCfgLinuxArg(cfg, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE);
    expect({ changed, entries }).toEqual({ changed: 3, entries: 3 });
    const before = cfg.split('\n');
    const after = text.split('\n');
    expect(after).toHaveLength(before.length);
    after.forEach((line, i) => {
      if (/^\s*linux\s/.test(before[i] ?? '')) expect(line).toBe(`${(before[i] ?? '').trimEnd()} console=tty0 console=ttyS0,115200`);
      else expect(line).toBe(before[i]);
    });
  });
  it('leaves lines that already have a serial console, and linux16/linuxefi are kernel lines too', () => {
    const mixed = '  linux16 /vmlinuz-a root=/dev/sda1 console=ttyS1,9600\n  linuxefi /vmlinuz-b ro\n  initrd /initrd\n';
    const { text, changed, entries } = ensureGrubCfgLinuxArg(mixed, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE);
    expect({ changed, entries }).toEqual({ changed: 1, entries: 2 });
    expect(text).toBe(
      '  linux16 /vmlinuz-a root=/dev/sda1 console=ttyS1,9600\n  linuxefi /vmlinuz-b ro console=tty0 console=ttyS0,115200\n  initrd /initrd\n',
    );
  });
  it('reports no entries for a file without kernel lines (a stub that chains to another grub.cfg)', () => {
    const stub = 'search.fs_uuid 1234 root\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n';
    expect(ensureGrubCfgLinuxArg(stub, SERIAL_CONSOLE_ARGS, SERIAL_CONSOLE_RE)).toEqual({ text: stub, changed: 0, entries: 0 });
  });
});

describe('initramfs config', () => {
  it('adds only missing modules, ignoring comments', () => {
    const { text, added } = ensureModuleLines('# list\nvirtio_blk\nahci # sata', ['virtio_pci', 'virtio_blk', 'ahci']);
    expect(added).toEqual(['virtio_pci']);
    expect(text).toBe('# list\nvirtio_blk\nahci # sata\n# added by v2v: virtio drivers for KVM\nvirtio_pci\n');
  });
  it('returns the same text when nothing is missing', () => {
    expect(ensureModuleLines('virtio_pci\n', ['virtio_pci'])).toEqual({ text: 'virtio_pci\n', added: [] });
  });
  it('reads and sets MODULES=', () => {
    expect(initramfsModulesPolicy('# c\nMODULES=dep\nBUSYBOX=auto\n')).toBe('dep');
    expect(initramfsModulesPolicy('BUSYBOX=auto\n')).toBe('most');
    expect(setInitramfsModulesPolicy('MODULES=dep\nX=1\n', 'most')).toBe('MODULES=most\nX=1\n');
  });
});

describe('guestLabel', async () => {
  const { guestLabel } = await import('../../stages/inspect.js');
  it('prefixes a bare Debian version with the distro', () => {
    expect(guestLabel({ distro: 'debian', productName: '12.15', majorVersion: 12, minorVersion: 15 })).toBe('Debian 12.15');
  });
  it('keeps a real product name', () => {
    expect(guestLabel({ distro: 'ubuntu', productName: 'Ubuntu 22.04.4 LTS', majorVersion: 22, minorVersion: 4 })).toBe(
      'Ubuntu 22.04.4 LTS',
    );
  });
  it('falls back to distro and version', () => {
    expect(guestLabel({ distro: 'fedora', productName: 'unknown', majorVersion: 39, minorVersion: 0 })).toBe('Fedora 39.0');
  });
});
