/**
 * Run options: parsed by index.ts, normalized and checked here (parse →
 * normalize → rules), returned as data. Each module checks its own options
 * (the input's, the output's, remote access, vSphere, --root, --verify,
 * --machine-readable, --log-file, virt-v2v's spellings); this assembles
 * them and applies the rules between them. Flags that do not apply to the
 * chosen mode are rejected by name.
 */
import { resolve } from 'node:path';
import type { Options } from '../../stages/context.js';
import { parseRootChoice } from '../convert/root/option.js';
import { UsageError } from '../errors.js';
import { checkTransport, inputOptions, normalizeInputMode, type RawInputOptions } from '../input/options.js';
import { parseNetworkMapping, type NetworkMapping } from '../output/networks.js';
import { normalizeOutputTarget, type RawOutputOptions } from '../output/options.js';
import { parseMachineReadable } from '../progress/events.js';
import { checkLogFilePath, type LogFileChoice } from '../progress/run-log.js';
import { normalizeRemoteOptions } from '../remote/options.js';
import { parseVerify } from '../verify/choice.js';
import { normalizeWarmOptions, type RawWarmOptions } from '../warm/options.js';
import { normalizeCompat, type RawCompatOptions } from './compat.js';

/** Raw values as the command line gave them (all optional: rules decide). */
export interface RawOptions extends RawInputOptions, RawOutputOptions {
  network?: string[];
  bridge?: string[];
  mac?: string[];
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
  /** --warm and its options (src/warm/options.ts). */
  warm?: RawWarmOptions;
}

/** Applies the rules to raw options; throws UsageError with one sentence naming the fix. */
export function normalizeOptions(raw: RawOptions): Options {
  const { mode: inputMode, vsphere } = normalizeInputMode(raw);
  const target = normalizeOutputTarget(raw);
  if (raw.key !== undefined && raw.key.length > 0) {
    throw new UsageError(
      `--key is not supported yet (v2v cannot unlock LUKS volumes): remove the encryption in the source VM and retry without --key.`,
    );
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
  if (target.mode === 'null' && raw.verify !== undefined && (verify.checksum || verify.boot)) {
    throw new UsageError(`--verify does not apply to -o null (the disks are discarded): remove it, or use another output.`);
  }
  checkTransport(raw.remote?.it);
  const logFile = logFileChoice(raw);
  const remote = vsphere ? undefined : normalizeRemoteOptions(raw.remote ?? {}, inputMode, raw.positional);
  const compat = normalizeCompat(raw.compat ?? {}, {
    outputMode: target.mode,
    format: target.format,
    remoteSource: remote !== undefined || vsphere !== undefined,
  });
  if (target.mode === 'null' && networkMapping.networks.length + networkMapping.bridges.length + networkMapping.macs.length > 0) {
    // virt-v2v accepts them with -o null too: a command line tried with -o null first must not fail for them.
    compat.warnings.push('-n, -b and --mac do nothing with -o null (nothing is defined): ignored.');
  }
  if (target.mode === 'kubevirt' && target.format === 'qcow2') {
    // KubeVirt opens a hostDisk volume as raw (virt-launcher's converter), whatever the file holds.
    compat.warnings.push(
      '-o kubevirt -of qcow2: KubeVirt reads a hostDisk volume as raw, so NAME.yaml boots only from raw disks: import the qcow2 disks into PVCs (virtctl image-upload converts them) and point the volumes at those, or convert with -of raw.',
    );
  }
  const warm = normalizeWarmOptions(raw.warm ?? {}, {
    vsphere: vsphere !== undefined,
    printSource: raw.printSource ?? false,
    outputMode: target.mode,
    ...(target.storage !== '' ? { outputStorage: target.storage } : {}),
  });
  if (remote && compat.bandwidth) remote.bandwidth = compat.bandwidth;
  if (vsphere && compat.bandwidth) vsphere.bandwidth = compat.bandwidth;
  return {
    input: inputOptions(raw, inputMode, { ...(vsphere ? { vsphere } : {}), ...(remote ? { remote } : {}) }),
    output: {
      ...target,
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
    ...(warm ? { warm } : {}),
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
