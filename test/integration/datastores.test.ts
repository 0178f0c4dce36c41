/**
 * Datastore layouts on the built v2v, with tiny disks made by qemu-img and
 * a real sshd on loopback (test/helpers/sshd.mjs): a VM whose .vmx names a
 * disk on another "datastore" by an absolute path and one by `../`, as ESXi
 * writes them for data disks kept on other datastores. `--print-source`
 * stops after the source stage (every disk opened and checked, nbdkit
 * serving the remote ones), so nothing is converted; the conversions that
 * boot such a VM are in test/e2e/remote-sources.test.ts (SSH) and
 * test/e2e/uefi-lvm.test.ts (local, --allow-dir).
 * - Locally: refused by default, naming --allow-dir; allowed directory by
 *   directory; what an allowed disk names (extents, symlinks) is still
 *   checked; FIFOs still refused.
 * - Over SSH: absolute and `../` paths resolve on the server; a FIFO, a
 *   device, a directory or a missing file is refused at once, whether it is
 *   the disk, or the extent its descriptor names.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd } from '../helpers/sshd.mjs';
import { runV2v } from '../helpers/v2v.js';

const MiB = 2 ** 20;
/** Each run is a few seconds (node, ssh connections, nbdkit); generous for a loaded 2-core machine. */
const TIMEOUT = 90_000;

let work: string;
let ds1: string;
let ds2: string;
let ds3: string;
let vmx: string;

/** A .vmx naming `names` as the hard disks scsi0:0, scsi0:1, ... */
function vmxText(...names: string[]): string {
  return [
    'displayName = "web01"',
    'scsi0.present = "TRUE"',
    'scsi0.virtualDev = "pvscsi"',
    ...names.flatMap((name, unit) => [
      `scsi0:${unit}.present = "TRUE"`,
      `scsi0:${unit}.deviceType = "scsi-hardDisk"`,
      `scsi0:${unit}.fileName = "${name}"`,
    ]),
    '',
  ].join('\n');
}

/** A monolithicFlat descriptor (as ESXi's web01_1.vmdk beside web01_1-flat.vmdk) naming `extent`. */
function descriptor(extent: string, sectors = 2048): string {
  return [
    '# Disk DescriptorFile',
    'version=1',
    'CID=fffffffe',
    'parentCID=ffffffff',
    'createType="monolithicFlat"',
    '',
    '# Extent description',
    `RW ${sectors} FLAT "${extent}" 0`,
    '',
    '# The Disk Data Base',
    '#DDB',
    'ddb.virtualHWVersion = "4"',
    'ddb.adapterType = "lsilogic"',
    '',
  ].join('\n');
}

/** The disks of a --print-source run. */
function printedDisks(stdout: string): Array<{ path: string; format?: string; unit: number }> {
  return (JSON.parse(stdout) as { disks: Array<{ path: string; format?: string; unit: number }> }).disks;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-datastores-'));
  // /vmfs/volumes/{ds1,ds2,ds3} as three directories: the VM on ds1, a data disk on ds2 named by its
  // absolute path, one on ds3 named by ../../ds3/...
  [ds1, ds2, ds3] = [join(work, 'ds1'), join(work, 'ds2'), join(work, 'ds3')];
  for (const ds of [ds1, ds2, ds3]) await mkdir(join(ds, 'web01'), { recursive: true });
  await execa('qemu-img', ['create', '-q', '-f', 'vmdk', join(ds1, 'web01', 'web01.vmdk'), String(16 * MiB)]);
  await execa('qemu-img', [
    'create',
    '-q',
    '-f',
    'vmdk',
    '-o',
    'subformat=monolithicFlat',
    join(ds2, 'web01', 'web01_1.vmdk'),
    String(MiB),
  ]);
  await execa('qemu-img', ['create', '-q', '-f', 'vmdk', join(ds3, 'web01', 'web01_2.vmdk'), String(MiB)]);
  vmx = join(ds1, 'web01', 'web01.vmx');
  await writeFile(vmx, vmxText('web01.vmdk', join(ds2, 'web01', 'web01_1.vmdk'), '../../ds3/web01/web01_2.vmdk'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a local .vmx with disks on other datastores', () => {
  it(
    'is refused by default (exit 4), the error naming the disk, where it resolves and --allow-dir',
    async () => {
      const r = await runV2v(['-i', 'vmx', vmx, '--print-source']);
      expect(r.exitCode, r.stderr).toBe(4);
      expect(r.stderr).toContain(
        `v2v: error: The disk ${join(ds2, 'web01', 'web01_1.vmdk')} named by scsi0:1 in ${vmx} resolves to ${join(ds2, 'web01', 'web01_1.vmdk')}, outside ${join(ds1, 'web01')}: v2v reads only files inside the .vmx's directory unless allowed: if you trust this .vmx and the disk is on another datastore, allow that directory with --allow-dir DIR (repeatable)`,
      );
      expect(r.stdout).toBe('');
    },
    TIMEOUT,
  );

  it(
    'is read with --allow-dir for each datastore, and refused while one is missing',
    async () => {
      const one = await runV2v(['-i', 'vmx', vmx, '--allow-dir', ds2, '--print-source']);
      expect(one.exitCode, one.stderr).toBe(4);
      expect(one.stderr).toMatch(
        new RegExp(
          `The disk ${join(ds3, 'web01', 'web01_2.vmdk')} named by scsi0:2 .* outside ${join(ds1, 'web01')} and the --allow-dir directories \\(${ds2}\\): `,
        ),
      );
      const both = await runV2v(['-i', 'vmx', vmx, '--allow-dir', ds2, '--allow-dir', join(ds3, 'web01'), '--print-source']);
      expect(both.exitCode, both.stderr).toBe(0);
      expect(printedDisks(both.stdout).map((d) => [d.unit, d.path, d.format])).toEqual([
        [0, join(ds1, 'web01', 'web01.vmdk'), 'vmdk'],
        [1, join(ds2, 'web01', 'web01_1.vmdk'), 'vmdk'],
        [2, join(ds3, 'web01', 'web01_2.vmdk'), 'vmdk'],
      ]);
    },
    TIMEOUT,
  );

  it(
    'still checks what an allowed disk names: an extent or a symlink leading elsewhere, a FIFO',
    async () => {
      const victim = join(work, 'victim');
      await mkdir(victim);
      await writeFile(join(victim, 'secret'), 'root:x:0:0\n');
      const bad = join(work, 'ds4');
      await mkdir(join(bad, 'web01'), { recursive: true });
      const refused = async (fileName: string): Promise<string> => {
        await writeFile(join(bad, 'web01', 'web01.vmx'), vmxText(fileName));
        const r = await runV2v(['-i', 'vmx', join(bad, 'web01', 'web01.vmx'), '--allow-dir', ds2, '--print-source']);
        expect(r.exitCode, r.stderr).toBe(4);
        return r.stderr;
      };
      await writeFile(join(ds2, 'web01', 'extent-out.vmdk'), descriptor('../../victim/secret'));
      expect(await refused(join(ds2, 'web01', 'extent-out.vmdk'))).toMatch(
        /The extent \.\.\/\.\.\/victim\/secret of The disk .*extent-out\.vmdk .* resolves to .*victim\/secret, outside .*ds4\/web01 and the --allow-dir directories/,
      );
      await symlink(join(victim, 'secret'), join(ds2, 'web01', 'link.vmdk'));
      expect(await refused(join(ds2, 'web01', 'link.vmdk'))).toMatch(
        /link\.vmdk named by scsi0:0 .* resolves to .*victim\/secret, outside /,
      );
      await execa('mkfifo', [join(ds2, 'web01', 'fifo.vmdk')]);
      const started = Date.now();
      expect(await refused(join(ds2, 'web01', 'fifo.vmdk'))).toMatch(/fifo\.vmdk named by scsi0:0 .* is a FIFO, not a disk image file/);
      expect(Date.now() - started).toBeLessThan(15_000);
    },
    TIMEOUT,
  );

  it(
    'refuses an --allow-dir that is not a directory before anything runs (exit 2)',
    async () => {
      const r = await runV2v(['-i', 'vmx', vmx, '--allow-dir', join(work, 'nowhere'), '--print-source']);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(`v2v: error: --allow-dir ${join(work, 'nowhere')} does not exist: name the directory`);
    },
    TIMEOUT,
  );
});

describe('the same .vmx over SSH (a real sshd on loopback)', () => {
  let sshd: Awaited<ReturnType<typeof startSshd>>;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  const url = (path: string): string => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${path}`;
  const overSsh = (path: string, ...more: string[]) =>
    runV2v([
      '-i',
      'vmx',
      '-it',
      'ssh',
      url(path),
      '--ssh-identity',
      sshd.identity,
      '--known-hosts',
      sshd.knownHosts,
      ...more,
      '--print-source',
    ]);

  it(
    'reads the disks named by absolute and ../ paths on the server, with no option',
    async () => {
      const r = await overSsh(vmx);
      expect(r.exitCode, r.stderr).toBe(0);
      // The flat VMDK on ds2 is served as its raw extent; the sparse ones as vmdk.
      expect(printedDisks(r.stdout).map((d) => [d.unit, d.path, d.format])).toEqual([
        [0, url(join(ds1, 'web01', 'web01.vmdk')), 'vmdk'],
        [1, url(join(ds2, 'web01', 'web01_1.vmdk')), 'raw'],
        [2, url(join(ds3, 'web01', 'web01_2.vmdk')), 'vmdk'],
      ]);
    },
    TIMEOUT,
  );

  it(
    'refuses --allow-dir with a remote .vmx (exit 2)',
    async () => {
      const r = await overSsh(vmx, '--allow-dir', ds2);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--allow-dir names directories of this host, for a local \.vmx: remove it/);
    },
    TIMEOUT,
  );

  it('refuses at once a disk, or the extent of its descriptor, that is a FIFO, a device, a directory or missing on the server', async () => {
    const dir = join(work, 'ds5', 'web01');
    await mkdir(dir, { recursive: true });
    await execa('mkfifo', [join(dir, 'fifo.vmdk')]);
    await writeFile(join(dir, 'fifo-extent.vmdk'), descriptor('fifo.vmdk'));
    await writeFile(join(dir, 'zero-extent.vmdk'), descriptor('/dev/zero'));
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'fifo.vmdk'), /^v2v: error: ssh:\/\/\S+\/ds5\/web01\/fifo\.vmdk is a FIFO on the SSH server, not a regular file: /m],
      ['/dev/zero', /^v2v: error: ssh:\/\/\S+\/dev\/zero is a character device on the SSH server, not a regular file: /m],
      ['../../ds5', /^v2v: error: ssh:\/\/\S+\/ds5 is a directory on the SSH server, not a regular file: /m],
      ['../../ds5/web01/none.vmdk', /^v2v: error: ssh:\/\/\S+\/ds5\/web01\/none\.vmdk does not exist on the SSH server: check the path/m],
      // A flat extent is served, not read: nbdkit would block on the FIFO or serve the device.
      [join(dir, 'fifo-extent.vmdk'), /^v2v: error: ssh:\/\/\S+\/ds5\/web01\/fifo\.vmdk is a FIFO on the SSH server/m],
      [join(dir, 'zero-extent.vmdk'), /^v2v: error: ssh:\/\/\S+\/dev\/zero is a character device on the SSH server/m],
    ];
    for (const [fileName, error] of cases) {
      const vmxPath = join(dir, 'web01.vmx');
      await writeFile(vmxPath, vmxText(fileName));
      const started = Date.now();
      const r = await overSsh(vmxPath);
      expect(r.exitCode, `${fileName}: ${r.stderr}`).toBe(4);
      expect(r.stderr, fileName).toMatch(error);
      // Well below the 30 s a blocked read would take to time out.
      expect(Date.now() - started, fileName).toBeLessThan(15_000);
    }
    // Control: a regular file there is read.
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', join(dir, 'ok.vmdk'), String(MiB)]);
    await writeFile(join(dir, 'web01.vmx'), vmxText('ok.vmdk'));
    expect((await overSsh(join(dir, 'web01.vmx'))).exitCode).toBe(0);
  }, 180_000);
});
