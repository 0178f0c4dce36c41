/**
 * A real Debian 12 VMware guest with UEFI firmware (firmware = "efi"), an ESP
 * and a /boot partition named /dev/sda1 and /dev/sda2 in fstab, and its root
 * on LVM (/dev/mapper/vg0-root), built by the test suite. Converted with
 * `v2v -i vmx -o local --mac MAC:ip:192.0.2.20,192.0.2.1,24,192.0.2.53`; the
 * exact changes are asserted, and the converted disk is booted with OVMF on
 * virtio-blk with one virtio-net NIC carrying the source MAC on an isolated
 * hub (TCG).
 *
 * --mac on a NIC the guest has no config for (#12): the fixture's
 * /etc/network/interfaces has only `lo` (and sources interfaces.d/*), its
 * VMX no ethernet0.pciSlotNumber, so v2v adds an ifupdown file for the NIC
 * under systemd's MAC name enx000c293a5b7d, pins that name, and writes
 * /etc/resolv.conf (a plain file; no resolvconf). Unlike the BIOS fixture,
 * this one has no hook printing the network on the console: the test adds
 * the same if-up.d probe to the converted disk (after its files are read,
 * in the same guestfish session) so the boot shows the address.
 *
 * No control boot of the unconverted disk here: on virtio-blk it only fails
 * after initramfs-tools' root wait (minutes under TCG), and convert-vmx.test.ts
 * already proves that principle with the same initramfs recipe. The fixture
 * script itself checks that the unconverted initramfs has no virtio driver.
 *
 * Laid out on two datastores (test/helpers/datastores.ts): the .vmx names
 * its system disk by an absolute path in the fixture's directory and a small
 * data disk by ../../ds2/..., both outside the .vmx's directory, so the run
 * passes --allow-dir for each; the data disk is converted byte for byte and
 * the booted guest's kernel finds it as vdb. (Refused without --allow-dir:
 * test/integration/datastores.test.ts.)
 *
 * Compressed modules (#14): every kernel module of this fixture is a
 * .ko.zst (as on Ubuntu since 23.10), so the initramfs fast path adds
 * .ko.zst virtio modules to an image whose kmod already loads .ko.zst ones,
 * and the boot below proves they load.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { parseStringPromise } from 'xml2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootDisk } from '../helpers/boot.js';
import { DATA_DISK_CONSOLE, twoDatastoreVm, type TwoDatastoreVm } from '../helpers/datastores.js';
import { ensureUefiLvmFixture, type Fixture } from '../helpers/fixture.js';
import { splitOutputDir } from '../helpers/run-log.js';
import { guestfishRead, runV2v, sections, sha256, type V2vRun } from '../helpers/v2v.js';

const MINUTE = 60_000;
const NAME = 'v2v-fixture-debian12-uefi-lvm';
/** The fixture's NIC (build-debian-uefi-lvm-guest.sh MAC=). */
const MAC = '00:0c:29:3a:5b:7d';
/** systemd's MAC-based name: the NIC has no slot number in the VMX and no config in the guest. */
const IFACE = 'enx000c293a5b7d';
const IFACE_FILE = `/etc/network/interfaces.d/v2v-${IFACE}`;
const LINK = `/etc/systemd/network/10-v2v-${IFACE}.link`;
const UP = new RegExp(`v2v-net-up: ${IFACE} 192\\.0\\.2\\.20/24`);
/** As the BIOS fixture's /etc/network/if-up.d/v2v-fixture-console. */
const IF_UP_PROBE = [
  '#!/bin/sh',
  '[ "$IFACE" = lo ] && exit 0',
  `echo "v2v-net-up: $IFACE $(ip -o -4 addr show dev "$IFACE" | awk '{ print $4 }' | tr '\\n' ' ')" >/dev/ttyS0 || true`,
  'exit 0',
  '',
].join('\n');

/** The probe as a host file for guestfish's upload. */
async function probeFile(): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'v2v-e2e-probe-')), 'probe');
  await writeFile(path, IF_UP_PROBE, { mode: 0o755 });
  return path;
}

/**
 * Reads what the conversion is expected to change (and keep) from a disk;
 * `probe`: then adds the if-up console probe (converted disk only).
 */
async function guestReport(disk: string, format: string, probe = false): Promise<Record<string, string>> {
  const probePath = probe ? await probeFile() : undefined;
  // guestfish: single-quoted strings take no escapes; the guest's shell sees the rest.
  const output = await guestfishRead(
    disk,
    format,
    [
      'echo ==fstab==',
      `sh 'grep -v "^#" /etc/fstab'`,
      'echo ==linux==',
      `sh 'grep -E "^[[:space:]]*(linux|search)[[:space:]]" /boot/grub/grub.cfg'`,
      'echo ==sdnames==',
      `sh 'grep -c "/dev/sd" /boot/grub/grub.cfg /etc/fstab /etc/default/grub || true'`,
      'echo ==bootuuid==',
      'vfs-uuid /dev/sda2',
      'echo ==esp==',
      'ls /boot/efi/EFI/BOOT',
      'echo ==initrd==',
      `sh 'for f in /boot/initrd.img-*; do lsinitramfs $f; done | grep -oE "(virtio[a-z_]*|dm-mod)[.]ko([.]zst)?$|sbin/lvm$" | sort -u'`,
      // Per kernel: its modules.dep's .ko.zst and plain .ko entries, and the image's plain .ko files.
      'echo ==moddep==',
      `sh 'for d in /lib/modules/*; do v=$(basename $d); echo "$v $(grep -c "[.]ko[.]zst:" $d/modules.dep) $(grep -c "[.]ko:" $d/modules.dep) $(lsinitramfs /boot/initrd.img-$v | grep -c "[.]ko$")"; done'`,
      'echo ==packages==',
      `sh 'dpkg-query -W -f="\\\${Package} \\\${Status}\\n" open-vm-tools grub-efi-amd64 lvm2 2>&1 || true'`,
      'echo ==network==',
      `sh 'cat /etc/network/interfaces ${IFACE_FILE} ${LINK} 2>/dev/null || true'`,
      'echo ==resolv==',
      'cat /etc/resolv.conf',
      'echo ==end==',
      ...(probePath !== undefined
        ? [`upload ${probePath} /etc/network/if-up.d/zz-v2v-test-probe`, 'chmod 0755 /etc/network/if-up.d/zz-v2v-test-probe']
        : []),
      '',
    ].join('\n'),
    { writable: probe },
  );
  if (probePath !== undefined) await rm(dirname(probePath), { recursive: true, force: true });
  return sections(output);
}

/** A section's non-blank lines (guestfish's `sh` output ends with blank lines). */
function lines(text: string | undefined): string[] {
  return (text ?? '').split('\n').filter((l) => l.trim() !== '');
}

let fixture: Fixture;
let sourceHash: string;
let before: Record<string, string>;
let out: string;
let run: V2vRun;
/** The run's --machine-readable events file. */
let events: string;
/** The VM on two datastores, and its data disk's sha256 before the run. */
let layout: TwoDatastoreVm;
let dataHash: string;

beforeAll(async () => {
  fixture = await ensureUefiLvmFixture();
  sourceHash = await sha256(fixture.vmdk);
  before = await guestReport(fixture.vmdk, 'vmdk');
  out = await mkdtemp(join(tmpdir(), 'v2v-e2e-uefi-'));
  events = join(await mkdtemp(join(tmpdir(), 'v2v-e2e-uefi-events-')), 'events.jsonl');
  layout = await twoDatastoreVm(fixture, join(dirname(events), 'vmfs-volumes'), NAME);
  dataHash = await sha256(layout.dataFlat);
  run = await runV2v([
    '-i',
    'vmx',
    layout.vmx,
    '--allow-dir',
    fixture.dir,
    '--allow-dir',
    layout.ds2,
    '-o',
    'local',
    '-os',
    out,
    '-of',
    'qcow2',
    '--mac',
    `${MAC}:ip:192.0.2.20,192.0.2.1,24,192.0.2.53`,
    `--machine-readable=file:${events}`,
  ]);
  console.log(`conversion took ${run.seconds.toFixed(1)} s`);
}, 30 * MINUTE);

afterAll(async () => {
  // V2V_E2E_KEEP=1 keeps the converted guest for a look after a failure.
  if (events) await rm(dirname(events), { recursive: true, force: true });
  if (out && process.env['V2V_E2E_KEEP'] !== '1') await rm(out, { recursive: true, force: true });
  else if (out) console.log(`kept ${out}`);
});

describe('v2v -i vmx -o local on a Debian 12 UEFI guest with an LVM root', () => {
  it('the fixture is what this test claims: sdX names, LVM root, removable-path grub, zstd-compressed modules, no virtio, VMware tools', () => {
    expect(lines(before['fstab']).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['/dev/mapper/vg0-root', '/', 'ext4'],
      ['/dev/sda2', '/boot', 'ext4'],
      ['/dev/sda1', '/boot/efi', 'vfat'],
    ]);
    expect(before['esp']?.trim()).toBe('BOOTX64.EFI');
    expect(lines(before['initrd'])).toEqual(['dm-mod.ko.zst', 'sbin/lvm']);
    // One kernel; its modules.dep lists only .ko.zst modules (thousands), its image holds no plain .ko.
    const moddep = lines(before['moddep']).map((l) => l.split(' '));
    expect(moddep).toHaveLength(1);
    const [, zst, plain, imagePlain] = (moddep[0] ?? []).map(Number);
    expect(zst).toBeGreaterThan(1000);
    expect([plain, imagePlain]).toEqual([0, 0]);
    expect(before['packages']).toMatch(/^open-vm-tools install ok installed$/m);
    // No config for the NIC: only lo, interfaces.d sourced; resolv.conf a plain file.
    expect(lines(before['network'])).toEqual([
      '# Loopback only: nothing waits for DHCP at boot.',
      'source /etc/network/interfaces.d/*',
      'auto lo',
      'iface lo inet loopback',
    ]);
    expect(before['resolv']).toMatch(/^nameserver /m);
  });

  it('exits 0 and writes NAME.xml, NAME-sda and NAME-sdb (the data disk on the other datastore, byte for byte) only', async () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.exitCode, run.stderr).toBe(0);
    expect((await splitOutputDir(out, NAME)).files).toEqual([`${NAME}-sda`, `${NAME}-sdb`, `${NAME}.xml`]);
    const compare = await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', layout.dataFlat, join(out, `${NAME}-sdb`)], {
      reject: false,
    });
    expect(compare.exitCode, compare.stdout + compare.stderr).toBe(0);
  });

  it('writes domain XML that boots UEFI (firmware autoselection, secure boot off) on q35 with two virtio disks', async () => {
    const path = join(out, `${NAME}.xml`);
    const text = await readFile(path, 'utf8');
    const domain = (await parseStringPromise(text)).domain;
    expect(domain.os).toEqual([
      {
        $: { firmware: 'efi' },
        type: [{ _: 'hvm', $: { arch: 'x86_64', machine: 'q35' } }],
        firmware: [{ feature: [{ $: { enabled: 'no', name: 'secure-boot' } }] }],
      },
    ]);
    expect(domain.features[0].smm).toBeUndefined();
    const disks = domain.devices[0].disk.filter((d: { $: { device: string } }) => d.$.device === 'disk');
    expect(disks).toHaveLength(2);
    expect(disks[0].target[0].$).toEqual({ dev: 'vda', bus: 'virtio' });
    expect(disks[0].driver[0].$.type).toBe('qcow2');
    expect(disks[1].target[0].$).toEqual({ dev: 'vdb', bus: 'virtio' });
    expect(disks[1].source[0].$.file).toBe(join(out, `${NAME}-sdb`));
    const validate = await execa('virt-xml-validate', [path, 'domain'], { reject: false });
    expect(validate.exitCode, validate.stderr).toBe(0);
  });

  let after: Record<string, string>;
  it(
    'converted the guest: vdX in fstab, LVM root kept, grub.cfg still sane, virtio + LVM in the initramfs',
    async () => {
      after = await guestReport(join(out, `${NAME}-sda`), 'qcow2', true);
      // Exact fstab: only the sdX names changed, columns and options as they were.
      expect(lines(after['fstab'])).toEqual(lines(before['fstab']).map((l) => l.replace(/^\/dev\/sda(\d) /, '/dev/vda$1 ')));
      expect(after['fstab']).toMatch(/^\/dev\/mapper\/vg0-root\s+\/\s+ext4\s+errors=remount-ro\s+0\s+1$/m);
      expect(after['fstab']).toMatch(/^\/dev\/vda2\s+\/boot\s+ext4\s+defaults\s+0\s+2$/m);
      expect(after['fstab']).toMatch(/^\/dev\/vda1\s+\/boot\/efi\s+vfat\s+umask=0077\s+0\s+1$/m);
      expect(after['sdnames']).toMatch(/^\/boot\/grub\/grub.cfg:0$/m);
      expect(after['sdnames']).toMatch(/^\/etc\/fstab:0$/m);
      expect(after['sdnames']).toMatch(/^\/etc\/default\/grub:0$/m);
      // grub.cfg (edited in place by the Debian converter; regenerated only when
      // it has no kernel line) still names the LV, not an appliance device, keeps
      // the serial console and finds /boot by its UUID.
      const linux = after['linux']?.split('\n').filter((l) => /^\s*linux\s/.test(l)) ?? [];
      expect(linux.length).toBeGreaterThan(0);
      for (const line of linux) {
        expect(line).toMatch(/\sroot=\/dev\/mapper\/vg0-root\s/);
        expect(line).toMatch(/\sconsole=ttyS0,115200(\s|$)/);
      }
      const uuid = before['bootuuid']?.trim();
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(after['bootuuid']?.trim()).toBe(uuid);
      expect(after['linux']).toMatch(new RegExp(`search --no-floppy --fs-uuid --set=root ${uuid}$`, 'm'));
      // The removable-path bootloader on the ESP is still there (no NVRAM entry is needed).
      expect(after['esp']?.trim()).toBe('BOOTX64.EFI');
      // The guest's own .ko.zst virtio modules, added by the fast path; nothing uncompressed.
      for (const m of ['virtio_blk', 'virtio_pci', 'virtio_scsi', 'virtio_net', 'virtio_console', 'dm-mod'])
        expect(lines(after['initrd'])).toContain(`${m}.ko.zst`);
      expect(lines(after['initrd']).filter((l) => l.endsWith('.ko'))).toEqual([]);
      expect(lines(after['moddep'])).toEqual(lines(before['moddep']));
      expect(run.stdout).toMatch(
        /: added .*virtio_blk.* to the image directly \(initramfs extended on the host, update-initramfs not run\)/,
      );
      expect(run.stdout).not.toMatch(/rebuilding it with update-initramfs/);
      expect(after['initrd']).toMatch(/sbin\/lvm$/m);
      expect(after['packages']).not.toMatch(/^open-vm-tools install ok installed$/m);
      expect(after['packages']).toMatch(/^grub-efi-amd64 install ok installed$/m);
      expect(after['packages']).toMatch(/^lvm2 install ok installed$/m);
    },
    10 * MINUTE,
  );

  it("applied --mac MAC:ip: in the guest's own ifupdown: a new interfaces.d file for the NIC, its name pinned, resolv.conf written, reported", () => {
    // /etc/network/interfaces unchanged, then the new file, then the pin, as `cat` prints them one after the other.
    const added = [
      `# Written by v2v: --mac ${MAC}:ip:192.0.2.20,192.0.2.1,24,192.0.2.53 (the NIC with MAC ${MAC}, named ${IFACE}).`,
      `allow-hotplug ${IFACE}`,
      `iface ${IFACE} inet static`,
      '    address 192.0.2.20/24',
      '    gateway 192.0.2.1',
      '    dns-nameservers 192.0.2.53',
      '',
    ].join('\n');
    expect(after['network']).toContain(`${before['network']?.replace(/\n+$/, '\n')}${added}`);
    expect(after['network']).toContain(`[Match]\nMACAddress=${MAC}\n\n[Link]\nName=${IFACE}\n`);
    const oldServers = lines(before['resolv']).filter((l) => l.startsWith('nameserver '));
    expect(lines(after['resolv'])).toEqual([
      ...oldServers.map((l) => `# ${l}  (before v2v)`),
      '# Written by v2v (--mac ...:ip:...):',
      'nameserver 192.0.2.53',
    ]);
    expect(run.stdout).toContain(
      `network: NIC ${MAC}: ${IFACE} (matched by option) [192.0.2.20/24 from --mac]: pinned ${IFACE} by ${LINK}; static config written to ${IFACE_FILE}, /etc/resolv.conf`,
    );
    expect(run.stderr).not.toMatch(/--mac/);
  });

  it('reports the NIC in --machine-readable: one convert info event whose network report says the address came from --mac', async () => {
    const parsed = (await readFile(events, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; stage?: string; network?: Record<string, unknown> });
    const network = parsed.filter((e) => e.type === 'info' && e.stage === 'convert' && e.network !== undefined).map((e) => e.network);
    expect(network).toEqual([
      {
        mac: MAC,
        names: [IFACE],
        matchedBy: 'option',
        pinned: IFACE,
        files: [LINK, IFACE_FILE, '/etc/resolv.conf'],
        staticIps: [{ address: '192.0.2.20', gateway: '192.0.2.1', prefix: 24, dns: ['192.0.2.53'] }],
        source: 'option',
      },
    ]);
  });

  it(
    'boots the converted disks with OVMF on virtio-blk to a login prompt, the data disk found as vdb, and the NIC comes up as enx000c293a5b7d with 192.0.2.20/24 (TCG, isolated hub)',
    async () => {
      const boot = await bootDisk({
        disk: join(out, `${NAME}-sda`),
        format: 'qcow2',
        bus: 'virtio',
        extraDisks: [{ disk: join(out, `${NAME}-sdb`), format: 'qcow2' }],
        firmware: 'uefi',
        nic: { mac: MAC },
        waitFor: UP,
        timeoutMs: 8 * MINUTE,
        logFile: join(tmpdir(), 'v2v-e2e-uefi-lvm-boot.log'),
      });
      console.log(`converted UEFI/LVM guest on virtio: ${boot.outcome} after ${boot.seconds.toFixed(0)} s`);
      expect(boot.outcome, boot.log.slice(-3000)).toBe('login');
      // Really UEFI: grub's EFI build ran (BIOS grub cannot read an ESP-only boot path).
      expect(boot.log).toMatch(/BdsDxe: (loading|starting) Boot/);
      expect(boot.log).toMatch(UP);
      expect(boot.log).toMatch(DATA_DISK_CONSOLE);
    },
    10 * MINUTE,
  );

  it('left the source disks byte-identical', async () => {
    expect(await sha256(fixture.vmdk)).toBe(sourceHash);
    expect(await sha256(layout.dataFlat)).toBe(dataHash);
  });
});
