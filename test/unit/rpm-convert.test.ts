import { describe, expect, it } from 'vitest';
import { selectConverter } from '../../src/convert/index.js';
import { convertDebian } from '../../src/convert/linux/debian.js';
import { convertRhel } from '../../src/convert/linux/rhel.js';
import { convertSuse } from '../../src/convert/linux/suse.js';
import { convertWindows } from '../../src/convert/windows/convert.js';
import { ensureBlsOption, selinuxNeedsRelabel, shellLine } from '../../src/convert/linux/common.js';
import {
  dracutArgv,
  grub2MkconfigArgv,
  grubConfigTarget,
  mkinitrdArgv,
  rpmEraseArgv,
  rpmQueryArgv,
  rpmListAllArgv,
  RPM_HYPERVISOR_TOOLS,
} from '../../src/convert/linux/rpm-commands.js';
import type { Inspection } from '../../src/model.js';

const KVER = '5.14.0-362.8.1.el9_3.x86_64';

describe('RPM guest commands (exact argv and shell lines)', () => {
  it('erases and queries packages with rpm', () => {
    expect(rpmEraseArgv(['open-vm-tools', 'open-vm-tools-desktop'])).toEqual(['rpm', '-e', 'open-vm-tools', 'open-vm-tools-desktop']);
    expect(shellLine(rpmEraseArgv(['open-vm-tools']))).toBe('rpm -e open-vm-tools');
    expect(shellLine(rpmQueryArgv(['open-vm-tools']))).toBe(`rpm -q --qf '%{NAME}\\n' open-vm-tools`);
    expect(shellLine(rpmListAllArgv())).toBe(`rpm -qa --qf '%{NAME}\\n'`);
  });
  it('rebuilds an initramfs with dracut, forcing the virtio drivers in', () => {
    expect(dracutArgv(KVER)).toEqual(['dracut', '-f', '--add-drivers', 'virtio_blk virtio_pci virtio_scsi virtio_net', '--kver', KVER]);
    expect(shellLine(dracutArgv(KVER))).toBe(`dracut -f --add-drivers 'virtio_blk virtio_pci virtio_scsi virtio_net' --kver ${KVER}`);
    // Network name pins go into the initramfs too: its udev names the NICs first.
    expect(dracutArgv(KVER, ['/etc/systemd/network/10-v2v-ens192.link', '/etc/systemd/network/10-v2v-ens224.link'])).toEqual([
      'dracut',
      '-f',
      '--add-drivers',
      'virtio_blk virtio_pci virtio_scsi virtio_net',
      '--install',
      '/etc/systemd/network/10-v2v-ens192.link /etc/systemd/network/10-v2v-ens224.link',
      '--kver',
      KVER,
    ]);
  });
  it('falls back to SUSE mkinitrd with explicit kernel and initrd paths', () => {
    expect(mkinitrdArgv('3.0.101-63-default')).toEqual([
      'mkinitrd',
      '-k',
      '/boot/vmlinuz-3.0.101-63-default',
      '-i',
      '/boot/initrd-3.0.101-63-default',
      '-m',
      'virtio_blk virtio_pci virtio_scsi virtio_net',
    ]);
  });
  it('regenerates grub.cfg with grub2-mkconfig -o', () => {
    expect(grub2MkconfigArgv('/boot/grub2/grub.cfg')).toEqual(['grub2-mkconfig', '-o', '/boot/grub2/grub.cfg']);
  });
  it('quotes words the guest shell would split or expand', () => {
    expect(shellLine(['echo', "it's", '$HOME', 'a b', 'plain-word_1.2'])).toBe(`echo 'it'\\''s' '$HOME' 'a b' plain-word_1.2`);
  });
});

describe('grubConfigTarget', () => {
  it('BIOS: /boot/grub2/grub.cfg', () => {
    expect(grubConfigTarget('bios', [{ path: '/boot/efi/EFI/rocky/grub.cfg', text: 'menuentry ...' }])).toBe('/boot/grub2/grub.cfg');
  });
  it('UEFI with a full config on the ESP (RHEL 8): that file', () => {
    expect(
      grubConfigTarget('uefi', [{ path: '/boot/efi/EFI/redhat/grub.cfg', text: '### BEGIN /etc/grub.d/00_header ###\nmenuentry x {}\n' }]),
    ).toBe('/boot/efi/EFI/redhat/grub.cfg');
  });
  it("UEFI with the RHEL 9 / Fedora stub on the ESP: the stub's target, never the stub", () => {
    const stub = 'search --no-floppy --fs-uuid --set=dev 1234\nset prefix=($dev)/grub2\nexport $prefix\nconfigfile $prefix/grub.cfg\n';
    expect(grubConfigTarget('uefi', [{ path: '/boot/efi/EFI/rocky/grub.cfg', text: stub }])).toBe('/boot/grub2/grub.cfg');
    expect(grubConfigTarget('uefi', [])).toBe('/boot/grub2/grub.cfg');
  });
});

describe('hypervisor tools as RPM names', () => {
  it('matches VMware, Xen and VirtualBox tools, not look-alikes', () => {
    for (const p of [
      'open-vm-tools',
      'open-vm-tools-desktop',
      'open-vm-tools-sdmp',
      'VMwareTools',
      'vmware-tools-core',
      'xe-guest-utilities',
      'virtualbox-guest-tools',
    ]) {
      expect(RPM_HYPERVISOR_TOOLS.test(p), p).toBe(true);
    }
    for (const p of ['open-vm-toolsx', 'openssh', 'qemu-guest-agent', 'kernel']) expect(RPM_HYPERVISOR_TOOLS.test(p), p).toBe(false);
  });
});

describe('SELinux relabel and BLS options', () => {
  it('relabels when SELinux is enforcing or permissive, not when disabled or absent', () => {
    expect(selinuxNeedsRelabel('# comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n')).toBe(true);
    expect(selinuxNeedsRelabel('SELINUX=permissive\n')).toBe(true);
    expect(selinuxNeedsRelabel('SELINUX=disabled\n')).toBe(false);
    expect(selinuxNeedsRelabel('SELINUXTYPE=targeted\n')).toBe(false);
  });
  it('adds the serial console to a BLS options line once', () => {
    const entry = 'title Rocky\nlinux /vmlinuz\noptions root=/dev/vda2 ro rhgb quiet\ngrub_class rocky\n';
    const once = ensureBlsOption(entry, 'console=tty0 console=ttyS0,115200', /console=ttyS\d/);
    expect(once).toBe(
      'title Rocky\nlinux /vmlinuz\noptions root=/dev/vda2 ro rhgb quiet console=tty0 console=ttyS0,115200\ngrub_class rocky\n',
    );
    expect(ensureBlsOption(once, 'console=tty0 console=ttyS0,115200', /console=ttyS\d/)).toBe(once);
  });
});

describe('selectConverter', () => {
  const inspection = (type: string, distro: string, productName = ''): Inspection => ({
    root: '/dev/sda1',
    type,
    distro,
    majorVersion: 9,
    minorVersion: 3,
    productName,
    hostname: '',
    arch: 'x86_64',
    packageFormat: '',
    packageManagement: '',
    mounts: [],
    packages: [],
    kernels: [],
    bootloader: 'grub2',
    firmware: 'bios',
  });
  it('picks Debian for Debian and Ubuntu, RHEL for the RHEL family and Fedora, SUSE for SLES/openSUSE', () => {
    expect(selectConverter(inspection('linux', 'ubuntu'))).toBe(convertDebian);
    expect(selectConverter(inspection('linux', 'debian'))).toBe(convertDebian);
    for (const d of ['rhel', 'centos', 'fedora', 'rocky', 'almalinux', 'oraclelinux'])
      expect(selectConverter(inspection('linux', d)), d).toBe(convertRhel);
    for (const d of ['sles', 'opensuse']) expect(selectConverter(inspection('linux', d)), d).toBe(convertSuse);
  });
  it('picks the Windows converter for Windows', () => {
    expect(selectConverter(inspection('windows', 'windows', 'Windows Server 2022 Standard'))).toBe(convertWindows);
  });
  it('refuses other distributions and operating systems, naming the guest and what is supported', () => {
    expect(() => selectConverter(inspection('linux', 'archlinux', 'Arch Linux'))).toThrow(
      'Converting Arch Linux (distribution "archlinux") is not supported: v2v converts Debian, Ubuntu, RHEL, CentOS, AlmaLinux, Rocky Linux, Fedora, SLES and openSUSE Linux guests; convert this guest by hand or with virt-v2v.',
    );
    expect(() => selectConverter(inspection('freebsd', 'freebsd', 'FreeBSD 14.0'))).toThrow(
      'Converting FreeBSD 14.0 is not supported: v2v converts Debian, Ubuntu, RHEL, CentOS, AlmaLinux, Rocky Linux, Fedora, SLES and openSUSE Linux guests, and Windows.',
    );
  });
});
