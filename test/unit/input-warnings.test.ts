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
