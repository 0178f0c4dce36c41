import { describe, expect, it } from 'vitest';
import { findGrubMenuEntry } from '../../src/convert/linux/grub-menu.js';
import { chooseBestKernel, isDebugKernel, rpmVersionCompare } from '../../src/convert/linux/kernel-choice.js';
import { grub2SetDefaultArgv, grubbySetDefaultArgv, RPM_HYPERVISOR_TOOLS } from '../../src/convert/linux/rpm-commands.js';

/** -1, 0 or 1, for readable expectations. */
const cmp = (a: string, b: string): number => Math.sign(rpmVersionCompare(a, b));

describe('rpmVersionCompare (rpm version order)', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1.0', '2.0', -1],
    ['2.0.1', '2.0', 1],
    ['2.0', '2.0.1', -1],
    ['1.10', '1.9', 1], // numbers compare as numbers, not text
    ['1.010', '1.9', 1], // leading zeros ignored
    ['1.01', '1.1', 0],
    ['1.0a', '1.0', 1], // a segment left over is newer
    ['1.0', '1.a', 1], // a numeric segment beats a letter segment
    ['1.0~rc1', '1.0', -1], // ~ sorts before the release
    ['1.0~rc1', '1.0~rc2', -1],
    ['1.0^git1', '1.0', 1], // ^ sorts after the release...
    ['1.0^git1', '1.0.1', -1], // ...but before the next version
    ['1.0.1', '1.0_1', 0], // separators only separate
    ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-362.18.1.el9_3.x86_64', -1],
    ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-284.11.1.el9_2.x86_64', 1],
    ['4.18.0-513.5.1.el8_9.x86_64', '5.14.0-70.13.1.el9_0.x86_64', -1],
    ['5.14.21-150500.55.39-default', '5.14.21-150500.55.7-default', 1],
    ['6.1.0-28-amd64', '6.1.0-9-amd64', 1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(cmp(a, b)).toBe(expected);
    expect(cmp(b, a)).toBe(-expected || 0);
  });
});

describe('isDebugKernel', () => {
  it('recognises RHEL 8+ +debug, RHEL 6/7 .debug and SUSE -debug', () => {
    expect(isDebugKernel('5.14.0-362.18.1.el9_3.x86_64+debug')).toBe(true);
    expect(isDebugKernel('3.10.0-1160.el7.x86_64.debug')).toBe(true);
    expect(isDebugKernel('5.14.21-150500.55.39-debug')).toBe(true);
    expect(isDebugKernel('5.14.21-150500.55.39-default')).toBe(false);
    expect(isDebugKernel('5.14.0-362.8.1.el9_3.x86_64')).toBe(false);
    expect(isDebugKernel('6.1.0-debugfs-fix-amd64')).toBe(false);
  });
});

describe('chooseBestKernel', () => {
  const k = (version: string, hasVirtio = true): { version: string; hasVirtio: boolean } => ({ version, hasVirtio });

  it('skips kernels without virtio and debug kernels, then takes the newest', () => {
    const choice = chooseBestKernel([
      k('5.14.0-362.18.1.el9_3.x86_64+debug'),
      k('5.14.0-362.8.1.el9_3.x86_64'),
      k('5.14.0-284.11.1.el9_2.x86_64', false),
      k('5.14.0-70.13.1.el9_0.x86_64'),
    ]);
    expect(choice?.kernel.version).toBe('5.14.0-362.8.1.el9_3.x86_64');
    expect(choice?.reason).toBe('newest non-debug kernel with virtio of 4 (skipped 1 without virtio, 1 debug)');
  });

  it('prefers a virtio kernel over a newer one without virtio', () => {
    expect(chooseBestKernel([k('5.14.0-400.el9.x86_64', false), k('5.14.0-362.8.1.el9_3.x86_64')])?.kernel.version).toBe(
      '5.14.0-362.8.1.el9_3.x86_64',
    );
  });

  it('compares versions as rpm does, not as text (362.18 > 362.8; 55.39 > 55.7)', () => {
    expect(chooseBestKernel([k('5.14.0-362.8.1.el9_3.x86_64'), k('5.14.0-362.18.1.el9_3.x86_64')])?.kernel.version).toBe(
      '5.14.0-362.18.1.el9_3.x86_64',
    );
    expect(chooseBestKernel([k('5.14.21-150500.55.7-default'), k('5.14.21-150500.55.39-default')])?.kernel.version).toBe(
      '5.14.21-150500.55.39-default',
    );
  });

  it('takes a debug kernel only when every virtio kernel is one', () => {
    const choice = chooseBestKernel([k('5.14.0-362.8.1.el9_3.x86_64', false), k('5.14.0-362.18.1.el9_3.x86_64+debug')]);
    expect(choice?.kernel.version).toBe('5.14.0-362.18.1.el9_3.x86_64+debug');
    expect(choice?.reason).toBe('newest debug kernel with virtio of 2 (skipped 1 without virtio)');
  });

  it('returns undefined when no kernel has virtio', () => {
    expect(chooseBestKernel([k('2.6.18-398.el5', false)])).toBeUndefined();
    expect(chooseBestKernel([])).toBeUndefined();
  });
});

describe('commands that make a kernel the default', () => {
  it('grubby takes the kernel image path; grub2-set-default an entry id or path', () => {
    expect(grubbySetDefaultArgv('5.14.0-362.8.1.el9_3.x86_64')).toEqual([
      'grubby',
      '--set-default',
      '/boot/vmlinuz-5.14.0-362.8.1.el9_3.x86_64',
    ]);
    expect(grub2SetDefaultArgv('gnulinux-advanced-x>gnulinux-5.14.21-default-advanced-x')).toEqual([
      'grub2-set-default',
      'gnulinux-advanced-x>gnulinux-5.14.21-default-advanced-x',
    ]);
  });
  it('SUSE libvmtools0 is removed with open-vm-tools', () => {
    expect(RPM_HYPERVISOR_TOOLS.test('libvmtools0')).toBe(true);
    expect(RPM_HYPERVISOR_TOOLS.test('libvmtools-devel')).toBe(false);
  });
});

describe('findGrubMenuEntry (SLES-style grub.cfg)', () => {
  const NEW = '5.14.21-150500.55.39-default';
  const OLD = '5.14.21-150500.55.36-default';
  const cfg = [
    'set default="${saved_entry}"',
    'if [ x"${feature_menuentry_id}" = xy ]; then',
    '  menuentry_id_option="--id"',
    'fi',
    `menuentry 'SLES 15-SP5' --class sles $menuentry_id_option 'gnulinux-simple-U' {`,
    `\tlinux\t/boot/vmlinuz-${NEW} root=/dev/sda1 quiet`,
    '}',
    `submenu 'Advanced options for SLES 15-SP5' $menuentry_id_option 'gnulinux-advanced-U' {`,
    `\tmenuentry 'SLES 15-SP5, with Linux ${NEW}' $menuentry_id_option 'gnulinux-${NEW}-advanced-U' {`,
    `\t\tlinux\t/boot/vmlinuz-${NEW} root=/dev/sda1 quiet`,
    '\t}',
    `\tmenuentry 'SLES 15-SP5, with Linux ${OLD} (recovery mode)' $menuentry_id_option 'gnulinux-${OLD}-recovery-U' {`,
    `\t\tlinux\t/boot/vmlinuz-${OLD} root=/dev/sda1 single`,
    '\t}',
    `\tmenuentry 'SLES 15-SP5, with Linux ${OLD}' $menuentry_id_option 'gnulinux-${OLD}-advanced-U' {`,
    '\t\tif [ x$grub_platform = xxen ]; then insmod xzio; fi',
    `\t\tlinux\t/boot/vmlinuz-${OLD} root=/dev/sda1 quiet`,
    '\t}',
    '}',
  ].join('\n');

  it('finds the first top-level entry for the newest kernel', () => {
    expect(findGrubMenuEntry(cfg, NEW)).toEqual({ path: 'gnulinux-simple-U', first: true });
  });
  it('finds an older kernel in the submenu, by ids, skipping its recovery entry', () => {
    expect(findGrubMenuEntry(cfg, OLD)).toEqual({ path: `gnulinux-advanced-U>gnulinux-${OLD}-advanced-U`, first: false });
  });
  it('does not take a kernel whose version only starts the same', () => {
    expect(findGrubMenuEntry(cfg, '5.14.21-150500.55.3')).toBeUndefined();
  });
  it('uses titles when there are no ids, and /vmlinuz paths (separate /boot)', () => {
    const plain =
      "menuentry 'Other' {\n\tlinux /vmlinuz-1.0 root=/dev/sda2\n}\nmenuentry 'CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)' {\n\tlinux16 /vmlinuz-3.10.0-1160.el7.x86_64 root=/dev/sda2\n}";
    expect(findGrubMenuEntry(plain, '3.10.0-1160.el7.x86_64')).toEqual({
      path: 'CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)',
      first: false,
    });
    expect(findGrubMenuEntry(plain, '1.0')).toEqual({ path: 'Other', first: true });
  });
});
