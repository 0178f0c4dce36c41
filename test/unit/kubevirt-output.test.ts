/**
 * `-o kubevirt`: the VirtualMachine built from typed sources (firmware, CPU
 * topology, NICs under each mapping rule, Windows), every document validated
 * against KubeVirt's schema (test/helpers/kubevirt-schema.ts), the validator
 * shown to refuse wrong documents, the name rule, and the output module
 * writing its files. No child process.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Network, V1VirtualMachine, V1VirtualMachineInstanceSpec } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import { afterAll, describe, expect, it } from 'vitest';
import { testSource } from '../helpers/source.js';
import { parse } from 'yaml';
import { capabilities } from '../../src/cli/capabilities.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { parseCommandLine } from '../../src/cli/index.js';
import { PreflightError, UsageError } from '../../src/errors.js';
import type { GuestCaps, Inspection, Source, SourceNic, TargetDisk } from '../../src/model.js';
import { isKubevirtName, kubevirtNameFor, kubevirtNameProblem } from '../../src/output/kubevirt-name.js';
import { buildKubevirtVm, kubevirtYaml, osinfoShortId, planKubevirtNetworks, type KubevirtVmInput } from '../../src/output/kubevirt-vm.js';
import { kubevirtOutput } from '../../src/output/kubevirt.js';
import { NO_NETWORK_MAPPING, type NetworkMapping } from '../../src/output/networks.js';
import { runSummary } from '../../src/run/summary.js';
import { kubevirtTarget, quantityMiB } from '../../src/verify/kubevirt-target.js';
import { virtualMachineErrors, virtualMachineYamlErrors } from '../helpers/kubevirt-schema.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-kubevirt-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const MAC_A = '00:0c:29:3a:5b:7c';
const MAC_B = '00:50:56:12:34:56';
const MAC_C = '00:50:56:aa:bb:cc';

function source(overrides: Partial<Source> = {}): Source {
  return testSource({ name: 'web01', nics: [{ mac: MAC_A, model: 'vmxnet3', network: 'VM Network' }], ...overrides });
}

function inspection(overrides: Partial<Inspection> = {}): Inspection {
  return {
    root: '/dev/sda1',
    type: 'linux',
    distro: 'debian',
    majorVersion: 12,
    minorVersion: 5,
    productName: 'Debian GNU/Linux 12 (bookworm)',
    hostname: 'web01',
    arch: 'x86_64',
    packageFormat: 'deb',
    packageManagement: 'apt',
    mounts: [],
    packages: [],
    kernels: [],
    bootloader: 'grub2',
    firmware: 'bios',
    ...overrides,
  };
}

const caps: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'kvm', serialConsole: true };

function target(index: number, format: TargetDisk['format'] = 'raw'): TargetDisk {
  const letter = String.fromCharCode(97 + index);
  return { overlay: `/tmp/o${index}.qcow2`, path: `/out/web01-sd${letter}`, format, virtualSize: 2 ** 30, dev: `vd${letter}` };
}

function input(overrides: Partial<KubevirtVmInput> = {}): KubevirtVmInput {
  return {
    name: 'web01',
    source: source(),
    inspection: inspection(),
    caps,
    targets: [target(0)],
    networkMapping: NO_NETWORK_MAPPING,
    version: '0.1.0',
    ...overrides,
  };
}

function mapping(overrides: Partial<NetworkMapping>): NetworkMapping {
  return { ...NO_NETWORK_MAPPING, ...overrides };
}

/** Builds the VM, checks it (object and printed YAML) against KubeVirt's schema, and returns it with its warnings. */
function build(overrides: Partial<KubevirtVmInput> = {}): ReturnType<typeof buildKubevirtVm> {
  const built = buildKubevirtVm(input(overrides));
  expect(virtualMachineErrors(built.vm)).toEqual([]);
  expect(virtualMachineYamlErrors(kubevirtYaml(built.vm, '0.1.0'))).toEqual([]);
  return built;
}

describe('the VirtualMachine of a BIOS Linux guest', () => {
  it('is the whole expected document, valid against KubeVirt v1.9.0 schema', () => {
    const { vm, warnings } = build({ targets: [target(0), target(1)] });
    expect(warnings).toEqual([]);
    expect(vm).toEqual({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'web01', labels: { 'v2v/version': '0.1.0', 'v2v/osinfo': 'debian12' } },
      spec: {
        runStrategy: 'Halted',
        template: {
          spec: {
            domain: {
              firmware: { bootloader: { bios: {} } },
              cpu: { cores: 2 },
              resources: { requests: { memory: '2048Mi' } },
              devices: {
                disks: [
                  { name: 'disk0', disk: { bus: 'virtio' }, bootOrder: 1 },
                  { name: 'disk1', disk: { bus: 'virtio' } },
                ],
                interfaces: [{ name: 'net0', masquerade: {}, model: 'virtio', macAddress: MAC_A }],
                rng: {},
              },
            },
            networks: [{ name: 'net0', pod: {} }],
            volumes: [
              { name: 'disk0', hostDisk: { path: '/out/web01-sda', type: 'Disk' } },
              { name: 'disk1', hostDisk: { path: '/out/web01-sdb', type: 'Disk' } },
            ],
          },
        },
      },
    });
  });

  it('prints as YAML 1.1 with a header, MACs of digits quoted (a base-60 number to a YAML 1.1 reader)', () => {
    const { vm } = build({ source: source({ nics: [{ mac: MAC_B }] }) });
    const text = kubevirtYaml(vm, '0.1.0');
    expect(text.split('\n').slice(0, 6)).toEqual([
      '# Written by v2v 0.1.0 (-o kubevirt).',
      '',
      'apiVersion: kubevirt.io/v1',
      'kind: VirtualMachine',
      'metadata:',
      '  name: web01',
    ]);
    expect(text).toContain(`macAddress: "${MAC_B}"`);
    expect(parse(text, { version: '1.1' })).toEqual(vm);
  });

  it('writes memory that is not whole MiB in KiB', () => {
    const { vm } = build({ source: source({ memoryMiB: 1536.5 }) });
    expect(vm.spec.template.spec?.domain.resources).toEqual({ requests: { memory: '1573376Ki' } });
  });

  it('keeps the libosinfo short id as a label only when inspection knew the version', () => {
    const { vm } = build({ inspection: inspection({ majorVersion: 0 }) });
    expect(vm.metadata?.labels).toEqual({ 'v2v/version': '0.1.0' });
  });
});

describe('firmware', () => {
  it('UEFI without secure boot: persistent EFI variables, secure boot said off (KubeVirt turns it on when absent), no SMM', () => {
    const { vm } = build({ source: source({ firmware: 'uefi' }) });
    expect(vm.spec.template.spec?.domain.firmware).toEqual({ bootloader: { efi: { persistent: true, secureBoot: false } } });
    expect(vm.spec.template.spec?.domain.features).toBeUndefined();
  });
  it('UEFI with secure boot: secure boot on and SMM enabled, which KubeVirt requires for it', () => {
    const { vm } = build({ source: source({ firmware: 'uefi', secureBoot: true }) });
    expect(vm.spec.template.spec?.domain.firmware).toEqual({ bootloader: { efi: { persistent: true, secureBoot: true } } });
    expect(vm.spec.template.spec?.domain.features).toEqual({ smm: { enabled: true } });
  });
  it('UEFI found by inspection when the source says nothing (-i disk)', () => {
    const { vm } = build({ inspection: inspection({ firmware: 'uefi' }) });
    expect(vm.spec.template.spec?.domain.firmware).toEqual({ bootloader: { efi: { persistent: true, secureBoot: false } } });
  });
});

describe('CPU topology', () => {
  it('sockets, cores and threads from the source', () => {
    const { vm } = build({ source: source({ vcpus: 8, cpuTopology: { sockets: 2, cores: 2, threads: 2 } }) });
    expect(vm.spec.template.spec?.domain.cpu).toEqual({ sockets: 2, cores: 2, threads: 2 });
  });
  it('without a topology, every vCPU a core of one socket', () => {
    expect(build({ source: source({ vcpus: 4 }) }).vm.spec.template.spec?.domain.cpu).toEqual({ cores: 4 });
  });
  it('a topology that does not give the vCPU count is a bug upstream', () => {
    expect(() => buildKubevirtVm(input({ source: source({ vcpus: 3, cpuTopology: { sockets: 1, cores: 2, threads: 1 } }) }))).toThrow(
      /internal: CPU topology/,
    );
  });
});

describe('network mapping', () => {
  const three: SourceNic[] = [
    { mac: MAC_A, network: 'VM Network' },
    { mac: MAC_B, network: 'Backup' },
    { mac: MAC_C, network: 'DMZ' },
  ];
  const networksOf = (nics: SourceNic[], m: NetworkMapping): ReturnType<typeof planKubevirtNetworks> => {
    const { vm } = build({ source: source({ nics }), networkMapping: m });
    return { interfaces: vm.spec.template.spec?.domain.devices.interfaces ?? [], networks: vm.spec.template.spec?.networks ?? [] };
  };

  it('--mac and -n IN:OUT send their NICs to Multus networks (bridge binding); the one NIC left gets the pod network (masquerade)', () => {
    const { interfaces, networks } = networksOf(three, mapping({ macs: [`${MAC_C}:network:dmz-nad`], networks: ['Backup:ns1/backup'] }));
    expect(interfaces).toEqual([
      { name: 'net0', masquerade: {}, model: 'virtio', macAddress: MAC_A },
      { name: 'net1', bridge: {}, model: 'virtio', macAddress: MAC_B },
      { name: 'net2', bridge: {}, model: 'virtio', macAddress: MAC_C },
    ]);
    expect(networks).toEqual([
      { name: 'net0', pod: {} },
      { name: 'net1', multus: { networkName: 'ns1/backup' } },
      { name: 'net2', multus: { networkName: 'dmz-nad' } },
    ]);
  });

  it('-b OUT sends every NIC no other rule maps to that Multus network: no pod network then', () => {
    const { networks, interfaces } = networksOf(three, mapping({ bridges: ['br-nad'], macs: [`${MAC_A}:bridge:other`] }));
    expect(networks).toEqual([
      { name: 'net0', multus: { networkName: 'other' } },
      { name: 'net1', multus: { networkName: 'br-nad' } },
      { name: 'net2', multus: { networkName: 'br-nad' } },
    ]);
    expect(interfaces.every((i) => i.bridge !== undefined && i.masquerade === undefined)).toBe(true);
  });

  it('-n OUT is the same as -b OUT; a NIC without a MAC gets none (KubeVirt picks one)', () => {
    const { interfaces, networks } = networksOf([{ network: 'VM Network' }], mapping({ networks: ['lan'] }));
    expect(interfaces).toEqual([{ name: 'net0', bridge: {}, model: 'virtio' }]);
    expect(networks).toEqual([{ name: 'net0', multus: { networkName: 'lan' } }]);
  });

  it('refuses two NICs for the one pod network, naming them and the options that map them', () => {
    const call = (): unknown => planKubevirtNetworks([...three, { network: 'Storage' }], mapping({ networks: ['Backup:b'] }), 'virtio');
    expect(call).toThrow(PreflightError);
    expect(call).toThrow(
      `3 NICs of the source (${MAC_A}, ${MAC_C}, NIC 4 on "Storage") are mapped by no -n, -b or --mac rule, and a KubeVirt VM has one pod network: send all but one to a NetworkAttachmentDefinition with "--mac MAC:network:NAD" or "-n SOURCE-NETWORK:NAD" (or every unmapped NIC with "-n NAD").`,
    );
  });

  it('a source without NICs gets none: the automatic pod interface is turned off', () => {
    const { vm } = build({ source: source({ nics: [] }) });
    expect(vm.spec.template.spec?.domain.devices).toEqual({
      disks: [{ name: 'disk0', disk: { bus: 'virtio' }, bootOrder: 1 }],
      autoattachPodInterface: false,
      rng: {},
    });
    expect(vm.spec.template.spec?.networks).toBeUndefined();
  });
});

describe('Windows guests', () => {
  const windows = inspection({
    type: 'windows',
    distro: 'windows',
    majorVersion: 10,
    minorVersion: 0,
    productName: 'Windows Server 2022 Standard',
    packageFormat: 'unknown',
    packageManagement: 'unknown',
  });

  it('get Hyper-V enlightenments under domain.features and the Windows timers under domain.clock, and a warning about local time', () => {
    const { vm, warnings } = build({ inspection: windows });
    const domain = vm.spec.template.spec?.domain;
    expect(domain?.features?.hyperv).toEqual({
      relaxed: {},
      vapic: {},
      spinlocks: { spinlocks: 8191 },
      vpindex: {},
      runtime: {},
      synic: {},
      synictimer: {},
      frequencies: {},
      reset: {},
    });
    expect(domain?.clock).toEqual({
      utc: {},
      timer: { hpet: { present: false }, pit: { tickPolicy: 'delay' }, rtc: { tickPolicy: 'catchup' }, hyperv: {} },
    });
    expect(domain?.resources).toEqual({ requests: { memory: '2048Mi' } });
    expect(vm.metadata?.labels?.['v2v/osinfo']).toBe('win2k22');
    expect(warnings).toEqual([expect.stringMatching(/^Windows keeps its clock in local time.*clock\.timezone in web01\.yaml/)]);
  });

  it('without virtio drivers: SATA disks and e1000 NICs', () => {
    const { vm } = build({ inspection: windows, caps: { ...caps, blockBus: 'sata', netModel: 'e1000' } });
    expect(vm.spec.template.spec?.domain.devices.disks?.[0]?.disk).toEqual({ bus: 'sata' });
    expect(vm.spec.template.spec?.domain.devices.interfaces?.[0]?.model).toBe('e1000');
  });
});

describe('what KubeVirt cannot express', () => {
  it('CD-ROM drives (KubeVirt needs a volume for each), the pc machine type and IDE: a warning each', () => {
    const { vm, warnings } = build({
      source: source({ removables: [{ kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 }] }),
      caps: { ...caps, machine: 'pc', blockBus: 'ide' },
    });
    expect(vm.spec.template.spec?.domain.devices.disks?.[0]?.disk).toEqual({ bus: 'sata' });
    expect(warnings).toEqual([
      'KubeVirt runs guests on the q35 machine type only: web01, converted for pc, gets q35 there.',
      "The source's 1 CD-ROM drive(s) are not in web01.yaml: a KubeVirt CD-ROM needs a volume; add a cdrom disk and its volume (a containerDisk, a PVC) if the guest needs one.",
    ]);
  });
});

describe("the validator (KubeVirt's schema, strict as kubectl apply)", () => {
  /** A valid document and its domain, to break. */
  const valid = (): { vm: V1VirtualMachine; spec: V1VirtualMachineInstanceSpec } => {
    const vm = structuredClone(buildKubevirtVm(input()).vm);
    return { vm, spec: vm.spec.template.spec! };
  };
  const loose = (value: object): Record<string, unknown> => value as Record<string, unknown>;

  it("refuses clock under resources, as virt-v2v's own test fixture writes it (KubeVirt has it under domain)", () => {
    const { vm, spec } = valid();
    loose(spec.domain.resources!)['clock'] = { utc: {} };
    expect(virtualMachineErrors(vm)).toEqual(['/spec/template/spec/domain/resources must NOT have additional properties (clock)']);
  });
  it("refuses virt-v2v's other slips: cpu.thread, features under resources, a network without pod or multus", () => {
    const { vm, spec } = valid();
    loose(spec.domain.cpu!)['thread'] = 1;
    loose(spec.domain.resources!)['features'] = {};
    spec.networks![0] = { name: 'net0', networkName: 'default' } as V1Network;
    expect(virtualMachineErrors(vm)).toEqual([
      '/spec/template/spec/domain/cpu must NOT have additional properties (thread)',
      '/spec/template/spec/domain/resources must NOT have additional properties (features)',
      '/spec/template/spec/networks/0 must NOT have additional properties (networkName)',
    ]);
  });
  it('refuses a missing required field, a wrong type, and another kind', () => {
    const { vm, spec } = valid();
    delete loose(spec.volumes![0]!.hostDisk!)['type'];
    loose(spec.domain.cpu!)['cores'] = '2';
    vm.kind = 'VirtualMachineInstance';
    expect(virtualMachineErrors(vm)).toEqual([
      '/kind is "VirtualMachineInstance", not "VirtualMachine"',
      '/spec/template/spec/domain/cpu/cores must be integer',
      "/spec/template/spec/volumes/0/hostDisk must have required property 'type'",
    ]);
  });
});

describe('osinfo short ids', () => {
  it.each<[Partial<Inspection>, string | undefined]>([
    [{ distro: 'debian', majorVersion: 12, minorVersion: 5 }, 'debian12'],
    [{ distro: 'ubuntu', majorVersion: 22, minorVersion: 4 }, 'ubuntu22.04'],
    [{ distro: 'rhel', majorVersion: 9, minorVersion: 2 }, 'rhel9.2'],
    [{ distro: 'centos', majorVersion: 9, minorVersion: 0, productName: 'CentOS Stream 9' }, 'centos-stream9'],
    [{ distro: 'sles', majorVersion: 15, minorVersion: 5 }, 'sle15sp5'],
    [{ distro: 'sles', majorVersion: 12, minorVersion: 5 }, 'sles12sp5'],
    [{ distro: 'opensuse', majorVersion: 20240101, minorVersion: 0, productName: 'openSUSE Tumbleweed' }, 'opensusetumbleweed'],
    [{ type: 'windows', distro: 'windows', majorVersion: 10, minorVersion: 0, productName: 'Windows 10 Pro' }, 'win10'],
    [{ distro: 'archlinux', majorVersion: 1, minorVersion: 0 }, undefined],
  ])('%o → %s', (overrides, id) => {
    expect(osinfoShortId(inspection(overrides))).toBe(id);
  });
});

describe('the name rule (RFC 1123, as Kubernetes names a VirtualMachine)', () => {
  it('accepts lowercase names with - and ., refuses the rest', () => {
    for (const name of ['web01', 'web-01', 'web01.example.com', 'a', '0', 'x'.repeat(253)]) expect(isKubevirtName(name), name).toBe(true);
    for (const name of ['Web01', 'web_01', '-web', 'web-', 'web..01', '.web', 'web+1', '', 'x'.repeat(254)])
      expect(isKubevirtName(name), name).toBe(false);
  });
  it('suggests a name that follows it', () => {
    expect(kubevirtNameFor('Web_01')).toBe('web-01');
    expect(kubevirtNameFor('SQL Server (prod).eu')).toBe('sql-server-prod.eu');
    expect(kubevirtNameFor('__')).toBe('guest');
    for (const name of ['Web_01', '-x-', 'A..B', '+++a+++']) expect(isKubevirtName(kubevirtNameFor(name)), name).toBe(true);
  });
  it('-on is checked on the command line (exit 2), naming -on and a name to use', async () => {
    const line = await parseCommandLine(['-i', 'disk', '/x.img', '-o', 'kubevirt', '-os', work, '-on', 'Web_01']);
    expect(line.kind).toBe('run');
    if (line.kind !== 'run') return;
    expect(() => normalizeOptions(line.raw)).toThrow(UsageError);
    expect(() => normalizeOptions(line.raw)).toThrow(kubevirtNameProblem('Web_01'));
    expect(kubevirtNameProblem('Web_01')).toBe(
      `The guest name "Web_01" cannot name a KubeVirt VirtualMachine (its metadata.name must be an RFC 1123 name: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit): choose one with "-on NAME", e.g. "-on web-01".`,
    );
  });
  it('a name derived from the source is checked in preflight (PreflightError), before anything is reserved', () => {
    const output = kubevirtOutput({ storage: work, format: 'raw', networkMapping: NO_NETWORK_MAPPING }, '0.1.0');
    expect(() => output.checkSource?.('Web01', source())).toThrow(PreflightError);
    expect(() => output.checkSource?.('Web01', source())).toThrow(/"-on web01"/);
    expect(output.checkSource?.('web01', source())).toEqual([]);
    expect(() => output.checkSource?.('web01', source({ nics: [{ mac: MAC_A }, { mac: MAC_B }] }))).toThrow(/one pod network/);
  });
});

describe('the command line', () => {
  const rules = async (argv: string[]): Promise<ReturnType<typeof normalizeOptions>> => {
    const line = await parseCommandLine(argv);
    if (line.kind !== 'run') throw new Error(`not a run: ${line.kind}`);
    return normalizeOptions(line.raw);
  };
  it('-o kubevirt needs -os, takes -of raw or qcow2 and -oo compressed with qcow2', async () => {
    await expect(rules(['-i', 'disk', '/x.img', '-o', 'kubevirt'])).rejects.toThrow(
      '-o kubevirt needs an output directory: add "-os DIR".',
    );
    const raw = await rules(['-i', 'disk', '/x.img', '-o', 'kubevirt', '-os', work]);
    expect(raw.output).toMatchObject({ mode: 'kubevirt', storage: work, format: 'raw' });
    expect(raw.warnings).toBeUndefined();
    const compressed = await rules(['-i', 'disk', '/x.img', '-o', 'kubevirt', '-os', work, '-of', 'qcow2', '-oo', 'compressed']);
    expect(compressed.output).toMatchObject({ format: 'qcow2', compressed: true });
  });
  it('-of qcow2 warns that KubeVirt reads a hostDisk as raw', async () => {
    const options = await rules(['-i', 'disk', '/x.img', '-o', 'kubevirt', '-os', work, '-of', 'qcow2']);
    expect(options.warnings).toEqual([expect.stringMatching(/^-o kubevirt -of qcow2: KubeVirt reads a hostDisk volume as raw/)]);
  });
  it('is a capability of bare --machine-readable', () => {
    expect(capabilities('1')).toContain('output:kubevirt');
  });
  it("refuses virt-v2v's -oo disk= and -oo create=, with the alternative", async () => {
    for (const oo of ['disk=/var/tmp/d.img', 'create=false']) {
      await expect(rules(['-i', 'disk', '/x.img', '-o', 'kubevirt', '-os', work, '-oo', oo])).rejects.toThrow(
        /^-oo (disk|create) is not supported: v2v writes each disk as DIR\/NAME-sdX itself/,
      );
    }
  });
});

describe('kubevirtOutput', () => {
  it('reserves NAME.yaml and the disks in preflight, then writes a valid NAME.yaml and reports the warnings', async () => {
    const dir = mkdtempSync(join(work, 'out-'));
    const output = kubevirtOutput({ storage: dir, format: 'raw', networkMapping: mapping({ networks: ['lan'] }) }, '0.1.0');
    const targets = output.planDisks('web01', [
      { path: '/t/o1.qcow2', virtualSize: 5, backingFormat: 'vmdk', disk: { path: '/s.vmdk', bus: 'scsi', controller: 0, unit: 0 } },
    ]);
    expect(targets.map((t) => [t.path, t.partialPath])).toEqual([[join(dir, 'web01-sda'), join(dir, 'web01-sda.v2v-partial')]]);
    await output.preflight('web01', targets, 0);
    expect(readdirSync(dir).sort()).toEqual(['web01-sda', 'web01-sda.v2v-partial', 'web01.v2v-lock', 'web01.yaml']);
    const warned: string[] = [];
    const written = await output.finish({
      name: 'web01',
      source: source({ removables: [{ kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 }] }),
      inspection: inspection(),
      caps,
      targets,
      warn: (message) => warned.push(message),
    });
    expect(written).toEqual([join(dir, 'web01.yaml'), join(dir, 'web01-sda')]);
    expect(readdirSync(dir).sort()).toEqual(['web01-sda', 'web01.yaml']);
    const text = readFileSync(join(dir, 'web01.yaml'), 'utf8');
    expect(virtualMachineYamlErrors(text)).toEqual([]);
    expect(parse(text).spec.template.spec.volumes).toEqual([{ name: 'disk0', hostDisk: { path: join(dir, 'web01-sda'), type: 'Disk' } }]);
    expect(parse(text).spec.template.spec.networks).toEqual([{ name: 'net0', multus: { networkName: 'lan' } }]);
    expect(warned).toEqual([expect.stringMatching(/CD-ROM drive/)]);
  });

  it('refuses an existing NAME.yaml in preflight, writing nothing', async () => {
    const dir = mkdtempSync(join(work, 'out-'));
    writeFileSync(join(dir, 'web01.yaml'), 'mine\n');
    const output = kubevirtOutput({ storage: dir, format: 'raw', networkMapping: NO_NETWORK_MAPPING }, '0.1.0');
    await expect(output.preflight('web01', [], 0)).rejects.toThrow(/web01\.yaml already exists: remove it, or choose another guest name/);
    expect(readdirSync(dir)).toEqual(['web01.yaml']);
    expect(readFileSync(join(dir, 'web01.yaml'), 'utf8')).toBe('mine\n');
  });

  it('the summary says how to run the result', () => {
    const options = { output: { mode: 'kubevirt', storage: '/out' } } as Parameters<typeof runSummary>[0];
    expect(runSummary(options, 'web01', ['/out/web01.yaml', '/out/web01-sda'], [], true, '12:00:00')).toEqual([
      'Next: put the disks at the same paths on the node that will run the guest (hostDisk volumes), then kubectl apply -f /out/web01.yaml && virtctl start web01',
    ]);
  });
});

describe('v2v verify NAME.yaml reads what -o kubevirt writes', () => {
  it('boots the hostDisk volumes, boot disk first, as raw, with the firmware, memory and vCPUs of the VirtualMachine', () => {
    const { vm } = buildKubevirtVm(
      input({
        source: source({ firmware: 'uefi', memoryMiB: 3072, vcpus: 4, cpuTopology: { sockets: 2, cores: 2, threads: 1 } }),
        targets: [target(0), target(1)],
      }),
    );
    // KubeVirt boots the disk with the lowest bootOrder, wherever it is listed.
    vm.spec.template.spec?.domain.devices.disks?.reverse();
    expect(kubevirtTarget(kubevirtYaml(vm, '0.1.0'), '/out/web01.yaml')).toEqual({
      name: 'web01',
      disks: [
        { path: '/out/web01-sda', format: 'raw', bus: 'virtio' },
        { path: '/out/web01-sdb', format: 'raw', bus: 'virtio' },
      ],
      firmware: 'uefi',
      machine: 'q35',
      memoryMiB: 3072,
      vcpus: 4,
      logDir: '/out',
    });
  });
  it('reads memory quantities in any unit', () => {
    expect([quantityMiB('2Gi'), quantityMiB('1024Mi'), quantityMiB('1048576Ki'), quantityMiB('1G'), quantityMiB('x')]).toEqual([
      2048,
      1024,
      1024,
      1e9 / 2 ** 20,
      undefined,
    ]);
  });
  it('refuses what is not a VirtualMachine with hostDisk volumes, naming the file and what to pass', () => {
    expect(() => kubevirtTarget('kind: Pod\n', '/x.yaml')).toThrow(
      '/x.yaml is not a KubeVirt VirtualMachine: pass the NAME.yaml of a "-o kubevirt" conversion, a domain XML or the disk images.',
    );
    expect(() => kubevirtTarget('a: [', '/x.yaml')).toThrow(UsageError);
    const { vm } = buildKubevirtVm(input());
    vm.spec.template.spec!.volumes = [{ name: 'disk0', persistentVolumeClaim: { claimName: 'web01' } }];
    expect(() => kubevirtTarget(kubevirtYaml(vm, '0.1.0'), '/x.yaml')).toThrow(/has no hostDisk volume to boot/);
  });
});
