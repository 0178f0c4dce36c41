import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defineCommand,
  domCapabilitiesCommand,
  dominfoCommand,
  domstateCommand,
  isDomainNotFound,
  isPoolNotFound,
  isVolumeNotFound,
  parseDomCapabilities,
  parseDomInfo,
  parseDomState,
  parseKeyValues,
  parsePoolInfo,
  parsePoolXml,
  parseVersion,
  parseVolInfo,
  parseVolList,
  poolDumpXmlCommand,
  poolInfoCommand,
  poolRefreshCommand,
  undefineCommand,
  uriCommand,
  versionCommand,
  volInfoCommand,
  volListCommand,
} from '../../drivers/virsh.js';

/** Outputs recorded from libvirt 9.0 / QEMU 7.2 on Debian 12 (no /dev/kvm), with a dir pool in /tmp/lv-capture. */
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', 'virsh', name), 'utf8');

const URI = 'qemu:///system';

describe('virsh argv builders', () => {
  it('puts the connection URI first on every command', () => {
    expect(uriCommand(URI)).toEqual({ program: 'virsh', args: ['-c', URI, 'uri'] });
    expect(versionCommand('test:///default').args).toEqual(['-c', 'test:///default', 'version']);
  });
  it('looks up domains by name', () => {
    expect(domstateCommand(URI, 'my guest').args).toEqual(['-c', URI, 'domstate', 'my guest']);
    expect(dominfoCommand(URI, 'g').args).toEqual(['-c', URI, 'dominfo', 'g']);
  });
  it('asks pools and volumes for exact byte counts', () => {
    expect(poolInfoCommand(URI, 'default').args).toEqual(['-c', URI, 'pool-info', '--bytes', 'default']);
    expect(poolDumpXmlCommand(URI, 'default').args).toEqual(['-c', URI, 'pool-dumpxml', 'default']);
    expect(poolRefreshCommand(URI, 'default').args).toEqual(['-c', URI, 'pool-refresh', 'default']);
    expect(volInfoCommand(URI, 'default', 'g-sda').args).toEqual(['-c', URI, 'vol-info', '--bytes', '--pool', 'default', 'g-sda']);
    expect(volListCommand(URI, 'default').args).toEqual(['-c', URI, 'vol-list', 'default']);
  });
  it('defines from a file and undefines with the NVRAM', () => {
    expect(defineCommand(URI, '/tmp/x/g.xml').args).toEqual(['-c', URI, 'define', '/tmp/x/g.xml']);
    expect(undefineCommand(URI, 'g').args).toEqual(['-c', URI, 'undefine', '--nvram', 'g']);
  });
  it('filters domain capabilities only when asked', () => {
    expect(domCapabilitiesCommand(URI).args).toEqual(['-c', URI, 'domcapabilities']);
    expect(domCapabilitiesCommand(URI, { virttype: 'kvm', arch: 'x86_64', machine: 'q35' }).args).toEqual([
      '-c',
      URI,
      'domcapabilities',
      '--virttype',
      'kvm',
      '--arch',
      'x86_64',
      '--machine',
      'q35',
    ]);
  });
});

describe('virsh output parsers (recorded outputs)', () => {
  it('parses pool-info of a running dir pool', () => {
    expect(parsePoolInfo(fixture('pool-info-running.txt'))).toEqual({
      name: 'v2vcap',
      uuid: '7651259b-de16-4a82-a121-108d4446e74e',
      state: 'running',
      persistent: true,
      autostart: false,
      capacity: 270553174016,
      allocation: 26765488128,
      available: 243787685888,
    });
  });
  it('parses pool-info of an inactive pool, which shows no sizes', () => {
    const info = parsePoolInfo(fixture('pool-info-inactive.txt'));
    expect(info).toMatchObject({ name: 'v2vnetfs', state: 'inactive', persistent: true });
    expect(info.available).toBeUndefined();
  });
  it('rejects human-readable sizes (pool-info without --bytes)', () => {
    expect(() => parsePoolInfo('Name: p\nUUID: u\nState: running\nAvailable:      227.05 GiB\n')).toThrow(/--bytes/);
  });
  it('parses pool-dumpxml of a dir pool: type, target path, sizes', () => {
    expect(parsePoolXml(fixture('pool-dumpxml-dir.xml'))).toEqual({
      name: 'v2vcap',
      type: 'dir',
      targetPath: '/tmp/lv-capture/pooldir',
      capacity: 270553174016,
      allocation: 26765488128,
      available: 243787685888,
    });
  });
  it('parses pool-dumpxml of a defined, inactive netfs pool', () => {
    expect(parsePoolXml(fixture('pool-dumpxml-netfs.xml'))).toMatchObject({
      type: 'netfs',
      targetPath: '/tmp/lv-capture/nfsmnt',
      available: 0,
    });
  });
  it('rejects XML that is not a pool', () => {
    expect(() => parsePoolXml('<domain/>')).toThrow(/unexpected virsh pool-dumpxml/);
    expect(() => parsePoolXml('not xml <')).toThrow(/unexpected virsh pool-dumpxml/);
  });
  it('parses vol-list rows, including an empty pool', () => {
    expect(parseVolList(fixture('vol-list.txt'))).toEqual([
      { name: 'guest-sda', path: '/tmp/lv-capture/pooldir/guest-sda' },
      { name: 'guest-sdb', path: '/tmp/lv-capture/pooldir/guest-sdb' },
    ]);
    expect(parseVolList(fixture('vol-list-empty.txt'))).toEqual([]);
  });
  it('keeps spaces inside volume names (columns follow the header)', () => {
    const text = ' Name          Path\n---------------------------\n my disk.img   /p/my disk.img\n\n';
    expect(parseVolList(text)).toEqual([{ name: 'my disk.img', path: '/p/my disk.img' }]);
  });
  it('parses vol-info --bytes', () => {
    expect(parseVolInfo(fixture('vol-info.txt'))).toEqual({ name: 'guest-sdb', type: 'file', capacity: 20971520, allocation: 200704 });
  });
  it('parses domstate and dominfo', () => {
    expect(parseDomState(fixture('domstate-shut-off.txt'))).toBe('shut off');
    expect(parseDomInfo(fixture('dominfo.txt'))).toEqual({
      name: 'v2v-cap-tiny',
      uuid: 'cbdfa02f-9e7d-4db4-b6a6-7c9ff946a039',
      state: 'shut off',
      persistent: true,
    });
  });
  it('parses key/value lines whose values contain colons', () => {
    expect(parseKeyValues('Compiled against library: libvirt 9.0.0\nX:  a:b\n').get('X')).toBe('a:b');
  });
  it('parses version', () => {
    expect(parseVersion(fixture('version.txt'))).toEqual({ library: '9.0.0', hypervisor: 'QEMU 7.2.22' });
  });
  it('recognises the not-found messages and only those', () => {
    expect(isDomainNotFound(fixture('domain-not-found.stderr'))).toBe(true);
    expect(isPoolNotFound(fixture('pool-not-found.stderr'))).toBe(true);
    expect(isVolumeNotFound(fixture('vol-not-found.stderr'))).toBe(true);
    for (const check of [isDomainNotFound, isPoolNotFound, isVolumeNotFound]) {
      expect(check(fixture('unreachable.stderr'))).toBe(false);
      expect(check(fixture('vol-list-inactive.stderr'))).toBe(false);
    }
  });
});

describe('virsh domcapabilities parser (recorded, no /dev/kvm)', () => {
  it('sees TCG only and no UEFI firmware when OVMF is not installed', () => {
    expect(parseDomCapabilities(fixture('domcapabilities-no-ovmf.xml'))).toEqual({
      emulator: '/usr/bin/qemu-system-x86_64',
      domainType: 'qemu',
      machine: 'pc-i440fx-7.2',
      arch: 'x86_64',
      firmware: [],
      loaders: [],
      efi: false,
      secureBoot: false,
    });
  });
  it('sees efi autoselection, the OVMF loaders and secure boot with OVMF installed (q35)', () => {
    expect(parseDomCapabilities(fixture('domcapabilities-q35-ovmf.xml'))).toEqual({
      emulator: '/usr/bin/qemu-system-x86_64',
      domainType: 'qemu',
      machine: 'pc-q35-7.2',
      arch: 'x86_64',
      firmware: ['efi'],
      loaders: ['/usr/share/OVMF/OVMF_CODE_4M.ms.fd', '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', '/usr/share/OVMF/OVMF_CODE_4M.fd'],
      efi: true,
      secureBoot: true,
    });
  });
  it('reports kvm when libvirt offers it (hand-written: no KVM host to record from)', () => {
    const xml =
      "<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain><machine>pc-q35-7.2</machine><arch>x86_64</arch><os supported='yes'><enum name='firmware'/><loader supported='yes'/></os></domainCapabilities>";
    expect(parseDomCapabilities(xml)).toMatchObject({ domainType: 'kvm', efi: false, secureBoot: false });
  });
  it('rejects output without a <domain> element', () => {
    expect(() => parseDomCapabilities('<domainCapabilities/>')).toThrow(/no <domain>/);
  });
});
