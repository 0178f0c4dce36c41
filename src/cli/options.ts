/**
 * Run options: parsed by index.ts, normalized and checked here (parse →
 * normalize → rules), returned as data. Flags that do not apply to the
 * chosen mode are rejected by name.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { INPUT_MODES,INPUT_TRANSPORTS } from '../input/options.js';
import { isValidGuestName } from '../output/guest-name.js';
import { ALLOCATIONS,OUTPUT_FORMATS,OUTPUT_MODES } from '../output/options.js';
import type { Options } from '../../stages/context.js';
import { parseNetworkMapping,type NetworkMapping } from '../output/networks.js';
import { normalizeRemoteOptions,type RawRemoteOptions,type RemoteOptions } from '../remote/options.js';
import { isRemoteSource } from '../remote/url.js';
import { parseMachineReadable } from '../progress/events.js';
import { parseRootChoice } from '../convert/root/option.js';
import { normalizeVsphereOptions } from '../input/vsphere/options.js';
import { parseVerify } from '../verify/choice.js';
import { didYouMean } from './messages.js';
import { checkLogFilePath,type LogFileChoice } from '../progress/run-log.js';
import {
INPUT_MODE_ALIASES,normalizeCompat,OUTPUT_MODE_ALIASES,REFUSED_INPUT_MODES,REFUSED_OUTPUT_MODES,type RawCompatOptions,
} from './compat.js';

/** Raw values as the command line gave them (all optional: rules decide). */
export interface RawOptions {
  i?: string;
  /** -ic: the vCenter/ESXi URI of -i libvirt. */
  ic?: string;
  if?: string;
  o?: string;
  oc?: string;
  os?: string;
  of?: string;
  oa?: string;
  on?: string;
  network?: string[];
  bridge?: string[];
  mac?: string[];
  printSource?: boolean;
  positional: string[];
  /** Remote source flags (-it, -ip, --ssh-identity, --known-hosts, --ssh-fingerprint, --ca-file, --insecure). */
  remote?: RawRemoteOptions;
  verbose?: boolean;
  trace?: boolean;
  quiet?: boolean;
  /** The value of --machine-readable ('' when given bare). */
  machineReadable?: string;
  /** --root ask|single|first|/dev/X. */
  root?: string;
  /** --key (LUKS keys): not supported yet, refused by name. */
  key?: string[];
  /** --virtio-win PATH. */
  virtioWin?: string;
  /** virt-v2v's spellings (-oo, --compressed, --no-trim, --bandwidth...): src/cli/compat.ts. */
  compat?: RawCompatOptions;
  /** The value of --verify ('' when given bare); absent: the default. */
  verify?: string;
  /** --log-file PATH. */
  logFile?: string;
  /** --no-log-file. */
  noLogFile?: boolean;
}

/** Output modes whose -os is a directory. */
const DIRECTORY_OUTPUTS: ReadonlySet<string> = new Set(['local', 'qemu', 'json']);

/** Applies the rules to raw options; throws UsageError with one sentence naming the fix. */
export function normalizeOptions(raw: RawOptions): Options {
  // -ic alone means -i libvirt, as with virt-v2v.
  const givenInput = raw.i ?? (raw.ic !== undefined ? 'libvirt' : 'vmx');
  const inputMode = checkMode('input', '-i', INPUT_MODE_ALIASES[givenInput] ?? givenInput, INPUT_MODES, REFUSED_INPUT_MODES);
  if (raw.ic !== undefined && inputMode !== 'libvirt') {
    throw new UsageError(`-ic only applies to -i libvirt (a vCenter/ESXi source): remove "-i ${raw.i}" or -ic.`);
  }
  const vsphere = inputMode === 'libvirt' ? normalizeVsphereOptions(raw.ic, raw.remote ?? {}, raw.positional) : undefined;
  if (raw.positional.length === 0) {
    throw new UsageError(`No source given: pass the ${inputMode === 'disk' ? 'disk image(s)' : `${inputMode} source`}, e.g. "v2v -i vmx guest.vmx -o local -os DIR".`);
  }
  if (inputMode !== 'disk' && raw.positional.length > 1) {
    throw new UsageError(`-i ${inputMode} takes one source, but ${raw.positional.length} were given: ${raw.positional.join(' ')}.`);
  }
  if (raw.if !== undefined && inputMode !== 'disk') {
    throw new UsageError(`-if only applies to -i disk: remove it (the format of -i ${inputMode} disks is probed).`);
  }
  // --print-source stops after reading the source: no output is needed.
  const givenOutput = raw.o ?? (raw.printSource ? 'null' : undefined);
  if (givenOutput === undefined) {
    throw new UsageError(`No output mode given: add "-o local -os DIR" (or -o libvirt, qemu, json, null).`);
  }
  const outputMode = checkMode('output', '-o', OUTPUT_MODE_ALIASES[givenOutput] ?? givenOutput, OUTPUT_MODES, REFUSED_OUTPUT_MODES);
  if (raw.oc !== undefined && outputMode !== 'libvirt') {
    throw new UsageError(`-oc only applies to -o libvirt: remove it.`);
  }
  let storage = '';
  if (DIRECTORY_OUTPUTS.has(outputMode)) {
    if (raw.os === undefined || raw.os === '') {
      throw new UsageError(`-o ${outputMode} needs an output directory: add "-os DIR".`);
    }
    storage = resolve(raw.os);
  } else if (outputMode === 'libvirt') {
    storage = raw.os ?? 'default';
  } else if (raw.os !== undefined) {
    throw new UsageError(`-o ${outputMode} takes no -os: remove it.`);
  }
  const format = raw.of ?? 'raw';
  if (!isOneOf(OUTPUT_FORMATS, format)) {
    throw new UsageError(`Unsupported output format "-of ${format}": ${suggestion(format, OUTPUT_FORMATS, '-of')}use raw or qcow2 (convert the result with qemu-img for other formats).`);
  }
  const allocation = raw.oa ?? 'sparse';
  if (!isOneOf(ALLOCATIONS, allocation)) {
    throw new UsageError(`Unknown allocation "-oa ${allocation}": ${suggestion(allocation, ALLOCATIONS, '-oa')}use sparse or preallocated.`);
  }
  if (raw.on !== undefined && !isValidGuestName(raw.on)) {
    throw new UsageError(`Invalid guest name "-on ${raw.on}": use letters, digits, '.', '_', '+' or '-', starting with a letter or digit.`);
  }
  if (raw.key !== undefined && raw.key.length > 0) {
    throw new UsageError(`--key is not supported yet (v2v cannot unlock LUKS volumes): remove the encryption in the source VM and retry without --key.`);
  }
  const root = parseRootChoice(raw.root);
  if (raw.virtioWin === '') {
    throw new UsageError(`--virtio-win needs a path: pass the virtio-win directory or ISO, e.g. "--virtio-win /usr/share/virtio-win".`);
  }
  if (raw.quiet && (raw.verbose || raw.trace)) {
    throw new UsageError(`-q cannot be combined with -v or -x: choose one.`);
  }
  const networkMapping: NetworkMapping = { networks: raw.network ?? [], bridges: raw.bridge ?? [], macs: raw.mac ?? [] };
  parseNetworkMapping(networkMapping); // throws UsageError on a bad spec, now rather than after the copy
  const verify = parseVerify(raw.verify);
  if (outputMode === 'null' && raw.verify !== undefined && (verify.checksum || verify.boot)) {
    throw new UsageError(`--verify does not apply to -o null (the disks are discarded): remove it, or use another output.`);
  }
  if (raw.remote?.it !== undefined && !isOneOf(INPUT_TRANSPORTS, raw.remote.it)) {
    throw new UsageError(`-it ${raw.remote.it} is not supported: read the guest over SSH ("-it ssh ssh://root@esxi/vmfs/volumes/DS/guest/guest.vmx") or HTTPS (an https:// URL).`);
  }
  const logFile = logFileChoice(raw);
  const remote = vsphere ? {} : remoteInput(raw, inputMode);
  const compat = normalizeCompat(raw.compat ?? {}, { outputMode, format, remoteSource: remote.remote !== undefined || vsphere !== undefined });
  if (outputMode === 'null' && (networkMapping.networks.length + networkMapping.bridges.length + networkMapping.macs.length) > 0) {
    // virt-v2v accepts them with -o null too: a command line tried with -o null first must not fail for them.
    compat.warnings.push('-n, -b and --mac do nothing with -o null (nothing is defined): ignored.');
  }
  if (remote.remote && compat.bandwidth) remote.remote.bandwidth = compat.bandwidth;
  if (vsphere && compat.bandwidth) vsphere.bandwidth = compat.bandwidth;
  return {
    input: {
      mode: inputMode,
      paths: vsphere ? raw.positional : raw.positional.map((p) => (isRemoteSource(p) ? p : resolve(p))),
      ...(vsphere ? { vsphere } : remote),
      ...(raw.if !== undefined ? { format: raw.if } : {}),
    },
    output: {
      mode: outputMode,
      storage,
      ...(raw.oc !== undefined ? { connection: raw.oc } : {}),
      format,
      allocation,
      ...(raw.on !== undefined ? { name: raw.on } : {}),
      networkMapping,
      ...(compat.compressed ? { compressed: true } : {}),
      ...(!compat.spaceCheck ? { spaceCheck: false } : {}),
      ...(compat.domainType !== undefined ? { domainType: compat.domainType } : {}),
    },
    printSource: raw.printSource ?? false,
    verbose: raw.verbose ?? false,
    trace: raw.trace ?? false,
    quiet: raw.quiet ?? false,
    ...(raw.machineReadable !== undefined ? { machineReadable: parseMachineReadable(raw.machineReadable) } : {}),
    ...(root.kind !== 'single' ? { root } : {}),
    ...(raw.virtioWin !== undefined ? { virtioWin: resolve(raw.virtioWin) } : {}),
    verify,
    logFile,
    ...(compat.warnings.length > 0 ? { warnings: compat.warnings } : {}),
  };
}

/** --log-file / --no-log-file: the path is checked now, before anything runs (it must be new, in an existing directory). */
function logFileChoice(raw: RawOptions): LogFileChoice {
  if (raw.logFile !== undefined && raw.noLogFile) {
    throw new UsageError(`--log-file and --no-log-file contradict each other: keep one.`);
  }
  if (raw.noLogFile) return { kind: 'none' };
  if (raw.logFile === undefined) return { kind: 'default' };
  if (raw.logFile === '') throw new UsageError(`--log-file needs a path: pass a new file, e.g. "--log-file /var/tmp/guest.log".`);
  return { kind: 'file', path: checkLogFilePath(raw.logFile) };
}

/** Checks a mode against ours, virt-v2v's we refuse (with the alternative) and near misses. */
function checkMode<M extends string>(kind: string, flag: string, mode: string, modes: readonly M[], refused: Readonly<Record<string, string>>): M {
  if ((modes as readonly string[]).includes(mode)) return mode as M;
  const why = refused[mode];
  if (why !== undefined) throw new UsageError(`${flag} ${mode} is not supported by v2v: ${why}.`);
  throw new UsageError(`Unknown ${kind} mode "${flag} ${mode}": ${suggestion(mode, modes, flag)}use one of ${modes.join(', ')}.`);
}

/** Whether `value` is one of `list` (and so of its type). */
function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/** "did you mean "-o local"? " for a near miss, else nothing. */
function suggestion(word: string, candidates: readonly string[], flag: string): string {
  const near = didYouMean(word, candidates);
  return near !== undefined ? `did you mean "${flag} ${near}"? ` : '';
}

/** The remote options of the input, when the source is remote (rules in src/remote/options.ts). */
function remoteInput(raw: RawOptions, inputMode: string): { remote?: RemoteOptions } {
  const remote = normalizeRemoteOptions(raw.remote ?? {}, inputMode, raw.positional);
  return remote ? { remote } : {};
}
