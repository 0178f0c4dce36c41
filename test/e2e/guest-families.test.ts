/**
 * Guest families beyond Debian, and the refusals that must happen before
 * anything is copied. The disks come from test/fixtures/build-minimal-guests.sh
 * and are NOT bootable guests: each holds just the files libguestfs inspection
 * and the converters read. In the RHEL-like guest (Rocky 9 os-release and
 * redhat-release, a real rpm database listing an empty open-vm-tools package),
 * /usr/bin/rpm, /usr/bin/dracut and /usr/sbin/grub2-mkconfig are shell-script
 * STAND-INS that log their argv: we assert the commands v2v ran and the files
 * it edited, not a working initramfs or a boot.
 *
 * Cost: the build is one appliance launch (cached by its script's hash);
 * then one v2v run per case (each one launch) plus one read-back launch. The
 * refusal runs are independent and run concurrently.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestfishRead, runV2v, sections, sha256, type V2vRun } from '../helpers/v2v.js';

const MINUTE = 60_000;
const BUILD = fileURLToPath(new URL('../fixtures/build-minimal-guests.sh', import.meta.url));
const KVER = '5.14.0-362.8.1.el9_3.x86_64';

/** Builds (or reuses) the minimal guests; resolves to their directory. */
function buildMinimalGuests(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const dir = out.trim().split('\n').pop()?.trim();
      if (code !== 0 || !dir) reject(new Error(`${BUILD} failed (${code}): ${err.slice(-3000)}`));
      else resolve(dir);
    });
  });
}

let guests: string;
const dirs: string[] = [];
const started = Date.now();

/** A fresh, empty output directory. */
async function outDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'v2v-e2e-families-'));
  dirs.push(dir);
  return dir;
}

/** Runs v2v -i disk on one minimal guest into a fresh directory. */
async function convert(image: string, extra: string[] = []): Promise<{ run: V2vRun; out: string }> {
  const out = await outDir();
  const run = await runV2v(['-i', 'disk', join(guests, image), '-if', 'raw', '-o', 'local', '-os', out, '-of', 'qcow2', '-on', 'guest', ...extra]);
  return { run, out };
}

beforeAll(async () => {
  const t = Date.now();
  guests = await buildMinimalGuests();
  console.log(`minimal guests ready in ${((Date.now() - t) / 1000).toFixed(1)} s: ${guests}`);
}, 10 * MINUTE);

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  console.log(`guest-families e2e: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
});

describe('refusals before copying: exit 4, one sentence with the fix, nothing written', () => {
  const runs: Record<string, { run: V2vRun; out: string }> = {};
  let hashes: Record<string, string>;

  beforeAll(async () => {
    hashes = { multiboot: await sha256(join(guests, 'multiboot.img')), luks: await sha256(join(guests, 'luks.img')), full: await sha256(join(guests, 'rhel-full.img')) };
    // Independent runs, one appliance each: concurrently to save wall time.
    const [multiboot, ask, chosen, luks, full] = await Promise.all([
      convert('multiboot.img'),
      convert('multiboot.img', ['--root', 'ask']),
      convert('multiboot.img', ['--root', '/dev/sda2']),
      convert('luks.img'),
      convert('rhel-full.img'),
    ]);
    Object.assign(runs, { multiboot, ask, chosen, luks, full });
    for (const [name, r] of Object.entries(runs)) console.log(`${name}: exit ${r.run.exitCode} in ${r.run.seconds.toFixed(1)} s`);
  }, 20 * MINUTE);

  const expectRefused = async (name: string, message: string | RegExp): Promise<void> => {
    const r = runs[name];
    if (!r) throw new Error(`no run ${name}`);
    expect(r.run.exitCode, r.run.stderr).toBe(4);
    const errors = r.run.stderr.split('\n').filter((l) => l.startsWith('v2v: error:'));
    expect(errors, r.run.stderr).toHaveLength(1);
    if (typeof message === 'string') expect(errors[0]).toBe(`v2v: error: ${message}`);
    else expect(errors[0]).toMatch(message);
    expect(await readdir(r.out)).toEqual([]);
  };

  it('multi-boot without --root: names both roots and the --root fix', async () => {
    await expectRefused('multiboot', /^v2v: error: The source disks hold 2 operating systems \(\/dev\/sda1 \(.+\), \/dev\/sda2 \(.+\)\): choose the one to convert with "--root \/dev\/X" \(or "--root first", or "--root ask" on a terminal\)\.$/);
  });

  it('--root ask with stdin not a terminal: refuses and names the non-interactive fix', async () => {
    await expectRefused('ask', /and "--root ask" cannot ask without a terminal on stdin: pass "--root \/dev\/X" naming one of them, or "--root first"\.$/);
  });

  it('--root /dev/sda2 picks that root, then its distribution (Arch Linux) is refused as unsupported', async () => {
    await expectRefused('chosen', /^v2v: error: Converting .*Arch.* \(distribution "archlinux"\) is not supported: v2v converts Debian, Ubuntu, RHEL, .* Linux guests; convert this guest by hand or with virt-v2v\.$/);
  });

  it('a LUKS-encrypted disk: refused as encrypted, not as "no operating system"', async () => {
    await expectRefused('luks', 'The source disks hold LUKS-encrypted volume (/dev/sda), which v2v cannot unlock yet (there is no --key support): remove the encryption in the source VM (e.g. "cryptsetup reencrypt --decrypt") and retry.');
  });

  it('too little free space in the guest (/ under 100 MiB free): refused before any change', async () => {
    await expectRefused('full', /^v2v: error: The guest's \/ filesystem has \d+\.\d MiB free, 100\.0 MiB is needed for conversion: free some space in the source VM and retry\.$/);
  });

  it('left every source image byte-identical', async () => {
    expect(await sha256(join(guests, 'multiboot.img'))).toBe(hashes['multiboot']);
    expect(await sha256(join(guests, 'luks.img'))).toBe(hashes['luks']);
    expect(await sha256(join(guests, 'rhel-full.img'))).toBe(hashes['full']);
  });

  it('--key is refused on the command line as not supported yet (exit 2, no launch)', async () => {
    const r = await runV2v(['-i', 'disk', join(guests, 'luks.img'), '-o', 'null', '--key', '/dev/sda:key:secret']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('v2v: error: --key is not supported yet (v2v cannot unlock LUKS volumes): remove the encryption in the source VM and retry without --key.');
  });
});

describe('RHEL-like minimal guest (Rocky 9 files, stand-in rpm/dracut/grub2-mkconfig)', () => {
  let run: V2vRun;
  let out: string;
  let sourceHash: string;
  let s: Record<string, string>;

  beforeAll(async () => {
    sourceHash = await sha256(join(guests, 'rhel.img'));
    ({ run, out } = await convert('rhel.img'));
    console.log(`RHEL-like conversion: exit ${run.exitCode} in ${run.seconds.toFixed(1)} s`);
    if (run.exitCode !== 0) return;
    const t = Date.now();
    s = sections(
      await guestfishRead(join(out, 'guest-sda'), 'qcow2', [
        'echo ==fstab==', 'cat /etc/fstab',
        'echo ==crypttab==', 'cat /etc/crypttab',
        'echo ==grub==', 'cat /etc/default/grub',
        'echo ==bls==', `cat /boot/loader/entries/0123456789abcdef-${KVER}.conf`,
        'echo ==standins==', 'cat /var/log/v2v-standins.log',
        'echo ==autorelabel==', 'exists /.autorelabel',
        'echo ==end==', '',
      ].join('\n')),
    );
    console.log(`read-back took ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }, 20 * MINUTE);

  it('converts (exit 0) and writes the disk and the domain XML', async () => {
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain('Converting Rocky Linux 9.3');
    expect((await readdir(out)).sort()).toEqual(['guest-sda', 'guest.xml']);
  });

  it('ran exactly these guest commands (logged by the stand-ins), in this order', () => {
    // The stand-in rpm lists no packages, and this libguestfs cannot read the
    // guest's sqlite rpmdb, so no `rpm -e` here: erasing is unit-tested only.
    expect(s['standins']?.trimEnd().split('\n')).toEqual([
      'rpm -qa --qf %{NAME}\\n',
      `dracut -f --add-drivers virtio_blk virtio_pci virtio_scsi virtio_net --kver ${KVER}`,
      'grub2-mkconfig -o /boot/grub2/grub.cfg',
    ]);
  });

  it('renamed sdX to vdX in fstab, crypttab, /etc/default/grub and the BLS entry, and added a serial console', () => {
    // guestfish's cat ends its output with blank lines of its own: compare the file's lines.
    expect(s['fstab']?.trimEnd()).toBe('/dev/vda2 / ext4 defaults 1 1\n/dev/vda1 /boot ext4 defaults 1 2\n/dev/vda3 none swap defaults 0 0');
    expect(s['crypttab']?.trimEnd()).toBe('luks-data /dev/vda4 none');
    expect(s['grub']).toContain('GRUB_CMDLINE_LINUX="crashkernel=1G-4G:192M resume=/dev/vda3 rhgb quiet console=tty0 console=ttyS0,115200"\n');
    expect(s['bls']).toContain('options root=/dev/vda2 ro crashkernel=1G-4G:192M resume=/dev/vda3 rhgb quiet console=tty0 console=ttyS0,115200\n');
    expect(s['bls']).not.toMatch(/\/dev\/sd/);
  });

  it('asked for an SELinux relabel (SELINUX=enforcing): /.autorelabel exists', () => {
    expect(s['autorelabel']?.trim()).toBe('true');
  });

  it('left the source image byte-identical', async () => {
    expect(await sha256(join(guests, 'rhel.img'))).toBe(sourceHash);
  });
});
