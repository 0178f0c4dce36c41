/**
 * Windows conversion end to end, on the minimal guest from
 * test/fixtures/build-windows-guest.sh: a real MBR + NTFS disk with real
 * SYSTEM and SOFTWARE hives (Windows Server 2019 Standard, a "VMware Tools"
 * Uninstall entry) but NOT a bootable Windows: cmd.exe and ntoskrnl.exe are
 * bare PE headers.
 *
 * STAND-INS made by this test: the virtio-win tree (viostor, vioscsi, NetKVM,
 * Balloon for 2k19, decoy 2k16/2k22/x86 builds and a .pdb, a qemu-ga MSI) is
 * files of marker text, not drivers; the ISO is genisoimage of that tree;
 * rhsrvany.exe and pnp_wait.exe are marker text too. So we assert exactly
 * what v2v wrote into the guest (which files, from which build, where;
 * registry keys and values read back with hivexregedit; the first-boot
 * script's text; DevicePath; the service or RunOnce entry) and the domain XML
 * (virtio vs SATA/e1000, localtime clock), never that Windows boots.
 *
 * Four conversions, run concurrently (one appliance each): drivers from a
 * directory with the service tools present; from an ISO without them
 * (RunOnce) and with `--mac MAC:ip:...` overrides; with no drivers at all
 * (emulated devices); and a hibernated NTFS, refused before anything is
 * written. One more launch reads the three outputs back.
 *
 * Networks (issue #12): the guest's SYSTEM hive has a static vmxnet3 adapter
 * and a DHCP e1000e adapter (test/fixtures/windows/system.reg). The first two
 * runs read the disk through a libvirt domain XML written here with two NICs
 * of those models and MACs, so the adapters can be tied to them; the
 * no-drivers run reads the bare disk (one NIC, no MAC, no model), where the
 * static adapter cannot be tied.
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRegExport, type ExportedValues } from '../../src/convert/windows/registry.js';
import { runCachedBuild } from '../helpers/fixture.js';
import { outputEntries, runLogs, splitOutputDir } from '../helpers/run-log.js';
import { runV2v, sections, sha256, type V2vRun } from '../helpers/v2v.js';

const MINUTE = 60_000;
const BUILD = fileURLToPath(new URL('../fixtures/build-windows-guest.sh', import.meta.url));
const VMWARE_GUID = '{0F8E7D4C-1A2B-4C3D-9E8F-7A6B5C4D3E2F}';
const CDD_CLASS = '{4D36E97B-E325-11CE-BFC1-08002BE10318}';
/** The adapters in the guest's SYSTEM hive and the source NICs of the domain XML. */
const STATIC_GUID = '{3F1B2C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D}';
const DHCP_GUID = '{9A8B7C6D-5E4F-4321-A0B1-C2D3E4F5A6B7}';
const STATIC_MAC = '00:50:56:aa:0b:01';
const DHCP_MAC = '00:50:56:aa:0b:02';
/** --mac overrides given to the ISO run: another IPv4 setting for the static NIC, an IPv6 one for the DHCP NIC. */
const MAC_OVERRIDES = [
  `${STATIC_MAC}:ip:198.51.100.20,198.51.100.1,25,198.51.100.53`,
  `${DHCP_MAC}:ip:2001:db8::20,2001:db8::1,64,2001:db8::53`,
];

/** The stand-in virtio-win tree: path → content (the content names the build, so we can tell which was copied). */
const VIRTIO_TREE: Record<string, string> = {};
for (const [driver, file] of [
  ['viostor', 'viostor'],
  ['vioscsi', 'vioscsi'],
  ['NetKVM', 'netkvm'],
  ['Balloon', 'balloon'],
] as const) {
  for (const ext of ['sys', 'inf', 'cat']) VIRTIO_TREE[`${driver}/2k19/amd64/${file}.${ext}`] = `stand-in ${driver} 2k19 amd64 ${ext}\n`;
}
VIRTIO_TREE['viostor/2k19/amd64/viostor.pdb'] = 'debug symbols: never copied\n';
VIRTIO_TREE['viostor/2k16/amd64/viostor.sys'] = 'stand-in viostor 2k16 amd64 sys: older build, not picked\n';
VIRTIO_TREE['viostor/2k22/amd64/viostor.sys'] = 'stand-in viostor 2k22 amd64 sys: newer OS, not picked\n';
VIRTIO_TREE['viostor/2k19/x86/viostor.sys'] = 'stand-in viostor 2k19 x86 sys: wrong arch, not picked\n';
VIRTIO_TREE['guest-agent/qemu-ga-x86_64.msi'] = 'stand-in qemu-ga msi\n';
VIRTIO_TREE['guest-agent/qemu-ga-i386.msi'] = 'stand-in qemu-ga i386 msi: wrong arch\n';

/** Every file v2v must copy into C:\Windows\Drivers\VirtIO, sorted. */
const EXPECTED_DRIVER_FILES = ['balloon', 'netkvm', 'vioscsi', 'viostor']
  .flatMap((f) => ['cat', 'inf', 'sys'].map((e) => `${f}.${e}`))
  .sort();

let guest: string;
let work: string;
const started = Date.now();

/** Runs v2v on a source (`-i disk IMAGE -if raw`, or other input arguments) into a fresh directory. */
async function convert(
  image: string | string[],
  name: string,
  extra: string[],
  env: Record<string, string>,
): Promise<{ run: V2vRun; out: string }> {
  const out = join(work, `out-${name}`);
  await mkdir(out);
  const input = typeof image === 'string' ? ['-i', 'disk', join(guest, image), '-if', 'raw'] : image;
  const run = await runV2v([...input, '-o', 'local', '-os', out, '-of', 'qcow2', '-on', name, ...extra], env);
  return { run, out };
}

/** A libvirt domain XML for the test disk with the two NICs the guest's registry has adapters for. */
function twoNicDomainXml(): string {
  return `<domain type='kvm'>
  <name>win2019-two-nics</name>
  <memory unit='MiB'>2048</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${join(guest, 'windows.img')}'/><target dev='sda' bus='sata'/></disk>
    <interface type='network'><mac address='${STATIC_MAC}'/><source network='VM Network'/><model type='vmxnet3'/></interface>
    <interface type='network'><mac address='${DHCP_MAC}'/><source network='VM Network'/><model type='e1000e'/></interface>
  </devices>
</domain>
`;
}

/** The domain XML written by a run. */
function xmlOf(r: { out: string }, name: string): Promise<string> {
  return readFile(join(r.out, `${name}.xml`), 'utf8');
}

const runs: Record<string, { run: V2vRun; out: string }> = {};
/** Read back from each converted disk: guestfish sections, and the hives' exported keys. */
const back: Record<string, { s: Record<string, string>; system: Map<string, ExportedValues>; software: Map<string, ExportedValues> }> = {};
let sourceHashes: Record<string, string>;

/** The value `name` of `key` in an exported hive (keys and names compared without case). */
function value(hive: Map<string, ExportedValues>, key: string, name: string): { type: number; text?: string; dword?: number } | undefined {
  const v = hive.get(key.toLowerCase())?.get(name.toLowerCase());
  if (v === undefined) return undefined;
  const { type, text, dword } = v;
  return { type, ...(text !== undefined ? { text } : {}), ...(dword !== undefined ? { dword } : {}) };
}

beforeAll(async () => {
  let t = Date.now();
  guest = await runCachedBuild(BUILD);
  console.log(`windows guest ready in ${((Date.now() - t) / 1000).toFixed(1)} s: ${guest}`);
  work = await mkdtemp(join(tmpdir(), 'v2v-e2e-windows-'));
  const tree = join(work, 'virtio-win');
  for (const [path, content] of Object.entries(VIRTIO_TREE)) {
    await mkdir(join(tree, path, '..'), { recursive: true });
    await writeFile(join(tree, path), content);
  }
  const iso = join(work, 'virtio-win.iso');
  await execa('genisoimage', ['-quiet', '-J', '-R', '-V', 'virtio-win', '-o', iso, tree]);
  const tools = join(work, 'virt-tools');
  await mkdir(tools);
  await writeFile(join(tools, 'rhsrvany.exe'), 'stand-in rhsrvany\n');
  await writeFile(join(tools, 'pnp_wait.exe'), 'stand-in pnp_wait\n');
  const noTools = join(work, 'no-virt-tools');
  await mkdir(noTools);
  sourceHashes = { windows: await sha256(join(guest, 'windows.img')), hibernated: await sha256(join(guest, 'windows-hibernated.img')) };
  const domainXml = join(work, 'win2019-two-nics.xml');
  await writeFile(domainXml, twoNicDomainXml());
  const twoNics = ['-i', 'libvirtxml', domainXml];

  t = Date.now();
  // Independent runs, one appliance each: concurrently to save wall time.
  const [dir, isoRun, none, hibernated] = await Promise.all([
    convert(twoNics, 'dir', ['--virtio-win', tree], { VIRT_TOOLS_DATA_DIR: tools }),
    convert(twoNics, 'iso', ['--virtio-win', iso, ...MAC_OVERRIDES.flatMap((m) => ['--mac', m])], { VIRT_TOOLS_DATA_DIR: noTools }),
    // VIRTIO_WIN pointing nowhere would be an error: unset, and no /usr/share/virtio-win on this host.
    convert('windows.img', 'none', [], { VIRT_TOOLS_DATA_DIR: noTools }),
    convert('windows-hibernated.img', 'hibernated', ['--virtio-win', tree], { VIRT_TOOLS_DATA_DIR: tools }),
  ]);
  Object.assign(runs, { dir, iso: isoRun, none, hibernated });
  for (const [name, r] of Object.entries(runs)) console.log(`${name}: exit ${r.run.exitCode} in ${r.run.seconds.toFixed(1)} s`);
  console.log(`conversions took ${((Date.now() - t) / 1000).toFixed(1)} s`);

  t = Date.now();
  const converted = ['dir', 'iso', 'none'].filter((n) => runs[n]?.run.exitCode === 0);
  const script: string[] = [];
  converted.forEach((name, index) => {
    const dev = `/dev/sd${String.fromCharCode(97 + index)}1`;
    const hives = join(work, `hives-${name}`);
    script.push(
      `mount-ro ${dev} /`,
      `echo ==${name}_root==`,
      'ls /',
      `echo ==${name}_virtio==`,
      '-ls /Windows/Drivers/VirtIO',
      `echo ==${name}_sysdrivers==`,
      'ls /Windows/System32/drivers',
      `echo ==${name}_viostor==`,
      '-cat /Windows/System32/drivers/viostor.sys',
      `echo ==${name}_vioscsi==`,
      '-cat /Windows/System32/drivers/vioscsi.sys',
      `echo ==${name}_copied==`,
      '-cat /Windows/Drivers/VirtIO/viostor.sys',
      `echo ==${name}_firstbootdir==`,
      '-ls "/Program Files/v2v/Firstboot"',
      `echo ==${name}_script==`,
      '-cat "/Program Files/v2v/Firstboot/firstboot.bat"',
      `echo ==${name}_network==`,
      '-cat "/Program Files/v2v/Firstboot/network.ps1"',
      `echo ==${name}_msi==`,
      '-cat "/Program Files/v2v/Firstboot/qemu-ga-x86_64.msi"',
      `!mkdir -p ${hives}`,
      `download /Windows/System32/config/SYSTEM ${hives}/SYSTEM`,
      `download /Windows/System32/config/SOFTWARE ${hives}/SOFTWARE`,
      'umount-all',
    );
  });
  script.push('echo ==end==', '');
  const args = ['--ro', '--format=qcow2', ...converted.flatMap((n) => ['-a', join(work, `out-${n}`, `${n}-sda`)])];
  const fish = await execa('guestfish', args, {
    input: `run\n${script.join('\n')}`,
    env: { LANG: 'C', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
    reject: false,
  });
  if (fish.exitCode !== 0) throw new Error(`read-back guestfish failed: ${fish.stderr}`);
  const s = sections(String(fish.stdout));
  for (const name of converted) {
    const hives = join(work, `hives-${name}`);
    const exportAll = async (hive: string): Promise<Map<string, ExportedValues>> => {
      const prefix = `HKEY_LOCAL_MACHINE\\${hive}`;
      const r = await execa('hivexregedit', ['--export', '--prefix', prefix, join(hives, hive), '\\']);
      return parseRegExport(String(r.stdout), prefix);
    };
    const mine: Record<string, string> = {};
    // guestfish ends each command's output with a blank line of its own: keep the file's text.
    for (const [k, v] of Object.entries(s)) if (k.startsWith(`${name}_`)) mine[k.slice(name.length + 1)] = v.replace(/\n\n$/, '\n');
    back[name] = { s: mine, system: await exportAll('SYSTEM'), software: await exportAll('SOFTWARE') };
  }
  console.log(`read-back took ${((Date.now() - t) / 1000).toFixed(1)} s`);
}, 30 * MINUTE);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  console.log(`windows e2e: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
});

/** Lines of a guestfish section (its own trailing blank lines dropped). */
const lines = (text: string | undefined): string[] =>
  (text ?? '')
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '');

describe('drivers from a virtio-win directory, rhsrvany available: first-boot service', () => {
  it('converts (exit 0), names the guest, and writes the disk and the XML', async () => {
    const r = runs['dir']!;
    expect(r.run.exitCode, r.run.stderr).toBe(0);
    expect(r.run.stdout).toContain('Converting Windows Server 2019 Standard to run on KVM');
    expect((await splitOutputDir(r.out, 'dir')).files).toEqual(['dir-sda', 'dir.xml']);
    // Only the KVM/TCG note may warn: drivers, qemu-ga and the service tools were all found.
    const warnings = r.run.stderr.split('\n').filter((l) => /v2v: warning:/.test(l) && !/KVM is not usable/.test(l));
    expect(warnings).toEqual([]);
  });

  it('copied exactly the 2k19/amd64 .sys/.inf/.cat of viostor, vioscsi, NetKVM and Balloon to C:\\Windows\\Drivers\\VirtIO', () => {
    const b = back['dir']!;
    expect(lines(b.s['virtio']).sort()).toEqual(EXPECTED_DRIVER_FILES);
    expect(b.s['copied']).toBe('stand-in viostor 2k19 amd64 sys\n');
  });

  it('put the boot drivers viostor.sys and vioscsi.sys (2k19 builds) into System32\\drivers', () => {
    const b = back['dir']!;
    expect(lines(b.s['sysdrivers']).sort()).toEqual(['vioscsi.sys', 'viostor.sys']);
    expect(b.s['viostor']).toBe('stand-in viostor 2k19 amd64 sys\n');
    expect(b.s['vioscsi']).toBe('stand-in vioscsi 2k19 amd64 sys\n');
  });

  it('registered viostor and vioscsi as boot-start services in ControlSet001', () => {
    const { system } = back['dir']!;
    for (const driver of ['viostor', 'vioscsi']) {
      const key = `ControlSet001\\Services\\${driver}`;
      expect(value(system, key, 'Type')).toEqual({ type: 4, dword: 1 });
      expect(value(system, key, 'Start')).toEqual({ type: 4, dword: 0 });
      expect(value(system, key, 'ErrorControl')).toEqual({ type: 4, dword: 1 });
      expect(value(system, key, 'Group')).toEqual({ type: 1, text: 'SCSI miniport' });
      expect(value(system, key, 'ImagePath')).toEqual({ type: 2, text: `system32\\drivers\\${driver}.sys` });
    }
    // The VMware driver already there is left alone.
    expect(value(system, 'ControlSet001\\Services\\pvscsi', 'Start')).toEqual({ type: 4, dword: 0 });
  });

  it('added CriticalDeviceDatabase entries for the virtio-blk and virtio-scsi PCI ids, and nothing else there', () => {
    const { system } = back['dir']!;
    const cdd = [...system.keys()]
      .filter((k) => k.startsWith('controlset001\\control\\criticaldevicedatabase\\'))
      .map((k) => k.split('\\').pop())
      .sort();
    expect(cdd).toEqual([
      'pci#ven_1af4&dev_1001&subsys_00000000',
      'pci#ven_1af4&dev_1001&subsys_00020000',
      'pci#ven_1af4&dev_1001&subsys_00021af4',
      'pci#ven_1af4&dev_1001&subsys_00021af4&rev_00',
      'pci#ven_1af4&dev_1004&subsys_00081af4',
      'pci#ven_1af4&dev_1004&subsys_00081af4&rev_00',
      'pci#ven_1af4&dev_1042&subsys_11001af4',
      'pci#ven_1af4&dev_1042&subsys_11001af4&rev_01',
      'pci#ven_1af4&dev_1048&subsys_11001af4',
      'pci#ven_1af4&dev_1048&subsys_11001af4&rev_01',
    ]);
    const key = 'ControlSet001\\Control\\CriticalDeviceDatabase\\pci#ven_1af4&dev_1001&subsys_00021af4&rev_00';
    expect(value(system, key, 'Service')).toEqual({ type: 1, text: 'viostor' });
    expect(value(system, key, 'ClassGUID')).toEqual({ type: 1, text: CDD_CLASS });
    expect(
      value(system, 'ControlSet001\\Control\\CriticalDeviceDatabase\\pci#ven_1af4&dev_1048&subsys_11001af4&rev_01', 'Service'),
    ).toEqual({ type: 1, text: 'vioscsi' });
  });

  it('appended %SystemRoot%\\Drivers\\VirtIO to DevicePath (REG_EXPAND_SZ), keeping the old entry', () => {
    expect(value(back['dir']!.software, 'Microsoft\\Windows\\CurrentVersion', 'DevicePath')).toEqual({
      type: 2,
      text: '%SystemRoot%\\inf;%SystemRoot%\\Drivers\\VirtIO',
    });
  });

  it('installed the v2vfirstboot service running rhsrvany, and no RunOnce entry', () => {
    const { system, software, s } = back['dir']!;
    const key = 'ControlSet001\\Services\\v2vfirstboot';
    expect(value(system, key, 'Type')).toEqual({ type: 4, dword: 0x10 });
    expect(value(system, key, 'Start')).toEqual({ type: 4, dword: 2 });
    expect(value(system, key, 'ImagePath')).toEqual({ type: 2, text: 'C:\\Program Files\\v2v\\Firstboot\\rhsrvany.exe' });
    expect(value(system, key, 'ObjectName')).toEqual({ type: 1, text: 'LocalSystem' });
    expect(value(system, `${key}\\Parameters`, 'CommandLine')).toEqual({
      type: 1,
      text: 'cmd /c "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat"',
    });
    expect(value(system, `${key}\\Parameters`, 'PWD')).toEqual({ type: 1, text: 'C:\\Program Files\\v2v\\Firstboot' });
    expect(software.get('microsoft\\windows\\currentversion\\runonce')).toBeUndefined();
    expect(lines(s['firstbootdir']).sort()).toEqual(['firstboot.bat', 'network.ps1', 'pnp_wait.exe', 'qemu-ga-x86_64.msi', 'rhsrvany.exe']);
    expect(s['msi']).toBe('stand-in qemu-ga msi\n');
  });

  it('wrote this first-boot script: pnp_wait, pnputil, the network script, qemu-ga, VMware Tools uninstall, then disables the service', () => {
    const log = '"C:\\Program Files\\v2v\\Firstboot\\firstboot.log"';
    expect(back['dir']!.s['script']).toBe(
      [
        '@echo off',
        'rem Written by v2v when this guest was converted to run on KVM: runs once, at first boot.',
        `echo %DATE% %TIME% v2v first boot: starting >> ${log}`,
        `"C:\\Program Files\\v2v\\Firstboot\\pnp_wait.exe" >> ${log} 2>&1`,
        `pnputil -i -a C:\\Windows\\Drivers\\VirtIO\\*.inf >> ${log} 2>&1`,
        `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\Program Files\\v2v\\Firstboot\\network.ps1" >> ${log} 2>&1`,
        `msiexec /i "C:\\Program Files\\v2v\\Firstboot\\qemu-ga-x86_64.msi" /qn /norestart /l+*vx "C:\\Program Files\\v2v\\Firstboot\\qemu-ga-install.log" >> ${log} 2>&1`,
        `msiexec /x ${VMWARE_GUID} /qn /norestart >> ${log} 2>&1`,
        `echo %DATE% %TIME% v2v first boot: done >> ${log}`,
        `sc config v2vfirstboot start= disabled >> ${log} 2>&1`,
        `move /y "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat" "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat.done" >> ${log} 2>&1`,
      ].join('\r\n') + '\r\n',
    );
  });

  it('left no temporary ISO mountpoint or other new entry at C:\\', () => {
    expect(lines(back['dir']!.s['root']).sort()).toEqual(['Program Files', 'Program Files (x86)', 'Users', 'Windows']);
  });

  it('domain XML: virtio disk and NIC, localtime clock, Windows Server 2019 osinfo', async () => {
    const xml = await xmlOf(runs['dir']!, 'dir');
    expect(xml).toContain(`<target dev="vda" bus="virtio"/>`);
    expect(xml).toMatch(/<interface type="network">[\s\S]*<model type="virtio"\/>/);
    expect(xml).toContain('<clock offset="localtime"/>');
    expect(xml).toContain('<libosinfo:os id="http://microsoft.com/win/2k19"/>');
  });

  it('trimmed the NTFS filesystem without a warning (fstrim through ntfs-3g)', () => {
    expect(runs['dir']!.run.stderr).not.toMatch(/fstrim .* failed/);
  });
});

/** The lines of a network.ps1 that act on adapters: which MAC is waited for, and what is set on it. */
function networkActions(script: string | undefined): string[] {
  return lines(script?.replace(/\r/g, ''))
    .map((l) => l.trim())
    .filter((l) =>
      /^\$adapter = Wait-V2vAdapter|^(Set-NetIPInterface|Remove-NetIPAddress|Remove-NetRoute|New-NetIPAddress|Set-DnsClientServerAddress) /.test(
        l,
      ),
    );
}

describe('networks: static TCP/IP settings re-applied at first boot on the adapter with the same MAC', () => {
  it('read both adapters, tied the static vmxnet3 one to the only vmxnet3 NIC and the DHCP one by its registry MAC, and said so', () => {
    const out = runs['dir']!.run.stdout;
    expect(out).toContain(
      `network: ${STATIC_MAC} = ${STATIC_GUID} vmxnet3 Ethernet Adapter (by only-nic): static 192.0.2.20/24: re-applied at first boot`,
    );
    expect(out).toContain(
      `network: ${DHCP_MAC} = ${DHCP_GUID} Intel(R) 82574L Gigabit Network Connection (by registry): DHCP: nothing to do`,
    );
  });

  it("network.ps1 waits for the static NIC's MAC and sets exactly its address, prefix, gateway and DNS; nothing for the DHCP NIC", () => {
    const script = back['dir']!.s['network'];
    expect(networkActions(script)).toEqual([
      "$adapter = Wait-V2vAdapter '00-50-56-AA-0B-01'",
      'Set-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -Dhcp Disabled',
      'Remove-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -Confirm:$false -ErrorAction SilentlyContinue',
      "Remove-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -Confirm:$false -ErrorAction SilentlyContinue",
      "New-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -IPAddress '192.0.2.20' -PrefixLength 24 -DefaultGateway '192.0.2.1'",
      "Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses '192.0.2.53','198.51.100.53'",
    ]);
    expect(script).not.toMatch(/0B-02|198\.51\.100\.77/i);
    expect(script).toMatch(/^# Written by v2v[^\n]*\r\n/);
  });

  it('kept both source MACs on the target NICs', async () => {
    const xml = await xmlOf(runs['dir']!, 'dir');
    expect([...xml.matchAll(/<mac address="([^"]+)"\/>/g)].map((m) => m[1])).toEqual([STATIC_MAC, DHCP_MAC]);
  });

  it('--mac MAC:ip: overrides what was read: another IPv4 setting on the static NIC, an IPv6 address on the DHCP NIC', () => {
    const r = runs['iso']!;
    expect(r.run.stdout).toContain(
      `network: ${STATIC_MAC} = ${STATIC_GUID} vmxnet3 Ethernet Adapter (by only-nic): static 198.51.100.20/25 (from --mac): re-applied at first boot`,
    );
    expect(r.run.stdout).toContain(
      `network: ${DHCP_MAC} = ${DHCP_GUID} Intel(R) 82574L Gigabit Network Connection (by registry): static 2001:db8::20/64 (from --mac): re-applied at first boot`,
    );
    expect(networkActions(back['iso']!.s['network'])).toEqual([
      "$adapter = Wait-V2vAdapter '00-50-56-AA-0B-01'",
      'Set-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -Dhcp Disabled',
      'Remove-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -Confirm:$false -ErrorAction SilentlyContinue',
      "Remove-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -Confirm:$false -ErrorAction SilentlyContinue",
      "New-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -IPAddress '198.51.100.20' -PrefixLength 25 -DefaultGateway '198.51.100.1'",
      "Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses '198.51.100.53'",
      "$adapter = Wait-V2vAdapter '00-50-56-AA-0B-02'",
      "New-NetIPAddress -InterfaceIndex $i -AddressFamily IPv6 -IPAddress '2001:db8::20' -PrefixLength 64 -DefaultGateway '2001:db8::1'",
      "Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses '2001:db8::53'",
    ]);
    expect(back['iso']!.s['network']).not.toContain('192.0.2.20');
    expect(back['iso']!.s['script']).toContain('-File "C:\\Program Files\\v2v\\Firstboot\\network.ps1"');
  });

  it('a bare disk source (one NIC, no MAC): the static adapter is not guessed onto it; a warning names it and the fix', () => {
    const warnings = runs['none']!.run.stderr.split('\n')
      .filter((l) => l.includes('v2v: warning: Windows adapter'))
      .map((l) => l.slice(l.indexOf('v2v: warning: ')));
    expect(warnings).toEqual([
      `v2v: warning: Windows adapter ${STATIC_GUID} (vmxnet3 Ethernet Adapter) has the static address 192.0.2.20/24, but the registry has no MAC for it, the source has no vmxnet3 NIC, and the guest has 2 adapter(s) with settings for 1 source NIC(s) (no MAC): set it on the new adapter after the first boot, or convert again with --mac MAC:ip:192.0.2.20,...`,
    ]);
    expect(back['none']!.s['network']).toBe('');
    expect(back['none']!.s['script']).not.toContain('powershell');
  });
});

describe('drivers from a virtio-win ISO, no rhsrvany: RunOnce and a warning', () => {
  it('converts (exit 0) with the same drivers, read from the ISO inside the appliance', () => {
    const r = runs['iso']!;
    expect(r.run.exitCode, r.run.stderr).toBe(0);
    const b = back['iso']!;
    expect(lines(b.s['virtio']).sort()).toEqual(EXPECTED_DRIVER_FILES);
    expect(b.s['viostor']).toBe('stand-in viostor 2k19 amd64 sys\n');
    expect(lines(b.s['firstbootdir']).sort()).toEqual(['firstboot.bat', 'network.ps1', 'qemu-ga-x86_64.msi']);
    expect(lines(b.s['root']).sort()).toEqual(['Program Files', 'Program Files (x86)', 'Users', 'Windows']);
  });

  it('put the first-boot script in RunOnce, installed no service, and warned how to get one', () => {
    const { system, software, s } = back['iso']!;
    expect(value(software, 'Microsoft\\Windows\\CurrentVersion\\RunOnce', 'v2vfirstboot')).toEqual({
      type: 1,
      text: 'cmd /c "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat"',
    });
    expect(system.get('controlset001\\services\\v2vfirstboot')).toBeUndefined();
    expect(s['script']).not.toContain('pnp_wait');
    expect(s['script']).not.toContain('sc config');
    expect(s['script']).toContain(`msiexec /x ${VMWARE_GUID} /qn /norestart`);
    // The static IP settings wait for that logon too: the warning says so.
    expect(runs['iso']!.run.stderr).toContain(
      'the first-boot script (driver install, static IP settings, qemu-ga, VMware Tools removal) runs from RunOnce',
    );
    const warning = runs['iso']!.run.stderr.split('\n').filter((l) => /v2v: warning: no rhsrvany\.exe/.test(l));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(
      /no rhsrvany\.exe in .*no-virt-tools: the first-boot script .* runs from RunOnce at the first administrator logon, not at boot; to run it at boot, put rhsrvany\.exe and pnp_wait\.exe .* set VIRT_TOOLS_DATA_DIR, and convert again$/,
    );
  });

  it('domain XML: virtio disk and NIC', async () => {
    const xml = await xmlOf(runs['iso']!, 'iso');
    expect(xml).toContain(`<target dev="vda" bus="virtio"/>`);
    expect(xml).toMatch(/<model type="virtio"\/>/);
  });
});

describe('no virtio-win drivers: emulated devices and a clear warning', () => {
  it('converts (exit 0) and warns once, naming the guest, the devices and the fix', () => {
    const r = runs['none']!;
    expect(r.run.exitCode, r.run.stderr).toBe(0);
    const warning = r.run.stderr.split('\n').filter((l) => /v2v: warning: no virtio-win drivers/.test(l));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(
      /v2v: warning: no virtio-win drivers found for Windows Server 2019 Standard \(no --virtio-win, VIRTIO_WIN or \/usr\/share\/virtio-win\): the guest will use slower emulated SATA\/e1000 devices; install virtio-win or pass --virtio-win PATH and convert again$/,
    );
  });

  it('domain XML: SATA disk, e1000 NIC, q35, localtime clock', async () => {
    const xml = await xmlOf(runs['none']!, 'none');
    expect(xml).toContain(`<target dev="sda" bus="sata"/>`);
    expect(xml).not.toContain('bus="virtio"');
    expect(xml).toMatch(/<interface type="network">[\s\S]*<model type="e1000"\/>/);
    expect(xml).toMatch(/machine="q35"/);
    expect(xml).toContain('<clock offset="localtime"/>');
  });

  it('changed no driver registry key or DevicePath, but still uninstalls VMware Tools at first boot (RunOnce)', () => {
    const { system, software, s } = back['none']!;
    expect(lines(s['virtio'])).toEqual([]);
    expect(lines(s['sysdrivers'])).toEqual([]);
    expect(system.get('controlset001\\services\\viostor')).toBeUndefined();
    expect([...system.keys()].some((k) => k.includes('criticaldevicedatabase'))).toBe(false);
    expect(value(software, 'Microsoft\\Windows\\CurrentVersion', 'DevicePath')).toEqual({ type: 2, text: '%SystemRoot%\\inf' });
    expect(value(software, 'Microsoft\\Windows\\CurrentVersion\\RunOnce', 'v2vfirstboot')?.text).toBe(
      'cmd /c "C:\\Program Files\\v2v\\Firstboot\\firstboot.bat"',
    );
    expect(s['script']).not.toContain('pnputil');
    expect(s['script']).not.toContain('qemu-ga');
    expect(s['script']).toContain(`msiexec /x ${VMWARE_GUID} /qn /norestart`);
  });
});

describe('refusals', () => {
  it('hibernated NTFS (hiberfil.sys starts with "hibr"): exit 4, one sentence with the fix, nothing written', async () => {
    const r = runs['hibernated']!;
    expect(r.run.exitCode, r.run.stderr).toBe(4);
    const errors = r.run.stderr.split('\n').filter((l) => l.startsWith('v2v: error:'));
    expect(errors).toEqual([
      'v2v: error: The guest\'s / filesystem (/dev/sda1) is hibernated or was left by Windows Fast Startup: start the source VM, disable Fast Startup ("powercfg /h off") and shut Windows down fully, then retry.',
    ]);
    const { files, log } = await splitOutputDir(r.out);
    expect(files).toEqual([]);
    expect(await readFile(log, 'utf8')).toContain('is hibernated or was left by Windows Fast Startup');
  });

  it('--virtio-win naming a missing path or a plain file: exit 3 before the appliance starts, nothing written', async () => {
    const out = join(work, 'out-bad');
    await mkdir(out);
    const missing = await runV2v([
      '-i',
      'disk',
      join(guest, 'windows.img'),
      '-if',
      'raw',
      '-o',
      'local',
      '-os',
      out,
      '--virtio-win',
      '/nonexistent/virtio-win',
    ]);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain(
      'v2v: error: --virtio-win /nonexistent/virtio-win does not exist: pass the virtio-win directory or ISO',
    );
    const file = join(work, 'not-an-iso.txt');
    await writeFile(file, 'x');
    const plain = await runV2v(['-i', 'disk', join(guest, 'windows.img'), '-if', 'raw', '-o', 'local', '-os', out, '--virtio-win', file]);
    expect(plain.exitCode).toBe(3);
    expect(plain.stderr).toContain(
      `v2v: error: --virtio-win ${file} is neither a directory nor an .iso file: pass the virtio-win directory or the virtio-win ISO.`,
    );
    expect(plain.stdout).not.toContain('Inspecting the source');
    expect(await outputEntries(out)).toEqual([]);
    const logs = await runLogs(out);
    expect(logs).toHaveLength(2); // each refused run keeps its record
    const texts = await Promise.all(logs.map((l) => readFile(l, 'utf8')));
    expect(texts.filter((t) => t.includes('/nonexistent/virtio-win does not exist'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('is neither a directory nor an .iso file'))).toHaveLength(1);
  });

  it('left both source images byte-identical', async () => {
    expect(await sha256(join(guest, 'windows.img'))).toBe(sourceHashes['windows']);
    expect(await sha256(join(guest, 'windows-hibernated.img'))).toBe(sourceHashes['hibernated']);
  });
});
