/**
 * The fixture guest through the other inputs: exported as an OVA (OVF +
 * streamOptimized VMDK + SHA256 manifest, tarred, as vSphere does) and as a
 * bare disk. Each is converted and the result booted on virtio-blk under
 * qemu TCG with no network device. The OVA goes to `-o kubevirt` (with
 * --verify=checksum): its NAME.yaml is validated against KubeVirt's schema
 * and its disk, the VirtualMachine's hostDisk, is the one booted; the bare
 * disk goes to `-o local`.
 *
 * The two conversions (each followed by its boot) run at the same time,
 * started in beforeAll: a conversion keeps about one of the machine's two
 * cores busy (the appliance's TCG guest mostly runs one thread), so running
 * them one after the other left a core idle for ~7 min.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootDisk, type BootResult } from '../helpers/boot.js';
import { ensureFixture } from '../helpers/fixture.js';
import { virtualMachineYamlErrors } from '../helpers/kubevirt-schema.js';
import { splitOutputDir } from '../helpers/run-log.js';
import { runV2v, sha256, type V2vRun } from '../helpers/v2v.js';

const MINUTE = 60_000;

let work: string;
let fixture: { vmx: string; vmdk: string };
let sourceHash: string;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** An OVF as vSphere exports it for the fixture: 2 vCPU, 1 GiB, pvscsi disk, vmxnet3 NIC. */
function ovf(diskFile: string, capacityBytes: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="${diskFile}" ovf:id="file1"/></References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:capacity="${capacityBytes}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="v2v-ova-guest"><Info>A virtual machine</Info><Name>v2v-ova-guest</Name>
    <VirtualHardwareSection><Info>Virtual hardware requirements</Info>
      <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Address>00:50:56:aa:bb:cc</rasd:Address><rasd:Connection>VM Network</rasd:Connection><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

/** The volumes of a VirtualMachine, as far as the boot needs them. */
type VmVolumes = { spec?: { template?: { spec?: { volumes?: Array<{ hostDisk?: { path?: string } }> } } } };

/** What one conversion chain gives its tests: the run, its output directory listing, and the boot of its disk. */
interface Converted {
  run: V2vRun;
  files: string[];
  boot: BootResult;
}

/** The OVA chain's result, with the OVA's hash before the run and the VirtualMachine written. */
let ovaChain: Promise<Converted & { ova: string; ovaHash: string; yaml: string; out: string }>;
let diskChain: Promise<Converted>;

/** Awaited by its test; marked handled now so a failure before then is not an unhandled rejection. */
function started<T>(chain: Promise<T>): Promise<T> {
  chain.catch(() => undefined);
  return chain;
}

/** Exports the fixture as a vSphere-style OVA (streamOptimized disk, SHA256 manifest), converts it to -o kubevirt and boots the result. */
async function convertOva(): Promise<Converted & { ova: string; ovaHash: string; yaml: string; out: string }> {
  const dir = join(work, 'ova');
  await mkdir(dir);
  const disk = join(dir, 'v2v-ova-guest-disk1.vmdk');
  await execa('qemu-img', ['convert', '-f', 'vmdk', '-O', 'vmdk', '-o', 'subformat=streamOptimized', fixture.vmdk, disk]);
  const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', disk])).stdout) as { 'virtual-size': number };
  await writeFile(join(dir, 'v2v-ova-guest.ovf'), ovf('v2v-ova-guest-disk1.vmdk', info['virtual-size']));
  await writeFile(
    join(dir, 'v2v-ova-guest.mf'),
    `SHA256(v2v-ova-guest.ovf)= ${await sha256Of(join(dir, 'v2v-ova-guest.ovf'))}\nSHA256(v2v-ova-guest-disk1.vmdk)= ${await sha256Of(disk)}\n`,
  );
  const ova = join(work, 'v2v-ova-guest.ova');
  // The OVF must come first in an OVA: name the members in that order.
  await execa('tar', ['-cf', ova, '-C', dir, 'v2v-ova-guest.ovf', 'v2v-ova-guest.mf', 'v2v-ova-guest-disk1.vmdk']);
  const ovaHash = await sha256(ova);
  const out = join(work, 'ova-out');
  await mkdir(out);
  // The OVF's network "VM Network" to the NetworkAttachmentDefinition "lan" (docs/options.md#-o-kubevirt).
  const run = await runV2v(['-i', 'ova', ova, '-o', 'kubevirt', '-os', out, '-n', 'VM Network:lan', '--verify=checksum']);
  const { files } = await splitOutputDir(out, 'v2v-ova-guest');
  const yaml = await readFile(join(out, 'v2v-ova-guest.yaml'), 'utf8').catch(() => '');
  // The disk the VirtualMachine names, read as KubeVirt reads a hostDisk: raw.
  const hostDisk = (parseYaml(yaml) as VmVolumes | null)?.spec?.template?.spec?.volumes?.[0]?.hostDisk?.path ?? join(out, 'nothing');
  const boot = await bootDisk({ disk: hostDisk, format: 'raw', bus: 'virtio', timeoutMs: 8 * MINUTE });
  return { run, files, boot, ova, ovaHash, yaml, out };
}

/** Converts the fixture's VMDK as a bare disk and boots the result. */
async function convertDisk(): Promise<Converted> {
  const out = join(work, 'disk-out');
  await mkdir(out);
  const run = await runV2v(['-i', 'disk', fixture.vmdk, '-if', 'vmdk', '-o', 'local', '-os', out, '-on', 'v2v-disk-guest']);
  const { files } = await splitOutputDir(out, 'v2v-disk-guest');
  const boot = await bootDisk({ disk: join(out, 'v2v-disk-guest-sda'), format: 'raw', bus: 'virtio', timeoutMs: 8 * MINUTE });
  return { run, files, boot };
}

beforeAll(async () => {
  fixture = await ensureFixture();
  sourceHash = await sha256(fixture.vmdk);
  work = await mkdtemp('/var/tmp/v2v-e2e-inputs-');
  ovaChain = started(convertOva());
  diskChain = started(convertDisk());
}, 30 * MINUTE);

afterAll(async () => {
  await Promise.allSettled([ovaChain, diskChain]); // nothing of theirs left running after a failed test
  if (work) await rm(work, { recursive: true, force: true });
}, 30 * MINUTE);

describe('the fixture guest via -i ova', () => {
  it(
    "converts from a vSphere-style OVA (manifest checked) to -o kubevirt, and the VirtualMachine's disk boots on virtio-blk",
    async () => {
      const { run: r, files, yaml, boot, ova, ovaHash, out } = await ovaChain;
      console.log(`-i ova -o kubevirt: converted in ${r.seconds.toFixed(1)} s, booted to ${boot.outcome} in ${boot.seconds.toFixed(1)} s`);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.exitCode).toBe(0);
      expect(files).toEqual(['v2v-ova-guest-sda', 'v2v-ova-guest.yaml']);
      expect(r.stdout).toMatch(/Verified the converted guest: checksum passed \(1 disk\(s\)/);
      expect(r.stdout).toMatch(
        /next: put the disks at the same paths on the node .* kubectl apply -f .*v2v-ova-guest\.yaml && virtctl start v2v-ova-guest$/m,
      );
      expect(virtualMachineYamlErrors(yaml)).toEqual([]);
      const vm = parseYaml(yaml) as {
        metadata: { name: string; labels: Record<string, string> };
        spec: { template: { spec: Record<string, unknown> } };
      };
      expect(vm.metadata).toEqual({
        name: 'v2v-ova-guest',
        labels: { 'v2v/version': expect.stringMatching(/^\d+\.\d+\.\d+/), 'v2v/osinfo': 'debian12' },
      });
      const spec = vm.spec.template.spec;
      expect(spec['domain']).toMatchObject({
        firmware: { bootloader: { bios: {} } },
        cpu: { cores: 2 },
        resources: { requests: { memory: '1024Mi' } },
        devices: {
          disks: [{ name: 'disk0', disk: { bus: 'virtio' }, bootOrder: 1 }],
          interfaces: [{ name: 'net0', bridge: {}, model: 'virtio', macAddress: '00:50:56:aa:bb:cc' }],
        },
      });
      expect(spec['networks']).toEqual([{ name: 'net0', multus: { networkName: 'lan' } }]);
      expect(spec['volumes']).toEqual([{ name: 'disk0', hostDisk: { path: join(out, 'v2v-ova-guest-sda'), type: 'Disk' } }]);
      expect(await sha256(ova)).toBe(ovaHash);
      expect(boot.outcome, boot.log.slice(-3000)).toBe('login');
    },
    30 * MINUTE,
  );

  it('refuses an OVA whose manifest does not match, before conversion', async () => {
    const dir = join(work, 'ova');
    await writeFile(join(dir, 'v2v-ova-guest.mf'), `SHA256(v2v-ova-guest.ovf)= ${'0'.repeat(64)}\n`);
    const r = await runV2v(['-i', 'ova', dir, '-o', 'local', '-os', work]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/v2v-ova-guest\.ovf/);
    expect(r.seconds).toBeLessThan(60);
  });
});

describe('the fixture guest via -i disk', () => {
  it(
    'converts a bare disk and boots on virtio-blk',
    async () => {
      const { run: r, files, boot } = await diskChain;
      console.log(`-i disk: converted in ${r.seconds.toFixed(1)} s, booted to ${boot.outcome} in ${boot.seconds.toFixed(1)} s`);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.exitCode).toBe(0);
      expect(files).toEqual(['v2v-disk-guest-sda', 'v2v-disk-guest.xml']);
      expect(boot.outcome, boot.log.slice(-3000)).toBe('login');
      expect(await sha256(fixture.vmdk)).toBe(sourceHash);
    },
    30 * MINUTE,
  );
});
