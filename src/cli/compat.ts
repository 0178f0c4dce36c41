/**
 * virt-v2v's spellings and options that our modes give a meaning to (the
 * mode aliases, -i local and -o disk, are with the modes: src/input/options.ts,
 * src/output/options.ts): -oo, --compressed, --no-trim/--vmtype
 * (warn and ignore, as virt-v2v 2.x does), --bandwidth; and the options we
 * refuse, each with the alternative. docs/virt-v2v-compat.md is the table of
 * all of them, checked against this module by test/unit/compat-table.test.ts.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Bandwidth } from '../remote/options.js';

/** virt-v2v options we refuse (by yargs name), with the alternative. `vddk-*`, `vdsm-*` cover their families. */
export const REFUSED_OPTIONS: Readonly<Record<string, string>> = {
  io: 'no input mode of v2v takes input options (-io is for VDDK): use -i vmx with -it ssh or an https:// URL',
  op: 'no output mode of v2v needs a password: use -o local, -o libvirt (with -oc) or -o qemu',
  'in-place': 'run virt-v2v-in-place for an in-place conversion',
  'keys-from-stdin': 'v2v cannot unlock LUKS volumes yet: remove the encryption in the source VM first',
  'echo-keys': 'v2v asks for no passphrase (it cannot unlock LUKS volumes yet): remove the option',
  'vddk-*': 'VDDK is not supported: read the VM over SSH (-i vmx -it ssh ssh://root@esxi/...) or HTTPS',
  'vdsm-*': '-o vdsm is not supported: convert with "-o local -of qcow2" and import with your platform\'s tools',
};

/** --domain-type values: hardware virtualization or emulation. */
export const DOMAIN_TYPES = ['kvm', 'qemu'] as const;

/** The virt-v2v -oo options we know. */
export const OUTPUT_OPTION_NAMES = ['compressed', 'qemu-boot'] as const;

/** Raw virt-v2v-compatible flags as the command line gave them. */
export interface RawCompatOptions {
  /** -oo OPTION[=VALUE], repeatable. */
  oo?: string[];
  /** --compressed (= -oo compressed). */
  compressed?: boolean;
  /** --qemu-boot (= -oo qemu-boot). */
  qemuBoot?: boolean;
  /** --no-trim ARG: ignored with a warning, as virt-v2v does. */
  noTrim?: string;
  /** --vmtype ARG: ignored with a warning, as virt-v2v does. */
  vmtype?: string;
  /** --bandwidth BPS. */
  bandwidth?: string;
  /** --bandwidth-file FILE. */
  bandwidthFile?: string;
  /** --no-space-check. */
  noSpaceCheck?: boolean;
  /** --domain-type kvm|qemu. */
  domainType?: string;
}

/** What the compatible flags mean once checked. */
export interface CompatOptions {
  compressed: boolean;
  spaceCheck: boolean;
  domainType?: 'kvm' | 'qemu';
  bandwidth?: Bandwidth;
  /** Warnings for flags accepted and ignored. */
  warnings: string[];
}

/** Bits per second with an optional k/M/G suffix, as virt-v2v and nbdkit's rate filter take it. */
const RATE_RE = /^[1-9][0-9]*[kKmMgG]?$/;

/** Checks the virt-v2v-compatible flags against the chosen modes; throws UsageError naming the fix. */
export function normalizeCompat(raw: RawCompatOptions, ctx: { outputMode: string; format: string; remoteSource: boolean }): CompatOptions {
  const warnings: string[] = [];
  let compressed = raw.compressed ?? false;
  let qemuBoot = raw.qemuBoot ?? false;
  for (const option of raw.oo ?? []) {
    const [name, value] = option.split('=', 2) as [string, string | undefined];
    if (name === 'compressed' && (value === undefined || value === 'true')) compressed = true;
    else if (name === 'qemu-boot' && (value === undefined || value === 'true')) qemuBoot = true;
    else if (name === 'disk' || name === 'create') {
      // virt-v2v's -o kubevirt: -oo disk=PATH (once per disk) and -oo create=false (disks made beforehand).
      throw new UsageError(
        `-oo ${name} is not supported: v2v writes each disk as DIR/NAME-sdX itself (choose DIR with "-os" and NAME with "-on"), then move the disks and edit the paths in the metadata if they must live elsewhere.`,
      );
    } else
      throw new UsageError(`Unknown output option "-oo ${option}": v2v knows ${OUTPUT_OPTION_NAMES.map((n) => `-oo ${n}`).join(' and ')}.`);
  }
  if (compressed && ctx.format !== 'qcow2') {
    throw new UsageError(`Compressed output (--compressed, -oo compressed) needs qcow2: add "-of qcow2".`);
  }
  if (qemuBoot) {
    // virt-v2v runs the guest in the foreground after converting; here the script is
    // the record of how to run it, and a converted guest is started by its owner.
    throw new UsageError(
      `--qemu-boot (-oo qemu-boot) is not supported: convert with "-o qemu -os DIR", then run the script DIR/NAME.sh it writes.`,
    );
  }
  if (raw.noTrim !== undefined)
    warnings.push('--no-trim is ignored, as in virt-v2v 2.x: unused blocks are always trimmed before the copy.');
  if (raw.vmtype !== undefined) warnings.push('--vmtype is ignored, as in virt-v2v 2.x.');
  if (raw.bandwidth !== undefined && !RATE_RE.test(raw.bandwidth)) {
    throw new UsageError(`Invalid "--bandwidth ${raw.bandwidth}": give bits per second, e.g. 10M (10 megabits/s), 500k or 1G.`);
  }
  let bandwidth: Bandwidth | undefined;
  if (raw.bandwidth !== undefined || raw.bandwidthFile !== undefined) {
    if (ctx.remoteSource) {
      bandwidth = {
        ...(raw.bandwidth !== undefined ? { rate: raw.bandwidth } : {}),
        ...(raw.bandwidthFile !== undefined ? { rateFile: resolve(raw.bandwidthFile) } : {}),
      };
    } else {
      warnings.push('--bandwidth and --bandwidth-file only limit remote (ssh://, https://) sources: ignored for this local source.');
    }
  }
  const domainType = DOMAIN_TYPES.find((type) => type === raw.domainType);
  if (raw.domainType !== undefined && domainType === undefined) {
    throw new UsageError(
      `Unknown "--domain-type ${raw.domainType}": use kvm (hardware virtualization) or qemu (emulation, for hosts without KVM).`,
    );
  }
  if (raw.domainType !== undefined && ctx.outputMode === 'null') warnings.push('--domain-type does nothing with -o null: ignored.');
  if (raw.domainType !== undefined && ctx.outputMode === 'kubevirt') {
    warnings.push("--domain-type does nothing with -o kubevirt (the cluster's KubeVirt configuration decides on emulation): ignored.");
  }
  return {
    compressed,
    spaceCheck: !(raw.noSpaceCheck ?? false),
    ...(domainType !== undefined ? { domainType } : {}),
    ...(bandwidth ? { bandwidth } : {}),
    warnings,
  };
}
