/**
 * The core end to end: the real Debian 12 VMware guest (built by the test
 * suite) converted with `v2v -i vmx -o local`, its XML and disk checked, and
 * the converted disk booted under qemu TCG on virtio-blk: by `--verify` with
 * no network device, and by the test itself with one NIC on an isolated hub.
 * The unconverted disk is booted too: it must reach login on IDE; that it
 * must NOT boot on virtio-blk (so this test really tests conversion) is shown
 * by verify.test.ts on the same VMDK.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseStringPromise } from 'xml2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootDisk } from '../helpers/boot.js';
import { ensureFixture } from '../helpers/fixture.js';
import { splitOutputDir, unstamped } from '../helpers/run-log.js';
import { guestfishRead, runV2v, sections, sha256, type V2vRun } from '../helpers/v2v.js';

const MINUTE = 60_000;
const NAME = 'v2v-fixture-debian12';
/** The source NIC's MAC (the fixture's ethernet0, vmxnet3 in PCI slot 192: ens192 on VMware). */
const MAC = '00:0c:29:3a:5b:7c';
/** The name the NIC with the source MAC has, from the fixture's boot-time `ip -o link` on the console. */
const LINK_LINE = new RegExp(`v2v-net-link: \\d+: ([^:\\s]+): .*link/ether ${MAC}`);

let fixture: { dir: string; vmx: string; vmdk: string };
let sourceHash: string;
let out: string;
let run: V2vRun;

beforeAll(async () => {
  fixture = await ensureFixture();
  sourceHash = await sha256(fixture.vmdk);
  out = await mkdtemp(join(tmpdir(), 'v2v-e2e-'));
  // virt-v2v's spellings and option order (-n before the source, -o disk = -o local):
  // a virt-v2v command line runs unchanged (docs/virt-v2v-compat.md).
  run = await runV2v([
    '-i',
    'vmx',
    '-n',
    'default',
    fixture.vmx,
    '-o',
    'disk',
    '-os',
    out,
    '-of',
    'qcow2',
    '--no-trim',
    'all',
    ...VERIFY_ARGS,
  ]);
}, 40 * MINUTE);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('v2v -i vmx -o local on the Debian 12 VMware guest', () => {
  it('exits 0 and logs each stage as plain timestamped lines', () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.exitCode).toBe(0);
    for (const stage of [
      'Setting up the source',
      'Opening the source',
      'Checking the target',
      'Inspecting the source',
      'Converting',
      'Mapping filesystem data',
      'Copying disk 1/1',
      'Creating output metadata',
    ]) {
      expect(run.stdout).toContain(stage);
    }
    // Piped output: no ANSI escapes, no carriage returns.
    expect(run.stdout).not.toMatch(/\u001b\[|\r/);
    // Every progress line carries a timestamp (after the renderer's status mark).
    const lines = run.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('Finished converting'));
    expect(lines.length).toBeGreaterThan(8);
    for (const line of lines) expect(line).toMatch(/^\S{0,2} ?\[\d\d:\d\d:\d\d\] /);
    console.log(`conversion took ${run.seconds.toFixed(1)} s`);
  });

  it('shows signs of life and counts the bytes really written, with one 100 % line', () => {
    // The initramfs rebuild is ~70 s of no events: a heartbeat line at least every 10 s.
    expect(run.stdout).toMatch(/^… \[\d\d:\d\d:\d\d\] still working: .+ \(\d+ s\)$/m);
    const done = run.stdout.split('\n').filter((l) => /100\.0% \(/.test(l));
    expect(done, run.stdout).toHaveLength(1);
    expect(done[0]).toMatch(/100\.0% \([\d.]+ MiB written of 2\.0 GiB virtual, /);
    // The no-op virt-v2v flag warned, as virt-v2v 2.x does, and changed nothing else.
    expect(run.stderr).toContain('v2v: warning: --no-trim is ignored, as in virt-v2v 2.x');
  });

  it('writes NAME.xml and NAME-sda, and its log, nothing else', async () => {
    const { files, log } = await splitOutputDir(out, NAME);
    expect(files).toEqual([`${NAME}-sda`, `${NAME}.xml`]);
    expect((await stat(log)).mode & 0o777).toBe(0o600);
  });

  it('keeps a log of the run: every line it printed, the warnings, the trace and what each command printed, without -v or -x', async () => {
    const { log } = await splitOutputDir(out, NAME);
    const text = await readFile(log, 'utf8');
    expect(text).not.toMatch(/\u001b\[|\r/);
    const logged = new Set(unstamped(text).split('\n'));
    // Every line of the piped output, the heartbeat, copy progress and converter changes included.
    const printed = unstamped(run.stdout)
      .split('\n')
      .filter((l) => l !== '');
    expect(
      printed.filter((l) => !logged.has(l)),
      text,
    ).toEqual([]);
    expect(text).toMatch(/^… \[\d\d:\d\d:\d\d\] still working: /m);
    expect(text).toMatch(/^› \[\d\d:\d\d:\d\d\] next: virsh define \S+\.xml && virsh start v2v-fixture-debian12$/m);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] v2v: warning: --no-trim is ignored, as in virt-v2v 2\.x/m);
    // The trace: each command's argv, and its output (guest side: guestfish calls).
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] \+ qemu-img convert /m);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] \+ guestfish /m);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] = .*\(exit code \d+\)$/m);
    // The run said where it is.
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^› \\[\\d\\d:\\d\\d:\\d\\d\\] log: ${log}$`));
    expect(run.stderr).not.toContain('+ qemu-img'); // no -x: the trace is in the log only
    console.log(`log: ${text.split('\n').length} lines, ${(text.length / 1024).toFixed(0)} KiB`);
  });

  it('writes domain XML with a virtio disk and NIC, the source MAC, memory and vCPUs', async () => {
    const text = await readFile(join(out, `${NAME}.xml`), 'utf8');
    const xml = await parseStringPromise(text);
    const domain = xml.domain;
    // Portable: the XML is for the host that runs it, though this one converted under TCG.
    expect(domain.$.type).toBe('kvm');
    expect(domain.name[0]).toBe(NAME);
    expect(domain.memory[0]).toEqual({ _: '1048576', $: { unit: 'KiB' } });
    expect(domain.vcpu[0]).toBe('2');
    const disks = domain.devices[0].disk.filter((d: { $: { device: string } }) => d.$.device === 'disk');
    expect(disks).toHaveLength(1);
    expect(disks[0].target[0].$).toEqual({ dev: 'vda', bus: 'virtio' });
    expect(disks[0].driver[0].$.type).toBe('qcow2');
    expect(disks[0].source[0].$.file).toBe(join(out, `${NAME}-sda`));
    const nics = domain.devices[0].interface;
    expect(nics).toHaveLength(1);
    expect(nics[0].model[0].$.type).toBe('virtio');
    expect(nics[0].mac[0].$.address).toBe('00:0c:29:3a:5b:7c');
    const validate = await execa('virt-xml-validate', [join(out, `${NAME}.xml`), 'domain'], { reject: false });
    expect(validate.exitCode, validate.stderr).toBe(0);
  });

  it(
    'converted the guest: vd names in fstab, virtio in the initramfs, open-vm-tools gone',
    async () => {
      // guestfish: single-quoted strings take no escapes; the guest's shell sees the rest.
      const output = await guestfishRead(
        join(out, `${NAME}-sda`),
        'qcow2',
        [
          'echo ==fstab==',
          'cat /etc/fstab',
          'echo ==grub==',
          'cat /etc/default/grub',
          'echo ==initrd==',
          `sh 'for f in /boot/initrd.img-*; do lsinitramfs $f; done | grep -oE "virtio[a-z_]*[.]ko" | sort -u'`,
          'echo ==vmtools==',
          `sh 'dpkg-query -W -f="\\\${Status}" open-vm-tools 2>&1 || true'`,
          'echo ==end==',
          '',
        ].join('\n'),
      );
      const s = sections(output);
      expect(s['fstab']).toMatch(/^\/dev\/vda1\s+\/\s+ext4/m);
      expect(s['fstab']).toMatch(/^\/dev\/vda2\s+\/srv\s+ext4/m);
      expect(s['fstab']).not.toMatch(/\/dev\/sd/);
      expect(s['grub']).toMatch(/console=ttyS0/);
      expect(s['initrd']).toContain('virtio_blk.ko');
      expect(s['initrd']).toContain('virtio_pci.ko');
      // The fast path: the image extended on the host with the modules and the NIC pin, no update-initramfs run.
      expect(run.stdout).toMatch(
        /initrd\.img-\S+: added .*virtio_blk.*10-v2v-ens192\.link to the image directly \(initramfs extended on the host, update-initramfs not run\)/,
      );
      expect(run.stdout).not.toMatch(/with update-initramfs instead/);
      expect(s['vmtools']).not.toMatch(/install ok installed/);
    },
    10 * MINUTE,
  );

  // The converted disk is booted twice below, not here: by --verify (no
  // network device, '--verify on the same conversion') and by the test itself
  // with one NIC on an isolated hub ('the guest keeps its network').

  // That the unconverted disk does NOT boot on virtio-blk ("Gave up waiting
  // for root") is shown by test/e2e/verify.test.ts, which hands the same
  // VMDK to `v2v verify` (virtio-blk): one such boot in the suite, not two.
  it(
    'control: the unconverted disk boots on IDE, and on KVM its NIC loses its name and address',
    async () => {
      // The same virtio-net NIC (source MAC, isolated hub) as the #12 boot below:
      // unpinned, the guest names it after its KVM slot, so the static config
      // for ens192 names nothing and 192.0.2.10 never comes up.
      const ide = await bootDisk({
        disk: fixture.vmdk,
        format: 'vmdk',
        bus: 'ide',
        nic: { mac: MAC },
        waitFor: LINK_LINE,
        timeoutMs: 8 * MINUTE,
      });
      expect(ide.outcome, ide.log.slice(-3000)).toBe('login');
      const name = LINK_LINE.exec(ide.log)?.[1];
      console.log(`unconverted guest with a NIC: the NIC is ${name ?? 'not listed'}`);
      expect(name, ide.log.slice(-3000)).toMatch(/^en/);
      expect(name).not.toBe('ens192');
      expect(ide.log).not.toMatch(/v2v-net-up: ens192/);
      expect(ide.log).not.toContain('192.0.2.10/');
      console.log(`unconverted guest on IDE: ${ide.outcome} (${ide.seconds.toFixed(0)} s)`);
    },
    10 * MINUTE,
  );

  it('left the source disk byte-identical', async () => {
    expect(await sha256(fixture.vmdk)).toBe(sourceHash);
  });
});

// --verify (issue #13): the conversion above also runs with --verify (checksum and
// boot); its failing cases are in verify.test.ts.
const VERIFY_ARGS = ['--verify'];

describe('--verify on the same conversion: the copy checked and the target booted before output', () => {
  it('compares the target with the converted image, boots it to userspace, and says so in the summary', () => {
    const verified =
      /Verified the converted guest: checksum passed \(1 disk\(s\), ([\d.]+) s\), boot passed \(userspace reached in ([\d.]+) s, (tcg|kvm)\)/.exec(
        run.stdout,
      );
    expect(verified, run.stdout).not.toBeNull();
    console.log(`--verify: checksum ${verified?.[1]} s, boot ${verified?.[2]} s (${verified?.[3]})`);
    expect(run.stdout).toMatch(/booting the target disks under (tcg|kvm) with no network device/);
    // Decided by the login prompt or, often first, systemd's multi-user target.
    expect(run.stdout).toMatch(/boot: reached userspace in [\d.]+ s \(".*(login:|Reached target multi-user\.target|Multi-User).*"\)/);
    expect(run.stdout).toMatch(/^Finished converting .*; verified: checksum passed .*, boot passed /m);
    // Verify ran after the copy and before the output metadata was written.
    const at = (text: string): number => run.stdout.indexOf(text);
    expect(at('Copied disk 1/1')).toBeLessThan(at('Verifying the converted guest'));
    expect(at('Verified the converted guest')).toBeLessThan(at('Creating output metadata'));
  });
});

describe('failing runs leave nothing behind and the source untouched', () => {
  it('refuses an existing target name in preflight, within seconds, writing nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'v2v-e2e-collide-'));
    try {
      await writeFile(join(dir, `${NAME}.xml`), 'not ours');
      const r = await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'local', '-os', dir]);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain(`${join(dir, `${NAME}.xml`)} already exists: remove it, or choose another guest name with "-on NAME".`);
      expect(r.seconds).toBeLessThan(30);
      // The log is kept: it is the record of the refusal.
      const { files, log } = await splitOutputDir(dir, NAME);
      expect(files).toEqual([`${NAME}.xml`]);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`v2v: log: ${log}`);
      expect(await readFile(log, 'utf8')).toContain(`v2v: error: ${join(dir, `${NAME}.xml`)} already exists`);
      expect(await readFile(join(dir, `${NAME}.xml`), 'utf8')).toBe('not ours');
      expect(await sha256(fixture.vmdk)).toBe(sourceHash);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing output directory with exit code 3', async () => {
    const r = await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'local', '-os', '/nonexistent/v2v-out']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('The output directory /nonexistent/v2v-out does not exist: create it or pass another "-os DIR".');
    // No place for the log either, but the error is the preflight's alone: no warning about the log on top of it.
    expect(r.stderr).not.toMatch(/no log file written/);
  });

  it(
    'fails a disk with no operating system after inspection, exit 4, nothing written',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'v2v-e2e-noos-'));
      try {
        const disk = join(dir, 'blank.vmdk');
        await execa('qemu-img', ['create', '-q', '-f', 'vmdk', disk, '64M']);
        const blankHash = await sha256(disk);
        const vmx = join(dir, 'blank.vmx');
        await writeFile(vmx, 'displayName = "blank"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "blank.vmdk"\n');
        const target = join(dir, 'out');
        await execa('mkdir', [target]);
        const r = await runV2v(['-i', 'vmx', vmx, '-o', 'local', '-os', target]);
        expect(r.exitCode).toBe(4);
        expect(r.stderr).toContain('No operating system was found on the source disks');
        const { files, log } = await splitOutputDir(target, 'blank');
        expect(files).toEqual([]);
        expect(await readFile(log, 'utf8')).toMatch(/^\[\d\d:\d\d:\d\d\] v2v: error: No operating system was found on the source disks/m);
        expect(await sha256(disk)).toBe(blankHash);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    5 * MINUTE,
  );
});

/**
 * #12 (Linux): the fixture's /etc/network/interfaces configures ens192 (its
 * vmxnet3 NIC in PCI slot 192) with 192.0.2.10/24. The converted disk is
 * booted with one virtio-net NIC carrying the source MAC on a qemu hub with
 * no other port (a link that reaches nothing). The fixture prints
 * "v2v-net-link: ..." (ip -o link) at boot and "v2v-net-up: IFACE ADDR" when
 * ifupdown brings an interface up, so the console shows the result.
 * Control (in the first describe, on the IDE boot of the unconverted disk):
 * the guest's own names on KVM, unpinned, give the NIC another name and no
 * address. The pin is also in the initramfs (whose udev names the NIC first).
 */
describe('the guest keeps its network on KVM: ens192 with its static address (#12)', () => {
  const LINK = '/etc/systemd/network/10-v2v-ens192.link';
  const UP = /v2v-net-up: ens192 192\.0\.2\.10\/24/;
  const converted = (): string => join(out, `${NAME}-sda`);

  it(
    'pinned ens192 to the source MAC with a .link file (also in the initramfs) and left the network config alone',
    async () => {
      expect(run.stdout).toContain(`network: pinned ens192 to ${MAC} with ${LINK}`);
      expect(run.stdout).toMatch(/network: NIC 00:0c:29:3a:5b:7c: ens192 \(matched by pci-slot\) \[192\.0\.2\.10\/24\]: pinned ens192/);
      const output = await guestfishRead(
        converted(),
        'qcow2',
        [
          'echo ==link==',
          `cat ${LINK}`,
          'echo ==interfaces==',
          'cat /etc/network/interfaces',
          'echo ==initrd==',
          `sh 'for f in /boot/initrd.img-*; do lsinitramfs $f; done | grep "10-v2v-ens192[.]link" || true'`,
          'echo ==end==',
          '',
        ].join('\n'),
      );
      const s = sections(output);
      expect(s['link']).toContain(`[Match]\nMACAddress=${MAC}\n\n[Link]\nName=ens192\n`);
      expect(s['interfaces']).toMatch(/^allow-hotplug ens192$/m);
      expect(s['interfaces']).toMatch(/^\s+address 192\.0\.2\.10\/24$/m);
      // initramfs-tools' udev hook copies /etc/systemd/network/*.link into the rebuilt initramfs.
      expect(s['initrd']?.trim().split('\n')[0] ?? '').toMatch(/^(usr\/)?lib\/systemd\/network\/10-v2v-ens192\.link$/);
    },
    10 * MINUTE,
  );

  it(
    'boots with one virtio-net NIC carrying the source MAC (isolated hub): the NIC is ens192 and 192.0.2.10/24 comes up',
    async () => {
      const boot = await bootDisk({
        disk: converted(),
        format: 'qcow2',
        bus: 'virtio',
        nic: { mac: MAC },
        waitFor: [UP, LINK_LINE],
        timeoutMs: 8 * MINUTE,
      });
      console.log(
        `converted guest with a NIC: ${boot.outcome} after ${boot.seconds.toFixed(0)} s; ${LINK_LINE.exec(boot.log)?.[0] ?? 'no link line'}`,
      );
      expect(boot.outcome, boot.log.slice(-3000)).toBe('login');
      expect(LINK_LINE.exec(boot.log)?.[1], boot.log.slice(-3000)).toBe('ens192');
      expect(boot.log).toMatch(UP);
    },
    10 * MINUTE,
  );
});
