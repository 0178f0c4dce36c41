/**
 * Warnings an input found before its load failed reach the user, before the
 * error: each input puts them in InputRun.warnings as it finds them, the
 * source stage reports them failed or not, and main shows them before the
 * error line. The CLI cases (test/integration/input-warnings.test.ts) run
 * the built v2v on sources that fail in the source stage.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cleanups } from '../../src/host/cleanup.js';
import { SourceError } from '../../src/errors.js';
import type { Input } from '../../src/input/types.js';
import { libvirtXmlInput } from '../../src/input/libvirtxml/input.js';
import { ovaInput } from '../../src/input/ova/input.js';
import { vmxInput } from '../../src/input/vmx/input.js';
import { capWarnings, WARNINGS_PER_FILE_VERBOSE } from '../../src/input/file-warnings.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-input-warnings-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A file under the test dir with this text; returns its path. */
function file(name: string, text: string): string {
  const path = join(work, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const MEMSIZE_WARNING = /^line 2 of .*: memSize = "lots" is not a positive whole number; it is ignored$/;
/** A .vmx with an unusable memSize (a warning) whose only disk does not exist (the load fails after parsing). */
const missingDiskVmx = file(
  'missing-disk/w.vmx',
  'displayName = "w"\nmemSize = "lots"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "gone.vmdk"\n',
);
/** A .vmx with the same warning and no disk at all (the parser itself fails). */
const noDiskVmx = file('no-disk/w.vmx', 'displayName = "w"\nmemSize = "lots"\n');

/** Loads `input` and returns the warnings put in the run and the error it failed with. */
async function failedLoad(input: Input): Promise<{ warnings: string[]; error: unknown }> {
  const warnings: string[] = [];
  const cleanup = new Cleanups();
  const error = await input.load({ tmpdir: mkdtempSync(join(work, 'run-')), cleanup, warnings }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await cleanup.run(true);
  return { warnings, error };
}

describe('inputs keep the warnings found before a failed load', () => {
  it('-i vmx: the disk check fails after parsing', async () => {
    const { warnings, error } = await failedLoad(vmxInput(missingDiskVmx));
    expect(error).toBeInstanceOf(SourceError);
    expect(warnings).toEqual([expect.stringMatching(MEMSIZE_WARNING)]);
  });

  it('-i vmx: the parser fails (no disks) after a warning', async () => {
    const { warnings, error } = await failedLoad(vmxInput(noDiskVmx));
    expect((error as Error).message).toMatch(/has no disks/);
    expect(warnings).toEqual([expect.stringMatching(MEMSIZE_WARNING)]);
  });

  it('-i libvirtxml: the parser fails (no disks) after a warning', async () => {
    const xml = file(
      'domain.xml',
      "<domain type='kvm'><name>d</name><memory unit='MiB'>512</memory><vcpu>many</vcpu><devices/></domain>\n",
    );
    const { warnings, error } = await failedLoad(libvirtXmlInput(xml));
    expect((error as Error).message).toMatch(/has no disks/);
    expect(warnings).toEqual([expect.stringMatching(/<vcpu>many<\/vcpu> is not a positive whole number; the guest gets 1 vCPU$/)]);
  });

  it('-i ova: a missing disk file fails the load after the no-manifest warning', async () => {
    const dir = join(work, 'ova');
    file(
      'ova/g.ovf',
      `<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="file1" ovf:href="g-disk1.vmdk"/></References>
  <DiskSection><Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="16777216"/></DiskSection>
  <VirtualSystem ovf:id="g"><Name>g</Name><VirtualHardwareSection>
    <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
    <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>
    <Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType></Item>
    <Item><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType><rasd:AddressOnParent>0</rasd:AddressOnParent></Item>
  </VirtualHardwareSection></VirtualSystem>
</Envelope>
`,
    );
    const { warnings, error } = await failedLoad(ovaInput(dir));
    expect((error as Error).message).toMatch(/g-disk1\.vmdk .*is missing/);
    expect(warnings).toEqual([expect.stringMatching(/has no \.mf manifest, so its files are not checked/)]);
  });
});

/** Loads `input`; returns the warnings put in the run, and the error (undefined when it loaded). */
async function load(input: Input, warningsPerFile?: number): Promise<{ warnings: string[]; error: unknown }> {
  const warnings: string[] = [];
  const cleanup = new Cleanups();
  const run = { tmpdir: mkdtempSync(join(work, 'run-')), cleanup, warnings, ...(warningsPerFile !== undefined ? { warningsPerFile } : {}) };
  const error = await input.load(run).then(
    () => undefined,
    (e: unknown) => e,
  );
  await cleanup.run(true);
  return { warnings, error };
}

/** `length` bytes that look random (a fixed linear congruential sequence: the same every run). */
function noise(length: number): Buffer {
  let x = 12345;
  return Buffer.from(Array.from({ length }, () => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24)));
}

/** A file under the test dir with these bytes; returns its path. */
function bytesFile(name: string, bytes: Buffer): string {
  const path = join(work, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

describe('metadata that is not text is one error naming what it looks like', () => {
  it('100 KB of random bytes as a .vmx: one SourceError, no warning (not 886 lines, then "has no disks")', async () => {
    const vmx = bytesFile('binary/random.vmx', noise(100 * 1024));
    const { warnings, error } = await load(vmxInput(vmx));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).exitCode).toBe(4);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The VMX file ${vmx} is not a text file: it looks like binary data \\(it starts with "(\\\\x[0-9a-f]{2}|[^"\\\\]){1,8}"\\): check that the path names the right file\\.$`,
      ),
    );
    expect(warnings).toEqual([]);
  });

  it('a sparse VMDK given as the .vmx, a gzip as the .ovf, a zip as the .mf, a qcow2 as the domain XML: named by their magic', async () => {
    const sparse = Buffer.alloc(4096);
    Buffer.from('KDMV\x01\x00\x00\x00', 'latin1').copy(sparse);
    const vmdk = await load(vmxInput(bytesFile('binary/disk.vmx', sparse)));
    expect((vmdk.error as Error).message).toMatch(
      /is not a text file: it looks like a sparse VMDK disk image \(it starts with "KDMV\\x01\\x00\\x00\\x00"\): pass the file that describes the VM \(a bare disk image is converted with "-i disk IMAGE"\)\.$/,
    );

    const gz = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), noise(2000)]);
    bytesFile('binary-ova/g.ovf', gz);
    const ovf = await load(ovaInput(join(work, 'binary-ova')));
    expect((ovf.error as Error).message).toMatch(
      /^The OVF descriptor .*g\.ovf is not a text file: it looks like a gzip archive .*"-i ova FILE"/,
    );

    file('binary-mf/g.ovf', '<Envelope/>');
    bytesFile('binary-mf/g.mf', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)]));
    const mf = await load(ovaInput(join(work, 'binary-mf')));
    expect((mf.error as Error).message).toMatch(/^The manifest .*g\.mf is not a text file: it looks like a zip archive/);

    const qcow2 = Buffer.concat([Buffer.from('QFI\xfb\x00\x00\x00\x03', 'latin1'), Buffer.alloc(500)]);
    const xml = await load(libvirtXmlInput(bytesFile('binary/domain.xml', qcow2)));
    expect((xml.error as Error).message).toMatch(
      /^The libvirt XML file .*domain\.xml is not a text file: it looks like a qcow2 disk image/,
    );
    expect([vmdk, ovf, mf, xml].every((r) => r.error instanceof SourceError)).toBe(true);
    expect([vmdk.warnings, mf.warnings, xml.warnings]).toEqual([[], [], []]);
    expect(ovf.warnings).toEqual([expect.stringMatching(/has no \.mf manifest/)]);
  });

  it('a .vmx with a few Latin-1 bytes in a name is still read (as UTF-8, with U+FFFD)', async () => {
    const vmx = bytesFile('latin1/w.vmx', Buffer.from('displayName = "M\u00fcller"\nmemSize = "512"\n', 'latin1'));
    const { error } = await load(vmxInput(vmx));
    expect((error as Error).message).toMatch(/has no disks/); // parsed: it is the next check that fails
  });
});

describe('warnings about one file are capped', () => {
  /** A .vmx with `junk` unparseable lines after a valid setting, and no disk. */
  const junkVmx = (junk: number): string =>
    file(`junk-${junk}/w.vmx`, `displayName = "w"\n${Array.from({ length: junk }, (_, i) => `junk line ${i}`).join('\n')}\n`);

  it('the first 5, then one line counting the rest and saying how to see more', async () => {
    const vmx = junkVmx(886);
    const { warnings } = await load(vmxInput(vmx));
    expect(warnings).toHaveLength(6);
    expect(warnings.slice(0, 5).every((w) => w.startsWith(`line `) && w.includes(vmx))).toBe(true);
    expect(warnings[5]).toBe(`… and 881 more warnings about ${vmx} (-v shows up to 200)`);
  });

  it('with -v, up to 200; six warnings are shown whole (a count line would hide only one)', async () => {
    const { warnings } = await load(vmxInput(junkVmx(886)), WARNINGS_PER_FILE_VERBOSE);
    expect(warnings).toHaveLength(201);
    expect(warnings[200]).toMatch(/^… and 686 more warnings about .*w\.vmx$/);
    expect((await load(vmxInput(junkVmx(6)))).warnings).toHaveLength(6);
    expect(capWarnings(['a', 'b'], 'f', 1)).toEqual(['a', 'b']);
    expect(capWarnings(['a', 'b', 'c'], 'f', 1)).toEqual(['a', '… and 2 more warnings about f (-v shows up to 200)']);
  });

  it('per file: a manifest of junk lines and the OVF each get their own cap', async () => {
    const dir = join(work, 'junk-ova');
    file('junk-ova/g.ovf', '<Envelope/>');
    file('junk-ova/g.mf', `SHA256(g.ovf)= ${'0'.repeat(64)}\n${Array.from({ length: 40 }, (_, i) => `junk ${i}`).join('\n')}\n`);
    const { warnings } = await load(ovaInput(dir));
    expect(warnings.filter((w) => w.includes('g.mf'))).toHaveLength(6);
    expect(warnings[5]).toMatch(/^… and 35 more warnings about .*g\.mf /);
  });
});
