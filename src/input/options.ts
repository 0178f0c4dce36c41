/**
 * The input's options: which `-i` mode, the source paths and, for remote
 * sources, how to reach them (each part parsed by its own module: remote/options.ts, vsphere/options.ts).
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { RawRemoteOptions, RemoteOptions } from '../remote/options.js';
import { isRemoteSource } from '../remote/url.js';
import { checkMode, isOneOf } from '../text/did-you-mean.js';
import { normalizeVsphereOptions, type VsphereOptions } from './vsphere/options.js';

/** Input modes implemented. */
export const INPUT_MODES = ['vmx', 'disk', 'libvirtxml', 'ova', 'libvirt'] as const;
/** Input transports (-it). */
export const INPUT_TRANSPORTS = ['ssh'] as const;
/** Where the source comes from. */
export interface InputOptions {
  mode: (typeof INPUT_MODES)[number];
  /** The source files (absolute): one, or several disk images for -i disk. */
  paths: string[];
  /** Format of -i disk images (-if); probed when absent. */
  format?: string;
  /** Set when the source is ssh:// or https:// (paths are then URLs). */
  remote?: RemoteOptions;
  /** Set for -i libvirt -ic vpx://|esx:// (paths is then the VM name). */
  vsphere?: VsphereOptions;
  /** --allow-dir (absolute): directories besides the .vmx's own that a local -i vmx's disks may resolve into. */
  allowDirs?: string[];
}

/** virt-v2v's other names of our input modes (`-i local` is virt-v2v's old name of `-i disk`: virt-v2v(1)). */
export const INPUT_MODE_ALIASES: Readonly<Record<string, string>> = { local: 'disk' };
/** virt-v2v input modes we do not have, and what to do instead (none since -i libvirt reads vCenter/ESXi: src/input/vsphere/input.ts). */
export const REFUSED_INPUT_MODES: Readonly<Record<string, string>> = {};

/** The input's flags as the command line gave them. */
export interface RawInputOptions {
  i?: string;
  /** -ic: the vCenter/ESXi URI of -i libvirt. */
  ic?: string;
  if?: string;
  /** The source arguments. */
  positional: string[];
  /** Remote source flags (-it, -ip, --ssh-identity, --known-hosts, --ssh-fingerprint, --ca-file, --insecure). */
  remote?: RawRemoteOptions;
  /** --allow-dir DIR, repeatable. */
  allowDir?: string[];
}

/** The input mode and its source arguments, checked: -i (and virt-v2v's names of it), -ic, -if; throws UsageError naming the fix. */
export function normalizeInputMode(raw: RawInputOptions): { mode: InputOptions['mode']; vsphere?: VsphereOptions } {
  // -ic alone means -i libvirt, as with virt-v2v.
  const givenInput = raw.i ?? (raw.ic !== undefined ? 'libvirt' : 'vmx');
  const mode = checkMode('input', '-i', INPUT_MODE_ALIASES[givenInput] ?? givenInput, INPUT_MODES, REFUSED_INPUT_MODES);
  if (raw.ic !== undefined && mode !== 'libvirt') {
    throw new UsageError(`-ic only applies to -i libvirt (a vCenter/ESXi source): remove "-i ${raw.i}" or -ic.`);
  }
  const vsphere = mode === 'libvirt' ? normalizeVsphereOptions(raw.ic, raw.remote ?? {}, raw.positional) : undefined;
  if (raw.positional.length === 0) {
    throw new UsageError(
      `No source given: pass the ${mode === 'disk' ? 'disk image(s)' : `${mode} source`}, e.g. "v2v -i vmx guest.vmx -o local -os DIR".`,
    );
  }
  if (mode !== 'disk' && raw.positional.length > 1) {
    throw new UsageError(`-i ${mode} takes one source, but ${raw.positional.length} were given: ${raw.positional.join(' ')}.`);
  }
  if (raw.if !== undefined && mode !== 'disk') {
    throw new UsageError(`-if only applies to -i disk: remove it (the format of -i ${mode} disks is probed).`);
  }
  return { mode, ...(vsphere ? { vsphere } : {}) };
}

/** -it: the one transport v2v reads a source over (an https:// URL needs none). */
export function checkTransport(it: string | undefined): void {
  if (it !== undefined && !isOneOf(INPUT_TRANSPORTS, it)) {
    throw new UsageError(
      `-it ${it} is not supported: read the guest over SSH ("-it ssh ssh://root@esxi/vmfs/volumes/DS/guest/guest.vmx") or HTTPS (an https:// URL).`,
    );
  }
}

/** The input's options: local paths made absolute, URLs and a vSphere VM name kept as given. */
export function inputOptions(
  raw: RawInputOptions,
  mode: InputOptions['mode'],
  access: { vsphere?: VsphereOptions; remote?: RemoteOptions },
): InputOptions {
  const allowDirs = parseAllowDirs(raw.allowDir, mode, access.remote !== undefined || access.vsphere !== undefined);
  return {
    mode,
    paths: access.vsphere ? raw.positional : raw.positional.map((p) => (isRemoteSource(p) ? p : resolve(p))),
    ...(access.vsphere ? { vsphere: access.vsphere } : access.remote ? { remote: access.remote } : {}),
    ...(raw.if !== undefined ? { format: raw.if } : {}),
    ...(allowDirs.length > 0 ? { allowDirs } : {}),
  };
}

/**
 * --allow-dir DIR (repeatable): a local .vmx's disks, their extents and
 * parents may resolve (realpath) inside DIR as well as inside the .vmx's own
 * directory (src/input/disk-references.ts): for a VM whose disks sit on other
 * datastores mounted on this host. Only for a local -i vmx: the other modes
 * name their files explicitly or keep them inside the source, and a remote
 * .vmx's disks are the server's files. Made absolute here; that each is a
 * directory is checked with the source paths (src/input/source-paths.ts).
 */
export function parseAllowDirs(dirs: string[] | undefined, mode: InputOptions['mode'], remote: boolean): string[] {
  if (dirs === undefined || dirs.length === 0) return [];
  if (dirs.some((d) => d === '')) {
    throw new UsageError(
      `--allow-dir needs a directory: pass the datastore directory the .vmx's disks are in, e.g. "--allow-dir /vmfs/volumes/ds2".`,
    );
  }
  if (mode !== 'vmx') {
    throw new UsageError(
      `--allow-dir only applies to -i vmx (the disks a local .vmx names): remove it (-i ${mode} ${mode === 'ova' ? 'reads only files inside the OVA' : 'names its disks itself'}).`,
    );
  }
  if (remote) {
    throw new UsageError(
      `--allow-dir names directories of this host, for a local .vmx: remove it (a remote .vmx's disks are read on the server, wherever it names them).`,
    );
  }
  return [...new Set(dirs.map((d) => resolve(d)))];
}
