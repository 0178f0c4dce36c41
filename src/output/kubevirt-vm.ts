/**
 * The KubeVirt VirtualMachine `-o kubevirt` writes (DIR/NAME.yaml): built as
 * typed data with KubeVirt's API types (@kubevirt-ui-ext/kubevirt-api,
 * generated from KubeVirt's OpenAPI schema, kubevirt/kubevirt
 * api/openapi-spec/swagger.json) and printed with yaml. Pure.
 *
 * What is written, the network rule and what is not expressed:
 * docs/options.md#-o-kubevirt. KubeVirt's API: https://kubevirt.io/api-reference/.
 * The tests validate every document against KubeVirt's schema
 * (test/helpers/kubevirt-schema.ts).
 */
import type {
  V1Clock,
  V1CPU,
  V1Disk,
  V1DomainSpec,
  V1Features,
  V1Interface,
  V1Network,
  V1VirtualMachine,
  V1Volume,
} from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import { Document } from 'yaml';
import { PreflightError } from '../errors.js';
import type { GuestCaps, Inspection, Source, SourceNic, TargetDisk } from '../model.js';
import { osinfoId } from './domain-xml.js';
import { bootFirmware } from './firmware.js';
import { parseNetworkMapping, ruleFor, type NetworkMapping } from './networks.js';

/** The labels v2v puts on the VirtualMachine (the prefix is v2v's own; Kubernetes' label syntax allows it). */
export const KUBEVIRT_LABELS = { version: 'v2v/version', osinfo: 'v2v/osinfo' } as const;

/** A Kubernetes label value: 63 characters at most, alphanumerics at both ends, '-', '_', '.' inside. */
const LABEL_VALUE_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The libosinfo short id (debian12, win2k22, sle15sp5...) of an inspected guest, when it is a valid label value. */
export function osinfoShortId(inspection: Inspection): string | undefined {
  const id = osinfoId(inspection);
  if (id === undefined) return undefined;
  // http://debian.org/debian/12 → debian12; SUSE's service packs: http://suse.com/sle/15.5 → sle15sp5.
  const [family = '', version = ''] = id.split('/').slice(-2);
  const short = /^sles?$/.test(family) ? `${family}${version.replace('.', 'sp')}` : `${family}${version}`;
  return LABEL_VALUE_RE.test(short) ? short : undefined;
}

/** The interfaces and networks of the VM, one of each per source NIC, in source order. */
export interface KubevirtNetworks {
  interfaces: V1Interface[];
  networks: V1Network[];
}

/**
 * Where each source NIC goes (docs/options.md#-o-kubevirt): a NIC a
 * -n/-b/--mac rule maps (--mac, then IN:OUT, then -n/-b OUT) goes to the
 * Multus network (NetworkAttachmentDefinition) OUT with a bridge binding;
 * the one NIC no rule maps goes to the pod network with a masquerade binding.
 * A VM has one pod network: a second unmapped NIC is refused
 * (PreflightError), in preflight.
 */
export function planKubevirtNetworks(nics: readonly SourceNic[], mapping: NetworkMapping, model: string): KubevirtNetworks {
  const rules = parseNetworkMapping(mapping);
  const unmapped = nics.map((nic, index) => ({ nic, index })).filter(({ nic }) => ruleFor(nic, rules) === undefined);
  if (unmapped.length > 1) {
    const list = unmapped.map(({ nic, index }) => nic.mac ?? `NIC ${index + 1}${nic.network ? ` on "${nic.network}"` : ''}`).join(', ');
    throw new PreflightError(
      `${unmapped.length} NICs of the source (${list}) are mapped by no -n, -b or --mac rule, and a KubeVirt VM has one pod network: send all but one to a NetworkAttachmentDefinition with "--mac MAC:network:NAD" or "-n SOURCE-NETWORK:NAD" (or every unmapped NIC with "-n NAD").`,
    );
  }
  const interfaces: V1Interface[] = [];
  const networks: V1Network[] = [];
  nics.forEach((nic, index) => {
    const name = `net${index}`;
    const rule = ruleFor(nic, rules);
    const iface: V1Interface = { name, ...(rule === undefined ? { masquerade: {} } : { bridge: {} }), model };
    if (nic.mac !== undefined) iface.macAddress = nic.mac;
    interfaces.push(iface);
    networks.push(rule === undefined ? { name, pod: {} } : { name, multus: { networkName: rule.name } });
  });
  return { interfaces, networks };
}

/** What the VirtualMachine is built from. */
export interface KubevirtVmInput {
  name: string;
  source: Source;
  inspection: Inspection;
  caps: GuestCaps;
  targets: TargetDisk[];
  networkMapping: NetworkMapping;
  /** v2v's version, for the label. */
  version: string;
}

/** Hyper-V enlightenments for Windows guests (QEMU docs/system/i386/hyperv.rst); synic needs vpindex, synictimer needs synic. */
const WINDOWS_HYPERV: NonNullable<V1Features['hyperv']> = {
  relaxed: {},
  vapic: {},
  spinlocks: { spinlocks: 8191 },
  vpindex: {},
  runtime: {},
  synic: {},
  synictimer: {},
  frequencies: {},
  reset: {},
};

/** Windows timers: no HPET, the PIT's lost ticks delayed, the RTC's caught up, the Hyper-V reference clock. */
const WINDOWS_CLOCK: V1Clock = {
  utc: {},
  timer: { hpet: { present: false }, pit: { tickPolicy: 'delay' }, rtc: { tickPolicy: 'catchup' }, hyperv: {} },
};

/** The VirtualMachine, and a warning for each thing of the source it cannot express. */
export function buildKubevirtVm(input: KubevirtVmInput): { vm: V1VirtualMachine; warnings: string[] } {
  const { name, source, inspection, caps, targets } = input;
  const warnings: string[] = [];
  const windows = inspection.type === 'windows';
  const firmware = bootFirmware(source, inspection);
  // KubeVirt turns secure boot ON when efi.secureBoot is absent, and then requires SMM: always say which.
  const secureBoot = firmware === 'uefi' && source.secureBoot;

  const topo = source.cpuTopology;
  if (topo !== undefined && topo.sockets * topo.cores * topo.threads !== source.vcpus) {
    throw new Error(`internal: CPU topology ${topo.sockets}×${topo.cores}×${topo.threads} does not match ${source.vcpus} vCPUs`);
  }
  // No topology: N cores of one socket (as virt-v2v); Windows client editions use at most 2 sockets.
  const cpu: V1CPU = topo === undefined ? { cores: source.vcpus } : { sockets: topo.sockets, cores: topo.cores, threads: topo.threads };

  if (caps.machine !== 'q35') {
    warnings.push(`KubeVirt runs guests on the q35 machine type only: ${name}, converted for ${caps.machine}, gets q35 there.`);
  }
  // KubeVirt has no IDE bus (virtio, sata, scsi, usb): a guest left on IDE gets SATA, as on q35.
  const bus = caps.blockBus === 'ide' ? 'sata' : caps.blockBus;
  const disks: V1Disk[] = targets.map((_, index) => ({
    name: `disk${index}`,
    disk: { bus },
    ...(index === 0 ? { bootOrder: 1 } : {}),
  }));
  const volumes: V1Volume[] = targets.map((target, index) => ({
    name: `disk${index}`,
    hostDisk: { path: target.path, type: 'Disk' },
  }));

  const cdroms = source.removables.filter((removable) => removable.kind === 'cdrom').length;
  if (cdroms > 0) {
    warnings.push(
      `The source's ${cdroms} CD-ROM drive(s) are not in ${name}.yaml: a KubeVirt CD-ROM needs a volume; add a cdrom disk and its volume (a containerDisk, a PVC) if the guest needs one.`,
    );
  }

  const { interfaces, networks } = planKubevirtNetworks(source.nics, input.networkMapping, caps.netModel);

  const features: V1Features = {};
  if (secureBoot) features.smm = { enabled: true };
  if (windows) features.hyperv = structuredClone(WINDOWS_HYPERV);
  if (windows) {
    warnings.push(
      `Windows keeps its clock in local time, and KubeVirt's clock is UTC unless told the zone: set spec.template.spec.domain.clock.timezone in ${name}.yaml to the guest's zone (e.g. "Europe/Paris"), or its clock is off by its UTC offset until it syncs.`,
    );
  }

  const domain: V1DomainSpec = {
    firmware: { bootloader: firmware === 'uefi' ? { efi: { persistent: true, secureBoot } } : { bios: {} } },
    cpu,
    resources: {
      requests: { memory: Number.isInteger(source.memoryMiB) ? `${source.memoryMiB}Mi` : `${Math.round(source.memoryMiB * 1024)}Ki` },
    },
    ...(Object.keys(features).length > 0 ? { features } : {}),
    ...(windows ? { clock: structuredClone(WINDOWS_CLOCK) } : {}),
    devices: {
      disks,
      // No interface listed means KubeVirt adds one on the pod network: a source without NICs gets none.
      ...(interfaces.length > 0 ? { interfaces } : { autoattachPodInterface: false }),
      rng: {},
    },
  };

  const labels: Record<string, string> = {};
  if (LABEL_VALUE_RE.test(input.version)) labels[KUBEVIRT_LABELS.version] = input.version;
  const osinfo = osinfoShortId(inspection);
  if (osinfo !== undefined) labels[KUBEVIRT_LABELS.osinfo] = osinfo;

  const vm: V1VirtualMachine = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, labels },
    spec: {
      // Created stopped, as -o libvirt defines and does not start: its owner starts it (virtctl start).
      runStrategy: 'Halted',
      template: {
        spec: {
          domain,
          ...(networks.length > 0 ? { networks } : {}),
          volumes,
        },
      },
    },
  };
  return { vm, warnings };
}

/**
 * The YAML text of a VirtualMachine. Printed as YAML 1.1, which Kubernetes'
 * parser follows: strings a 1.1 reader would take for something else (a MAC
 * of digits only is a base-60 number there, "on" a boolean) are quoted. No
 * anchors: an object met twice is written twice.
 */
export function kubevirtYaml(vm: V1VirtualMachine, version: string): string {
  const document = new Document(vm, { version: '1.1', aliasDuplicateObjects: false });
  document.commentBefore = ` Written by v2v ${version} (-o kubevirt).`;
  return document.toString({ lineWidth: 0 });
}
