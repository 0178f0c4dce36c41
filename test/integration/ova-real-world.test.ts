/**
 * OVAs as VMware really exports them (issue #16 item 10), as tar archives
 * of real VMDKs made by qemu-img: every .mf is checked (two manifests, one
 * garbled, cannot pass with a "no manifest" warning), a manifest line for a
 * file the OVA leaves out is a warning, and numbered snapshot disk files
 * (disk1.vmdk.000000002 for disk1.vmdk) resolve to the newest; a disk
 * with ovf:compression="gzip" (ovftool --compress) is decompressed into the
 * run's temp dir.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanups } from '../../src/host/cleanup.js';
import { SourceError } from '../../src/errors.js';
import type { InputRun } from '../../src/input/types.js';
import { ovaInput } from '../../src/input/ova/input.js';

let work: string;
let disk: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'v2v-ova-real-'));
  disk = path.join(work, 'disk.vmdk');
  await execa('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', disk, '4M']);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const ovf = `<?xml version="1.0"?><Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"><References><File ovf:href="g-disk1.vmdk" ovf:id="f1"/></References><DiskSection><Info>d</Info><Disk ovf:capacity="4" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="d1" ovf:fileRef="f1"/></DiskSection><VirtualSystem ovf:id="g"><Info>v</Info><Name>g</Name><VirtualHardwareSection><Info>h</Info><Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType></Item><Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item></VirtualHardwareSection></VirtualSystem></Envelope>`;

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** Packs `files` (name → content or a file to copy) into NAME.ova with tar. */
async function ova(name: string, files: Record<string, string | { copy: string }>): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir);
  for (const [file, content] of Object.entries(files)) {
    if (typeof content === 'string') await writeFile(path.join(dir, file), content);
    else await copyFile(content.copy, path.join(dir, file));
  }
  const archive = path.join(work, `${name}.ova`);
  await execa('tar', ['-cf', archive, '-C', dir, ...Object.keys(files)]);
  return archive;
}

async function load(archive: string): ReturnType<ReturnType<typeof ovaInput>['load']> {
  const run: InputRun = { tmpdir: await mkdtemp(path.join(work, 'run-')), cleanup: new Cleanups() };
  return ovaInput(archive).load(run);
}

describe('OVAs as exported', () => {
  it('checks every .mf: a second, garbled or wrong manifest fails the OVA', async () => {
    await writeFile(path.join(work, 'g.ovf'), ovf);
    const good = `SHA256(g.ovf)= ${await sha256(path.join(work, 'g.ovf'))}\nSHA256(g-disk1.vmdk)= ${await sha256(disk)}\n`;
    const wrong = await ova('two-mf', {
      'g.ovf': ovf,
      'g-disk1.vmdk': { copy: disk },
      'g.mf': good,
      'extra.mf': `SHA256(g-disk1.vmdk)= ${'0'.repeat(64)}\n`,
    });
    const error = await load(wrong).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/^g-disk1\.vmdk in .*two-mf\.ova does not match its SHA256 checksum/);
    const garbled = await ova('garbled-mf', {
      'g.ovf': ovf,
      'g-disk1.vmdk': { copy: disk },
      'a.mf': 'garbage\n',
      'b.mf': 'more garbage\n',
    });
    const error2 = await load(garbled).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error2 as Error).message).toMatch(/^The manifest a\.mf in .*garbled-mf\.ova has no checksum line: the OVA is corrupt/);
    const fine = await ova('one-good-mf', { 'g.ovf': ovf, 'g-disk1.vmdk': { copy: disk }, 'g.mf': good, 'copy.mf': good });
    expect((await load(fine)).warnings.filter((w) => /manifest/.test(w))).toEqual([]);
  });

  it('warns about a manifest line for a file the OVA leaves out, and goes on', async () => {
    const mf = `SHA256(g-disk1.vmdk)= ${await sha256(disk)}\nSHA256(g.nvram)= ${'1'.repeat(64)}\n`;
    const archive = await ova('listed-missing', { 'g.ovf': ovf, 'g-disk1.vmdk': { copy: disk }, 'g.mf': mf });
    const source = await load(archive);
    expect(source.disks).toHaveLength(1);
    expect(source.warnings.filter((w) => /manifest/.test(w))).toEqual([
      expect.stringMatching(/^the manifest g\.mf lists g\.nvram, which is not in .*listed-missing\.ova; it is not checked$/),
    ]);
  });

  it('resolves disk1.vmdk to the newest numbered file disk1.vmdk.000000002', async () => {
    const older = path.join(work, 'older.vmdk');
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', older, '8M']);
    const archive = await ova('numbered', {
      'g.ovf': ovf,
      'g-disk1.vmdk.000000001': { copy: older },
      'g-disk1.vmdk.000000002': { copy: disk },
    });
    const source = await load(archive);
    expect(path.basename(source.disks[0]!.path)).toBe('g-disk1.vmdk.000000002');
    expect(source.disks[0]!.format).toBe('vmdk');
    expect(await sha256(source.disks[0]!.path)).toBe(await sha256(disk));
    expect(source.warnings).toContainEqual(
      expect.stringMatching(/^g-disk1\.vmdk is not in .*numbered\.ova but g-disk1\.vmdk\.000000002 is: the newest numbered file is used/),
    );
  });

  it('decompresses a gzip disk (ovf:compression="gzip") into the run temp dir and reads it as a VMDK', async () => {
    const gz = path.join(work, 'disk.vmdk.gz');
    await writeFile(gz, gzipSync(await readFile(disk)));
    const compressed = ovf.replace('ovf:href="g-disk1.vmdk"', 'ovf:href="g-disk1.vmdk" ovf:compression="gzip"');
    const archive = await ova('gzip', {
      'g.ovf': compressed,
      'g-disk1.vmdk': { copy: gz },
      'g.mf': `SHA256(g-disk1.vmdk)= ${await sha256(gz)}\n`,
    });
    const run: InputRun = { tmpdir: await mkdtemp(path.join(work, 'run-')), cleanup: new Cleanups() };
    const source = await ovaInput(archive).load(run);
    expect(source.disks[0]!.path).toBe(path.join(run.tmpdir, 'gunzip', 'g-disk1.vmdk'));
    expect(source.disks[0]!.format).toBe('vmdk');
    expect(await sha256(source.disks[0]!.path)).toBe(await sha256(disk));
    // Not gzip after all: a clear error, not a qemu failure later.
    const lying = await ova('gzip-lie', { 'g.ovf': compressed, 'g-disk1.vmdk': { copy: disk } });
    const error = await load(lying).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(
      /^The disk file g-disk1\.vmdk in .*gzip-lie\.ova is declared gzip-compressed but cannot be decompressed/,
    );
  });
});
