/**
 * The -i ova, -i disk, -i libvirtxml and -i vmx inputs on real images made by
 * qemu-img (no appliance: each test takes well under a second). The VMDK
 * variants VMware writes are built with qemu-img and read back through a
 * qcow2 overlay, which is how the pipeline reads every source disk.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOverlay, imageInfo } from '../../drivers/qemu-img.js';
import { Cleanups } from '../../src/host/cleanup.js';
import { SourceError } from '../../src/errors.js';
import { diskInput } from '../../src/input/disk.js';
import type { Input, InputRun } from '../../src/input/types.js';
import { libvirtXmlInput } from '../../src/input/libvirtxml/input.js';
import { ovaInput } from '../../src/input/ova/input.js';
import { vmxInput } from '../../src/input/vmx/input.js';

const MiB = 2 ** 20;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'v2v-inputs-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs a tool for test setup; throws with its stderr on failure. */
async function sh(program: string, ...args: string[]): Promise<string> {
  return (await execa(program, args)).stdout;
}

/** Creates an image; `opts` goes to -o. */
async function createImage(file: string, format: string, size: number, opts?: string): Promise<void> {
  await sh('qemu-img', 'create', '-q', '-f', format, ...(opts ? ['-o', opts] : []), file, String(size));
}

/** Writes 64 KiB of 0xab at offset 0. */
async function writePattern(file: string, format: string): Promise<void> {
  await sh('qemu-io', '-f', format, '-c', 'write -P 0xab 0 64k', file);
}

/** True when the image reads 64 KiB of 0xab at offset 0. */
async function hasPattern(file: string, format: string): Promise<boolean> {
  const result = await execa('qemu-io', ['-r', '-f', format, '-c', 'read -P 0xab 0 64k', file], { reject: false });
  return result.exitCode === 0 && !/Pattern verification failed/.test(result.stdout);
}

/** Loads an input with a fresh temp dir, as the source stage does. */
async function load(input: Input): Promise<{ source: Awaited<ReturnType<Input['load']>>; run: InputRun }> {
  const run: InputRun = { tmpdir: await mkdtemp(path.join(work, 'run-')), cleanup: new Cleanups() };
  return { source: await input.load(run), run };
}

/** What an input's load rejects with. */
async function loadError(input: Input): Promise<Error> {
  const error = await load(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as Error;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** An OVF as vSphere exports it: one SCSI disk (a streamOptimized VMDK) and one vmxnet3 NIC. */
function ovfText(diskFile: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="${diskFile}" ovf:id="file1"/></References>
  <DiskSection><Info>disks</Info>
    <Disk ovf:capacity="16" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="tiny"><Info>A virtual machine</Info><Name>tiny-ova</Name>
    <VirtualHardwareSection><Info>hardware</Info>
      <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Connection>VM Network</rasd:Connection><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

describe('-i ova on real archives', () => {
  let ovfDir: string;
  const files = ['tiny.ovf', 'tiny.mf', 'tiny-disk1.vmdk'];

  /** Tars the OVF directory (plus `extra` files from it) into `name` with extra tar flags. */
  async function pack(name: string, flags: string[] = [], dir = ovfDir, members = files): Promise<string> {
    const archive = path.join(work, name);
    await sh('tar', '-c', ...flags, '-f', archive, '-C', dir, ...members);
    return archive;
  }

  beforeAll(async () => {
    ovfDir = path.join(work, 'ovf');
    await mkdir(ovfDir);
    const disk = path.join(ovfDir, 'tiny-disk1.vmdk');
    await createImage(disk, 'vmdk', 16 * MiB, 'subformat=streamOptimized');
    await writePattern(disk, 'vmdk');
    await writeFile(path.join(ovfDir, 'tiny.ovf'), ovfText('tiny-disk1.vmdk'));
    const mf = [`SHA256(tiny.ovf)= ${await sha256(path.join(ovfDir, 'tiny.ovf'))}`, `SHA256(tiny-disk1.vmdk)= ${await sha256(disk)}`];
    await writeFile(path.join(ovfDir, 'tiny.mf'), `${mf.join('\n')}\n`);
  });

  it('extracts a tar OVA, verifies it and returns disks qemu-img reads with the original data', async () => {
    const { source, run } = await load(ovaInput(await pack('tiny.ova')));
    expect(source).toEqual({
      name: 'tiny-ova',
      memoryMiB: 1024,
      vcpus: 2,
      firmware: 'uefi',
      secureBoot: false,
      disks: [
        {
          path: path.join(run.tmpdir, 'ova', 'tiny-disk1.vmdk'),
          format: 'vmdk',
          bus: 'scsi',
          controller: 0,
          unit: 0,
          controllerModel: 'pvscsi',
        },
      ],
      removables: [],
      nics: [{ model: 'vmxnet3', network: 'VM Network' }],
      warnings: [],
    });
    const disk = source.disks[0]?.path ?? '';
    expect(await imageInfo(disk, 'vmdk')).toMatchObject({ format: 'vmdk', virtualSize: 16 * MiB });
    await sh('qemu-img', 'compare', '-q', '-f', 'vmdk', '-F', 'vmdk', disk, path.join(ovfDir, 'tiny-disk1.vmdk'));
    expect(await hasPattern(disk, 'vmdk')).toBe(true);
  });

  it('reads gzip-compressed and zip OVAs too', async () => {
    const gz = await load(ovaInput(await pack('tiny-gz.ova', ['-z'])));
    expect(gz.source.disks).toHaveLength(1);
    const zip = path.join(work, 'tiny-zip.ova');
    await sh('zip', '-q', '-j', zip, ...files.map((f) => path.join(ovfDir, f)));
    const zipped = await load(ovaInput(zip));
    expect(await imageInfo(zipped.source.disks[0]?.path ?? '', 'vmdk')).toMatchObject({ virtualSize: 16 * MiB });
  });

  it('reads an exported OVF directory in place', async () => {
    const { source } = await load(ovaInput(ovfDir));
    expect(source.disks.map((d) => d.path)).toEqual([path.join(ovfDir, 'tiny-disk1.vmdk')]);
    expect(source.warnings).toEqual([]);
  });

  it('refuses a tar OVA whose manifest does not match, naming the file', async () => {
    const bad = path.join(work, 'bad-mf');
    await mkdir(bad);
    await sh('cp', ...files.map((f) => path.join(ovfDir, f)), bad);
    const mf = await readFile(path.join(bad, 'tiny.mf'), 'utf8');
    await writeFile(
      path.join(bad, 'tiny.mf'),
      mf.replace(/(tiny-disk1\.vmdk\)= )(.)/, (_m, head: string, c: string) => head + (c === '0' ? '1' : '0')),
    );
    const archive = await pack('bad-mf.ova', [], bad);
    expect((await loadError(ovaInput(archive))).message).toBe(
      `tiny-disk1.vmdk in ${archive} does not match its SHA256 checksum in the manifest: the OVA is corrupt, download or export it again.`,
    );
    expect((await loadError(ovaInput(bad))).message).toMatch(/^tiny-disk1\.vmdk in .*bad-mf does not match its SHA256 checksum/);
  });

  it('refuses a directory whose disk was damaged after export', async () => {
    const damaged = path.join(work, 'damaged');
    await mkdir(damaged);
    await sh('cp', ...files.map((f) => path.join(ovfDir, f)), damaged);
    await writeFile(path.join(damaged, 'tiny-disk1.vmdk'), Buffer.from('garbage'), { flag: 'a' });
    expect((await loadError(ovaInput(damaged))).message).toMatch(/tiny-disk1\.vmdk in .* does not match its SHA256 checksum/);
  });

  it('refuses an OVA missing a file its manifest lists, one without .ovf, and a file that is no archive', async () => {
    const missing = await pack('missing.ova', [], ovfDir, ['tiny.ovf', 'tiny.mf']);
    expect((await loadError(ovaInput(missing))).message).toMatch(
      /^The disk file tiny-disk1\.vmdk named by tiny\.ovf in .*missing\.ova is missing \(ENOENT\): the OVA is incomplete/,
    );
    const noOvf = await pack('no-ovf.ova', [], ovfDir, ['tiny-disk1.vmdk']);
    expect((await loadError(ovaInput(noOvf))).message).toMatch(/must hold exactly one \.ovf descriptor but has none/);
    const junk = path.join(work, 'junk.ova');
    await writeFile(junk, 'this is not an archive\n'.repeat(40));
    expect((await loadError(ovaInput(junk))).message).toMatch(/^Cannot extract the OVA .*junk\.ova with tar/);
    expect((await loadError(ovaInput(path.join(work, 'nope.ova')))).message).toMatch(/Cannot read the OVA .*nope\.ova \(ENOENT\)/);
  });

  it('refuses a disk that is a symlink inside the archive', async () => {
    const linked = path.join(work, 'linked');
    await mkdir(linked);
    await sh('cp', path.join(ovfDir, 'tiny.ovf'), linked);
    await sh('ln', '-s', path.join(ovfDir, 'tiny-disk1.vmdk'), path.join(linked, 'tiny-disk1.vmdk'));
    const archive = await pack('linked.ova', [], linked, ['tiny.ovf', 'tiny-disk1.vmdk']);
    expect((await loadError(ovaInput(archive))).message).toMatch(
      /^The OVA .*linked\.ova contains tiny-disk1\.vmdk, which is a symbolic link/,
    );
    // In a directory the user points at, a link may stay inside it, not lead out of it.
    expect((await loadError(ovaInput(linked))).message).toMatch(/^The disk file tiny-disk1\.vmdk in .*linked resolves to .*, outside /);
    const inside = path.join(linked, 'disks');
    await mkdir(inside);
    await sh('mv', path.join(linked, 'tiny-disk1.vmdk'), path.join(linked, 'tiny-disk1.vmdk.away'));
    await sh('cp', path.join(ovfDir, 'tiny-disk1.vmdk'), inside);
    await sh('ln', '-s', 'disks/tiny-disk1.vmdk', path.join(linked, 'tiny-disk1.vmdk'));
    expect((await load(ovaInput(linked))).source.disks).toHaveLength(1);
  });

  it('refuses a disk the OVF names but the OVA lacks, and warns when there is no manifest', async () => {
    const archive = await pack('no-disk.ova', [], ovfDir, ['tiny.ovf']);
    expect((await loadError(ovaInput(archive))).message).toMatch(
      /^The disk file tiny-disk1\.vmdk named by tiny\.ovf in .*no-disk\.ova is missing/,
    );
    const { source } = await load(ovaInput(await pack('no-mf.ova', [], ovfDir, ['tiny.ovf', 'tiny-disk1.vmdk'])));
    expect(source.warnings).toEqual([expect.stringMatching(/has no \.mf manifest, so its files are not checked/)]);
  });
});

describe('-i disk and -i libvirtxml on real images', () => {
  let raw: string;
  let qcow2: string;

  beforeAll(async () => {
    await mkdir(path.join(work, 'images', 'disks'), { recursive: true });
    raw = path.join(work, 'images', 'web-01.img');
    qcow2 = path.join(work, 'images', 'disks', 'data.qcow2');
    await createImage(raw, 'raw', 4 * MiB);
    await createImage(qcow2, 'qcow2', 8 * MiB);
  });

  it('-i disk: documented defaults, disks in argument order, -if sets the format', async () => {
    const { source } = await load(diskInput([raw, qcow2]));
    expect(source).toEqual({
      name: 'web-01',
      memoryMiB: 2048,
      vcpus: 2,
      firmware: 'bios',
      secureBoot: false,
      disks: [
        { path: raw, bus: 'scsi', controller: 0, unit: 0 },
        { path: qcow2, bus: 'scsi', controller: 0, unit: 1 },
      ],
      removables: [],
      nics: [{ network: 'default' }],
      warnings: [],
    });
    expect(await imageInfo(raw)).toMatchObject({ format: 'raw', virtualSize: 4 * MiB });
    expect(await imageInfo(qcow2)).toMatchObject({ format: 'qcow2', virtualSize: 8 * MiB });
    const pinned = await load(diskInput([raw], 'raw'));
    expect(pinned.source.disks[0]?.format).toBe('raw');
  });

  it('-i disk: needs at least one image', async () => {
    expect((await loadError(diskInput([]))).message).toMatch(/^-i disk needs at least one disk image/);
  });

  it('-i disk: names an unreadable image', async () => {
    const missing = path.join(work, 'images', 'missing.img');
    expect((await loadError(diskInput([raw, missing]))).message).toBe(
      `The disk image ${missing} cannot be read (ENOENT): check the path and permissions.`,
    );
  });

  it('-i libvirtxml: resolves relative paths against the XML and keeps the driver format', async () => {
    const xml = path.join(work, 'images', 'web-01.xml');
    await writeFile(
      xml,
      `<domain type='kvm'><name>web-01</name><memory unit='MiB'>512</memory><vcpu>1</vcpu><devices>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='disks/data.qcow2'/><target dev='vdb' bus='virtio'/></disk>
        <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${raw}'/><target dev='vda' bus='virtio'/></disk>
      </devices></domain>`,
    );
    const { source } = await load(libvirtXmlInput(xml));
    expect(source.disks).toEqual([
      { path: raw, format: 'raw', bus: 'virtio', controller: 0, unit: 0 },
      { path: qcow2, format: 'qcow2', bus: 'virtio', controller: 0, unit: 1 },
    ]);
    for (const disk of source.disks) expect((await imageInfo(disk.path, disk.format)).format).toBe(disk.format);

    await writeFile(xml, (await readFile(xml, 'utf8')).replace('disks/data.qcow2', 'disks/gone.qcow2'));
    expect((await loadError(libvirtXmlInput(xml))).message).toMatch(
      /^The disk .*disks\/gone\.qcow2 named in .*web-01\.xml cannot be read \(ENOENT\)/,
    );
    expect((await loadError(libvirtXmlInput(path.join(work, 'none.xml')))).message).toMatch(/Cannot read the libvirt XML file/);
  });
});

describe('-i vmx on the VMDK variants VMware writes', () => {
  const SIZE = 8 * MiB;
  let dir: string;

  beforeAll(async () => {
    dir = path.join(work, 'vmx');
    await mkdir(dir);
    await createImage(path.join(dir, 'flat.vmdk'), 'vmdk', SIZE, 'subformat=monolithicFlat');
    await createImage(path.join(dir, 'sparse.vmdk'), 'vmdk', SIZE, 'subformat=monolithicSparse');
    await createImage(path.join(dir, 'stream.vmdk'), 'vmdk', SIZE, 'subformat=streamOptimized');
    await createImage(path.join(dir, 'base.vmdk'), 'vmdk', SIZE);
    for (const name of ['flat', 'sparse', 'stream', 'base']) await writePattern(path.join(dir, `${name}.vmdk`), 'vmdk');
    // A snapshot: the child names its parent in its descriptor (parentFileNameHint), relative to itself.
    await sh('qemu-img', 'create', '-q', '-f', 'vmdk', '-b', 'base.vmdk', '-F', 'vmdk', path.join(dir, 'base-000001.vmdk'));
    const disks = ['flat.vmdk', 'sparse.vmdk', 'stream.vmdk', 'base-000001.vmdk'];
    const vmx = [
      '.encoding = "UTF-8"',
      'displayName = "vmdk-forms"',
      'memSize = "512"',
      'scsi0.present = "TRUE"',
      'scsi0.virtualDev = "lsilogic"',
      ...disks.flatMap((file, unit) => [`scsi0:${unit}.present = "TRUE"`, `scsi0:${unit}.fileName = "${file}"`]),
    ];
    await writeFile(path.join(dir, 'forms.vmx'), `${vmx.join('\n')}\n`);
  });

  it('writes a descriptor plus -flat extent and a child pointing at its parent', async () => {
    expect(await readFile(path.join(dir, 'flat.vmdk'), 'latin1')).toMatch(
      /createType="monolithicFlat"[\s\S]*RW 16384 FLAT "flat-flat\.vmdk" 0/,
    );
    expect(await readFile(path.join(dir, 'base-000001.vmdk'), 'latin1')).toContain('parentFileNameHint="base.vmdk"');
    expect(await imageInfo(path.join(dir, 'base-000001.vmdk'))).toMatchObject({ backingFilename: 'base.vmdk' });
    // The pattern check used below can fail: a blank image does not have it.
    const blank = path.join(work, 'blank.qcow2');
    await createImage(blank, 'qcow2', SIZE);
    expect(await hasPattern(blank, 'qcow2')).toBe(false);
  });

  it('each disk probes as vmdk with the right size and reads the same data through a qcow2 overlay', async () => {
    const { source, run } = await load(vmxInput(path.join(dir, 'forms.vmx')));
    expect(source.disks.map((d) => path.basename(d.path))).toEqual(['flat.vmdk', 'sparse.vmdk', 'stream.vmdk', 'base-000001.vmdk']);
    for (const [index, disk] of source.disks.entries()) {
      expect(await imageInfo(disk.path)).toMatchObject({ format: 'vmdk', virtualSize: SIZE });
      const overlay = path.join(run.tmpdir, `overlay${index}.qcow2`);
      await createOverlay(overlay, disk.path, 'vmdk');
      await sh('qemu-img', 'compare', '-q', '-f', 'qcow2', '-F', 'vmdk', overlay, disk.path);
      expect(await hasPattern(overlay, 'qcow2'), disk.path).toBe(true);
    }
  });
});
