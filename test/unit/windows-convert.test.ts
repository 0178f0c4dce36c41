/**
 * Pure parts of Windows conversion: virtio-win driver selection, .reg text
 * building and parsing, DevicePath, the first-boot script, VMware Tools
 * uninstall commands, and where virtio-win comes from.
 */
import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectVirtioDrivers, virtioWinArchDir, virtioWinOsDirs } from '../../src/convert/windows/virtio-win.js';
import { locateVirtioWin, virtioWinCandidate } from '../../src/convert/windows/virtio-win-location.js';
import { appendDevicePath, buildRegFile, parseRegExport, regValueLine } from '../../src/convert/windows/registry.js';
import { firstbootCommandLine, firstbootScript, vmwareToolsUninstall } from '../../src/convert/windows/firstboot.js';
import { bootDriverKeys, firstbootServiceKeys } from '../../src/convert/windows/convert.js';
import { exportCommand, hivexregeditAvailable, mergeCommand } from '../../drivers/hivexregedit.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { PreflightError, UsageError } from '../../src/errors.js';

const win = (productName: string, majorVersion: number, minorVersion: number, arch = 'x86_64') => ({
  productName,
  majorVersion,
  minorVersion,
  arch,
});

describe('virtioWinOsDirs: virtio-win directory names for a Windows version, best first', () => {
  it.each([
    [win('Windows Server 2019 Standard', 10, 0), ['2k19', '2k16']],
    [win('Windows Server 2022 Datacenter', 10, 0), ['2k22', '2k19', '2k16']],
    [win('Windows Server 2025 Standard', 10, 0), ['2k25', '2k22', '2k19', '2k16']],
    [win('Windows Server 2016 Standard', 10, 0), ['2k16']],
    [win('Windows Server Datacenter', 10, 0), ['2k25', '2k22', '2k19', '2k16']],
    [win('Windows 10 Pro', 10, 0), ['w10']],
    [win('Windows 11 Enterprise', 10, 0), ['w11', 'w10']],
    [win('Windows Server 2012 R2 Standard', 6, 3), ['2k12R2', '2k12']],
    [win('Windows 8.1 Pro', 6, 3), ['w8.1', 'w8']],
    [win('Windows Server 2012 Standard', 6, 2), ['2k12']],
    [win('Windows 7 Professional', 6, 1), ['w7']],
    [win('Windows Server 2008 R2 Standard', 6, 1), ['2k8R2']],
    [win('Windows XP', 5, 1), []],
  ])('%o → %o', (v, dirs) => {
    expect(virtioWinOsDirs(v)).toEqual(dirs);
  });

  it('maps libguestfs arch names to virtio-win arch directories', () => {
    expect(virtioWinArchDir('x86_64')).toBe('amd64');
    expect(virtioWinArchDir('i386')).toBe('x86');
    expect(virtioWinArchDir('aarch64')).toBe('ARM64');
    expect(virtioWinArchDir('ppc64le')).toBeUndefined();
  });
});

describe('selectVirtioDrivers', () => {
  const iso = [
    'viostor/2k16/amd64/viostor.sys',
    'viostor/2k16/amd64/viostor.inf',
    'viostor/2k16/amd64/viostor.cat',
    'viostor/2k19/amd64/viostor.sys',
    'viostor/2k19/amd64/viostor.inf',
    'viostor/2k19/amd64/viostor.cat',
    'viostor/2k19/amd64/viostor.pdb',
    'viostor/2k19/x86/viostor.sys',
    'viostor/2k22/amd64/viostor.sys',
    'vioscsi/2k16/amd64/vioscsi.sys',
    'vioscsi/2k16/amd64/vioscsi.inf',
    'NetKVM/2k19/amd64/netkvm.sys',
    'NetKVM/2k19/amd64/netkvm.inf',
    'NetKVM/2k19/amd64/netkvm.cat',
    'NetKVM/2k19/amd64/netkvmco.exe',
    'qemu-ga-x86_64.msi',
    'guest-agent/qemu-ga-x86_64.msi',
    'guest-agent/qemu-ga-i386.msi',
  ];

  it('picks the best OS directory per driver (2k19), falls back to older (vioscsi 2k16), drops .pdb and other arches', () => {
    expect(selectVirtioDrivers(iso, win('Windows Server 2019 Standard', 10, 0))).toEqual({
      drivers: [
        {
          name: 'viostor',
          osDir: '2k19',
          files: ['viostor/2k19/amd64/viostor.cat', 'viostor/2k19/amd64/viostor.inf', 'viostor/2k19/amd64/viostor.sys'],
        },
        { name: 'vioscsi', osDir: '2k16', files: ['vioscsi/2k16/amd64/vioscsi.inf', 'vioscsi/2k16/amd64/vioscsi.sys'] },
        {
          name: 'NetKVM',
          osDir: '2k19',
          files: [
            'NetKVM/2k19/amd64/netkvm.cat',
            'NetKVM/2k19/amd64/netkvm.inf',
            'NetKVM/2k19/amd64/netkvm.sys',
            'NetKVM/2k19/amd64/netkvmco.exe',
          ],
        },
      ],
      qemuGaMsi: 'qemu-ga-x86_64.msi',
    });
  });

  it('never picks a newer OS build than the guest (2k22 is not for 2k16), nor anything for a client Windows from server dirs', () => {
    expect(selectVirtioDrivers(iso, win('Windows Server 2016 Standard', 10, 0)).drivers.map((d) => `${d.name}/${d.osDir}`)).toEqual([
      'viostor/2k16',
      'vioscsi/2k16',
    ]);
    expect(selectVirtioDrivers(iso, win('Windows 10 Pro', 10, 0)).drivers).toEqual([]);
  });

  it('matches names without case and under a prefix (the virtio-win package layout), and picks the i386 MSI for 32-bit', () => {
    const listing = ['drivers/by-driver/VIOSTOR/W10/X86/VIOSTOR.SYS', 'guest-agent/qemu-ga-i386.msi', 'guest-agent/qemu-ga-x86_64.msi'];
    expect(selectVirtioDrivers(listing, win('Windows 10 Pro', 10, 0, 'i386'))).toEqual({
      drivers: [{ name: 'viostor', osDir: 'w10', files: ['drivers/by-driver/VIOSTOR/W10/X86/VIOSTOR.SYS'] }],
      qemuGaMsi: 'guest-agent/qemu-ga-i386.msi',
    });
  });

  it('does not take files from deeper directories or from a directory that only ends like the driver name', () => {
    const listing = ['viostor/2k19/amd64/sub/viostor.sys', 'notviostor/2k19/amd64/viostor.sys'];
    expect(selectVirtioDrivers(listing, win('Windows Server 2019 Standard', 10, 0))).toEqual({ drivers: [] });
  });
});

describe('.reg text', () => {
  it('encodes REG_SZ and REG_EXPAND_SZ as UTF-16LE with the NUL, REG_DWORD as 8 hex digits, and escapes names', () => {
    expect(regValueLine('Group', { type: 'sz', data: 'AB' })).toBe('"Group"=hex(1):41,00,42,00,00,00');
    expect(regValueLine('Path', { type: 'expand_sz', data: '%A%' })).toBe('"Path"=hex(2):25,00,41,00,25,00,00,00');
    expect(regValueLine('Start', { type: 'dword', data: 0x10 })).toBe('"Start"=dword:00000010');
    expect(regValueLine('a"b\\c', { type: 'dword', data: 0 })).toBe('"a\\"b\\\\c"=dword:00000000');
    expect(() => regValueLine('x', { type: 'dword', data: -1 })).toThrow(/bad REG_DWORD/);
  });

  it('lists every ancestor key once, before its children, with values only on the keys that set them', () => {
    const text = buildRegFile('HKEY_LOCAL_MACHINE\\SYSTEM', [
      { path: 'ControlSet001\\Services\\viostor', values: { Start: { type: 'dword', data: 0 } } },
      { path: 'ControlSet001\\Control\\CriticalDeviceDatabase\\pci#ven_1af4&dev_1001', values: { Service: { type: 'sz', data: 'v' } } },
    ]);
    expect(text).toBe(
      [
        'Windows Registry Editor Version 5.00',
        '',
        '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001]',
        '',
        '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services]',
        '',
        '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\viostor]',
        '"Start"=dword:00000000',
        '',
        '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control]',
        '',
        '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\CriticalDeviceDatabase]',
        '',
        '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\CriticalDeviceDatabase\\pci#ven_1af4&dev_1001]',
        '"Service"=hex(1):76,00,00,00',
        '',
      ].join('\n'),
    );
  });

  it('parses hivexregedit --export output (hex(N) strings, dwords, quoted text, wrapped lines) back into values', () => {
    const exported = [
      'Windows Registry Editor Version 5.00',
      '',
      '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion]',
      '"DevicePath"=hex(2):25,00,41,00,\\',
      '  3b,00,42,00,00,00',
      '"N"=dword:0000000a',
      '"Q"="say \\"hi\\""',
      '"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00',
      '"Bin"=hex:01,02',
      '',
    ].join('\n');
    const keys = parseRegExport(exported, 'HKEY_LOCAL_MACHINE\\SOFTWARE');
    const values = keys.get('microsoft\\windows\\currentversion');
    expect(values?.get('devicepath')).toEqual({ name: 'DevicePath', type: 2, text: '%A;B' });
    expect(values?.get('n')).toEqual({ name: 'N', type: 4, dword: 10 });
    expect(values?.get('q')).toEqual({ name: 'Q', type: 1, text: 'say "hi"' });
    expect(values?.get('multi')).toEqual({ name: 'Multi', type: 7, text: 'a\nb' });
    expect(values?.get('bin')).toEqual({ name: 'Bin', type: 3 });
  });

  it('round-trips what buildRegFile writes through parseRegExport', () => {
    const text = buildRegFile('HKEY_LOCAL_MACHINE\\SOFTWARE', [
      { path: 'A\\B', values: { S: { type: 'sz', data: 'C:\\x y' }, D: { type: 'dword', data: 7 } } },
    ]);
    const values = parseRegExport(text, 'HKEY_LOCAL_MACHINE\\SOFTWARE').get('a\\b');
    expect(values?.get('s')).toEqual({ name: 'S', type: 1, text: 'C:\\x y' });
    expect(values?.get('d')).toEqual({ name: 'D', type: 4, dword: 7 });
  });

  it('finds hivexregedit on PATH only as an executable file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'v2v-unit-path-'));
    try {
      expect(await hivexregeditAvailable(dir)).toBe(false);
      await writeFile(join(dir, 'hivexregedit'), '#!/bin/sh\n', { mode: 0o644 });
      expect(await hivexregeditAvailable(`/nonexistent:${dir}`)).toBe(false);
      await chmod(join(dir, 'hivexregedit'), 0o755);
      expect(await hivexregeditAvailable(`/nonexistent:${dir}`)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds hivexregedit argv', () => {
    expect(mergeCommand('/t/SYSTEM', 'HKEY_LOCAL_MACHINE\\SYSTEM', '/t/SYSTEM.reg')).toEqual({
      program: 'hivexregedit',
      args: ['--merge', '--prefix', 'HKEY_LOCAL_MACHINE\\SYSTEM', '/t/SYSTEM', '/t/SYSTEM.reg'],
    });
    expect(exportCommand('/t/S', 'P', '\\A', 2)).toEqual({
      program: 'hivexregedit',
      args: ['--export', '--prefix', 'P', '--max-depth', '2', '/t/S', '\\A'],
    });
  });
});

describe('appendDevicePath', () => {
  it('appends once and is idempotent (case-insensitive), dropping empty entries', () => {
    const once = appendDevicePath('%SystemRoot%\\inf', '%SystemRoot%\\Drivers\\VirtIO');
    expect(once).toBe('%SystemRoot%\\inf;%SystemRoot%\\Drivers\\VirtIO');
    expect(appendDevicePath(once, '%SystemRoot%\\Drivers\\VirtIO')).toBe(once);
    expect(appendDevicePath('%systemroot%\\drivers\\virtio;', '%SystemRoot%\\Drivers\\VirtIO')).toBe('%systemroot%\\drivers\\virtio');
    expect(appendDevicePath(undefined, 'X')).toBe('X');
  });
});

describe('SYSTEM keys', () => {
  it('registers viostor as a boot-start SCSI miniport and its PCI ids in CriticalDeviceDatabase', () => {
    const keys = bootDriverKeys('ControlSet002', 'viostor');
    expect(keys[0]).toEqual({
      path: 'ControlSet002\\Services\\viostor',
      values: {
        Type: { type: 'dword', data: 1 },
        Start: { type: 'dword', data: 0 },
        ErrorControl: { type: 'dword', data: 1 },
        Group: { type: 'sz', data: 'SCSI miniport' },
        ImagePath: { type: 'expand_sz', data: 'system32\\drivers\\viostor.sys' },
      },
    });
    expect(keys.slice(1).map((k) => k.path.split('\\').pop())).toContain('pci#ven_1af4&dev_1001&subsys_00021af4');
    expect(keys[1]?.values).toEqual({
      Service: { type: 'sz', data: 'viostor' },
      ClassGUID: { type: 'sz', data: '{4D36E97B-E325-11CE-BFC1-08002BE10318}' },
    });
  });

  it('installs the first-boot service as an auto-start own-process service running the script', () => {
    expect(firstbootServiceKeys('ControlSet001', 'C:\\Program Files\\v2v\\Firstboot')).toEqual([
      {
        path: 'ControlSet001\\Services\\v2vfirstboot',
        values: {
          Type: { type: 'dword', data: 0x10 },
          Start: { type: 'dword', data: 2 },
          ErrorControl: { type: 'dword', data: 1 },
          ImagePath: { type: 'expand_sz', data: 'C:\\Program Files\\v2v\\Firstboot\\rhsrvany.exe' },
          DisplayName: { type: 'sz', data: 'v2v first boot' },
          ObjectName: { type: 'sz', data: 'LocalSystem' },
        },
      },
      {
        path: 'ControlSet001\\Services\\v2vfirstboot\\Parameters',
        values: {
          CommandLine: { type: 'sz', data: 'cmd /c "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat"' },
          PWD: { type: 'sz', data: 'C:\\Program Files\\v2v\\Firstboot' },
        },
      },
    ]);
  });
});

describe('first boot', () => {
  it('turns VMware Tools MSI uninstall strings into silent msiexec /x commands and ignores other programs', () => {
    expect(
      vmwareToolsUninstall([
        { displayName: 'VMware Tools', uninstallString: 'MsiExec.exe /X{0f8e7d4c-1a2b-4c3d-9e8f-7a6b5c4d3e2f}' },
        { displayName: 'VMware Tools', uninstallString: 'MsiExec.exe /I {0F8E7D4C-1A2B-4C3D-9E8F-7A6B5C4D3E2F}' },
        { displayName: '7-Zip', uninstallString: 'C:\\7z\\uninstall.exe' },
        { displayName: 'VMware Tools (legacy)', uninstallString: 'C:\\vmware\\uninst.exe' },
      ]),
    ).toEqual({
      commands: ['msiexec /x {0F8E7D4C-1A2B-4C3D-9E8F-7A6B5C4D3E2F} /qn /norestart'],
      unsupported: ['VMware Tools (legacy) (C:\\vmware\\uninst.exe)'],
    });
  });

  it('writes a RunOnce-style script (no pnp_wait, no service disabling) with CRLF line ends', () => {
    const script = firstbootScript({ installDrivers: true, uninstallCommands: ['msiexec /x {G} /qn /norestart'] });
    expect(script.endsWith('\r\n')).toBe(true);
    expect(script.split('\r\n')).toEqual([
      '@echo off',
      'rem Written by v2v when this guest was converted to run on KVM: runs once, at first boot.',
      'echo %DATE% %TIME% v2v first boot: starting >> "C:\\Program Files\\v2v\\Firstboot\\firstboot.log"',
      'pnputil -i -a C:\\Windows\\Drivers\\VirtIO\\*.inf >> "C:\\Program Files\\v2v\\Firstboot\\firstboot.log" 2>&1',
      'msiexec /x {G} /qn /norestart >> "C:\\Program Files\\v2v\\Firstboot\\firstboot.log" 2>&1',
      'echo %DATE% %TIME% v2v first boot: done >> "C:\\Program Files\\v2v\\Firstboot\\firstboot.log"',
      'move /y "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat" "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat.done" >> "C:\\Program Files\\v2v\\Firstboot\\firstboot.log" 2>&1',
      '',
    ]);
  });

  it('as a service: waits for PnP first, installs qemu-ga, and disables the service at the end', () => {
    const script = firstbootScript({
      installDrivers: false,
      qemuGaMsi: 'qemu-ga-x86_64.msi',
      uninstallCommands: [],
      service: { pnpWait: true },
    });
    const lines = script.split('\r\n');
    expect(lines[3]).toBe('"C:\\Program Files\\v2v\\Firstboot\\pnp_wait.exe" >> "C:\\Program Files\\v2v\\Firstboot\\firstboot.log" 2>&1');
    expect(lines[4]).toMatch(/^msiexec \/i "C:\\Program Files\\v2v\\Firstboot\\qemu-ga-x86_64\.msi" \/qn \/norestart /);
    expect(script).not.toContain('pnputil');
    expect(lines.at(-3)).toBe('sc config v2vfirstboot start= disabled >> "C:\\Program Files\\v2v\\Firstboot\\firstboot.log" 2>&1');
    expect(firstbootCommandLine()).toBe('cmd /c "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat"');
  });
});

describe('where virtio-win comes from', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'v2v-unit-virtio-'));
    await mkdir(join(dir, 'tree'));
    await writeFile(join(dir, 'virtio-win.iso'), 'x');
    await writeFile(join(dir, 'notes.txt'), 'x');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('prefers --virtio-win, then VIRTIO_WIN, then /usr/share/virtio-win', () => {
    expect(virtioWinCandidate('/a', { VIRTIO_WIN: '/b' })).toEqual({ path: '/a', origin: '--virtio-win' });
    expect(virtioWinCandidate(undefined, { VIRTIO_WIN: '/b' })).toEqual({ path: '/b', origin: 'VIRTIO_WIN' });
    expect(virtioWinCandidate(undefined, { VIRTIO_WIN: '' })).toEqual({ path: '/usr/share/virtio-win', origin: 'default' });
  });

  it('accepts a directory or an .iso file; a missing default is not an error', async () => {
    expect(await locateVirtioWin(join(dir, 'tree'), {})).toEqual({ kind: 'dir', path: join(dir, 'tree'), origin: '--virtio-win' });
    expect(await locateVirtioWin(undefined, { VIRTIO_WIN: join(dir, 'virtio-win.iso') })).toEqual({
      kind: 'iso',
      path: join(dir, 'virtio-win.iso'),
      origin: 'VIRTIO_WIN',
    });
    if (!(await import('node:fs')).existsSync('/usr/share/virtio-win')) expect(await locateVirtioWin(undefined, {})).toBeUndefined();
  });

  it('refuses a missing named path or a file that is not an .iso, as a preflight error naming the setting', async () => {
    await expect(locateVirtioWin(join(dir, 'nope'), {})).rejects.toThrow(
      new PreflightError(
        `--virtio-win ${join(dir, 'nope')} does not exist: pass the virtio-win directory or ISO (e.g. virtio-win.iso from https://fedorapeople.org/groups/virt/virtio-win/).`,
      ),
    );
    await expect(locateVirtioWin(undefined, { VIRTIO_WIN: join(dir, 'notes.txt') })).rejects.toThrow(
      `VIRTIO_WIN=${join(dir, 'notes.txt')} is neither a directory nor an .iso file`,
    );
  });

  it('--virtio-win is an option: resolved to an absolute path; empty is a usage error', () => {
    const base = { i: 'disk', o: 'null', positional: ['disk.img'] };
    expect(normalizeOptions({ ...base, virtioWin: 'rel/iso.iso' }).virtioWin).toBe(join(process.cwd(), 'rel/iso.iso'));
    expect(normalizeOptions(base).virtioWin).toBeUndefined();
    expect(() => normalizeOptions({ ...base, virtioWin: '' })).toThrow(UsageError);
  });
});
