/**
 * The output's options: which `-o` mode, where, in which format, and how the
 * guest's NICs are mapped (-n/-b/--mac, parsed in networks.ts).
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { OutputFormat } from '../model.js';
import { checkMode, isOneOf, suggestion } from '../text/did-you-mean.js';
import { isValidGuestName } from './guest-name.js';
import { isKubevirtName, kubevirtNameProblem } from './kubevirt-name.js';
import type { NetworkMapping } from './networks.js';

/** Output modes implemented. */
export const OUTPUT_MODES = ['local', 'libvirt', 'qemu', 'json', 'kubevirt', 'null'] as const;
/** Output disk formats (-of). */
export const OUTPUT_FORMATS = ['raw', 'qcow2'] as const;
/** Output allocations (-oa). */
export const ALLOCATIONS = ['sparse', 'preallocated'] as const;

/** Where the converted guest goes. */
export interface OutputOptions {
  mode: (typeof OUTPUT_MODES)[number];
  /** Output storage (-os): a directory (local, qemu, json, kubevirt) or a libvirt pool name; empty for null. */
  storage: string;
  /** libvirt connection URI (-oc), for -o libvirt. */
  connection?: string;
  format: OutputFormat;
  allocation: 'sparse' | 'preallocated';
  /** Rename the guest (-on). */
  name?: string;
  /** -n / -b / --mac rules. */
  networkMapping: NetworkMapping;
  /** qcow2 with compressed clusters (--compressed, -oo compressed). */
  compressed?: boolean;
  /** false with --no-space-check: the target free-space check is skipped (thin storage). */
  spaceCheck?: boolean;
  /** --domain-type: the domain type written; absent: kvm for files, the target's choice for -o libvirt. */
  domainType?: 'kvm' | 'qemu';
}

/** virt-v2v's other names of our output modes (`-o disk` = `-o local`: virt-v2v(1)). */
export const OUTPUT_MODE_ALIASES: Readonly<Record<string, string>> = { disk: 'local' };

const UPLOAD = 'convert with "-o local -of qcow2 -os DIR" and import the disks and XML with that platform\'s own tools';
/** virt-v2v output modes we do not have, and what to do instead. */
export const REFUSED_OUTPUT_MODES: Readonly<Record<string, string>> = {
  glance: UPLOAD,
  openstack: UPLOAD,
  rhv: UPLOAD,
  rhev: UPLOAD,
  ovirt: UPLOAD,
  'rhv-upload': UPLOAD,
  'ovirt-upload': UPLOAD,
  vdsm: UPLOAD,
};

/** The output's flags as the command line gave them. */
export interface RawOutputOptions {
  o?: string;
  oc?: string;
  os?: string;
  of?: string;
  oa?: string;
  on?: string;
  /** --print-source: no output is needed (null when -o is absent). */
  printSource?: boolean;
}

/** Where and how the output is written, before the network mapping and virt-v2v's spellings join it. */
export type OutputTarget = Pick<OutputOptions, 'mode' | 'storage' | 'connection' | 'format' | 'allocation' | 'name'>;

/** Output modes whose -os is a directory. */
const DIRECTORY_OUTPUTS: ReadonlySet<string> = new Set(['local', 'qemu', 'json', 'kubevirt']);

/** True when output mode `mode` (or virt-v2v's other name of one) writes into an -os directory. */
export function isDirectoryOutput(mode: string): boolean {
  return DIRECTORY_OUTPUTS.has(OUTPUT_MODE_ALIASES[mode] ?? mode);
}

/** -o (and virt-v2v's names of it), -oc, -os, -of, -oa and -on, checked; throws UsageError naming the fix. */
export function normalizeOutputTarget(raw: RawOutputOptions): OutputTarget {
  // --print-source stops after reading the source: no output is needed.
  const givenOutput = raw.o ?? (raw.printSource ? 'null' : undefined);
  if (givenOutput === undefined) {
    throw new UsageError(`No output mode given: add "-o local -os DIR" (or -o libvirt, qemu, json, kubevirt, null).`);
  }
  const mode = checkMode('output', '-o', OUTPUT_MODE_ALIASES[givenOutput] ?? givenOutput, OUTPUT_MODES, REFUSED_OUTPUT_MODES);
  if (raw.oc !== undefined && mode !== 'libvirt') {
    throw new UsageError(`-oc only applies to -o libvirt: remove it.`);
  }
  let storage = '';
  if (DIRECTORY_OUTPUTS.has(mode)) {
    if (raw.os === undefined || raw.os === '') {
      throw new UsageError(`-o ${mode} needs an output directory: add "-os DIR".`);
    }
    storage = resolve(raw.os);
  } else if (mode === 'libvirt') {
    storage = raw.os ?? 'default';
  } else if (raw.os !== undefined) {
    throw new UsageError(`-o ${mode} takes no -os: remove it.`);
  }
  const format = raw.of ?? 'raw';
  if (!isOneOf(OUTPUT_FORMATS, format)) {
    throw new UsageError(
      `Unsupported output format "-of ${format}": ${suggestion(format, OUTPUT_FORMATS, '-of')}use raw or qcow2 (convert the result with qemu-img for other formats).`,
    );
  }
  const allocation = raw.oa ?? 'sparse';
  if (!isOneOf(ALLOCATIONS, allocation)) {
    throw new UsageError(
      `Unknown allocation "-oa ${allocation}": ${suggestion(allocation, ALLOCATIONS, '-oa')}use sparse or preallocated.`,
    );
  }
  if (raw.on !== undefined && !isValidGuestName(raw.on)) {
    throw new UsageError(`Invalid guest name "-on ${raw.on}": use letters, digits, '.', '_', '+' or '-', starting with a letter or digit.`);
  }
  if (raw.on !== undefined && mode === 'kubevirt' && !isKubevirtName(raw.on)) {
    throw new UsageError(kubevirtNameProblem(raw.on));
  }
  return {
    mode,
    storage,
    ...(raw.oc !== undefined ? { connection: raw.oc } : {}),
    format,
    allocation,
    ...(raw.on !== undefined ? { name: raw.on } : {}),
  };
}
