/**
 * Options of a vSphere source (`-ic vpx://...`/`esx://...`, `-ip FILE`,
 * `--ca-file`, the VM name), with virt-v2v's URI shapes and meanings:
 *
 *   vpx://USER@VCENTER[:PORT]/[FOLDER/]DATACENTER/[CLUSTER/]HOST[?no_verify=1]
 *   esx://USER@ESXI[:PORT][?no_verify=1]
 *
 * The user is URL-encoded (administrator%40vsphere.local). `no_verify=1` is
 * the only way to skip certificate verification; otherwise the system CAs or
 * --ca-file verify it. The password comes from -ip FILE, never the URI.
 */
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { RawRemoteOptions, Bandwidth } from '../../remote/options.js';
import { redactUrl } from '../../text/redact.js';

/** A parsed vpx:// or esx:// URI. */
export interface VsphereUri {
  kind: 'vpx' | 'esx';
  host: string;
  port?: number;
  user: string;
  /**
   * vpx: the inventory path after the host, decoded: [folders/]datacenter/[cluster/]host
   * (which prefix is the datacenter is found on the server). esx: empty.
   */
  path: string[];
  /** no_verify=1 was given. */
  noVerify: boolean;
}

/** Normalized options of a vSphere source. */
export interface VsphereOptions {
  uri: VsphereUri;
  /** The VM name (or inventory path under the datacenter's VM folder). */
  vmName: string;
  /** -ip: file whose first line is the password. */
  passwordFile: string;
  /** --ca-file: CA bundle verifying the server instead of the system CAs. */
  caFile?: string;
  /** --bandwidth / --bandwidth-file: nbdkit's rate filter on every datastore read (set by normalizeOptions). */
  bandwidth?: Bandwidth;
}

/** The URI schemes v2v takes from -ic. */
export function isVsphereUri(uri: string): boolean {
  return /^(vpx|esx):\/\//i.test(uri);
}

/** Parses a vpx:// or esx:// URI; throws UsageError naming the fix when malformed. */
export function parseVsphereUri(uri: string): VsphereUri {
  const shape = 'use vpx://USER@VCENTER/DATACENTER/[CLUSTER/]HOST[?no_verify=1] or esx://USER@ESXI[?no_verify=1]';
  if (!isVsphereUri(uri)) {
    throw new UsageError(
      `-ic ${redactUrl(uri)} is not a vSphere URI: ${shape} (for a libvirt domain on this host, dump it with "virsh dumpxml" and use -i libvirtxml).`,
    );
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UsageError(`-ic ${redactUrl(uri)} is not a valid URI: ${shape}.`);
  }
  const kind = url.protocol.slice(0, -1).toLowerCase() as 'vpx' | 'esx';
  if (url.password) {
    throw new UsageError(
      `Do not put the password in the -ic URI ${redactUrl(uri)}: write it to a file readable only by you and pass "-ip FILE".`,
    );
  }
  if (!url.hostname) throw new UsageError(`-ic ${uri} names no host: ${shape}.`);
  if (!url.username)
    throw new UsageError(
      `-ic ${uri} names no user: put it before the host, e.g. ${kind}://root@${url.hostname} (URL-encode an "@" in it as %40).`,
    );
  let noVerify = false;
  for (const [key, value] of url.searchParams) {
    if (key !== 'no_verify')
      throw new UsageError(`-ic ${uri}: the parameter "${key}" is not supported: remove it (v2v takes only no_verify=1).`);
    if (value !== '0' && value !== '1') throw new UsageError(`-ic ${uri}: no_verify must be 0 or 1.`);
    noVerify = value === '1';
  }
  const path = url.pathname
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p));
  if (kind === 'vpx' && path.length < 2) {
    throw new UsageError(
      `-ic ${uri} names no datacenter and host: vCenter URIs are vpx://USER@VCENTER/DATACENTER/[CLUSTER/]HOST (see the VM's "Host" in the vSphere client).`,
    );
  }
  if (kind === 'esx' && path.length > 0) {
    throw new UsageError(`-ic ${uri}: an esx:// URI names only the host: remove "${url.pathname}".`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { kind, host, ...(url.port ? { port: Number(url.port) } : {}), user: decodeURIComponent(url.username), path, noVerify };
}

/** The URI as shown in messages (it never holds a password). */
export function displayVsphereUri(uri: VsphereUri): string {
  const host = uri.host.includes(':') ? `[${uri.host}]` : uri.host;
  const path = uri.path.map(encodeURIComponent).join('/');
  return `${uri.kind}://${encodeURIComponent(uri.user)}@${host}${uri.port !== undefined ? `:${uri.port}` : ''}${path ? `/${path}` : ''}${uri.noVerify ? '?no_verify=1' : ''}`;
}

/** Flags that belong to SSH or plain HTTPS sources, never to -ic. */
const NOT_FOR_VSPHERE: [keyof RawRemoteOptions, string][] = [
  ['it', '-it'],
  ['sshIdentity', '--ssh-identity'],
  ['knownHosts', '--known-hosts'],
  ['sshFingerprint', '--ssh-fingerprint'],
];

/**
 * Rules of `-i libvirt -ic URI -ip FILE VMNAME` (the mode is implied by -ic).
 * `listing` is for `v2v list`, which takes no VM name.
 */
export function normalizeVsphereOptions(
  ic: string | undefined,
  raw: RawRemoteOptions,
  positional: string[],
  listing = false,
): VsphereOptions {
  if (ic === undefined) {
    throw new UsageError(
      `-i libvirt needs the vCenter or ESXi URI: add -ic 'vpx://USER@VCENTER/DATACENTER/HOST?no_verify=1' (or esx://USER@ESXI).`,
    );
  }
  const uri = parseVsphereUri(ic);
  for (const [key, flag] of NOT_FOR_VSPHERE) {
    if (raw[key] !== undefined) throw new UsageError(`${flag} does not apply to a vSphere source (-ic): remove it.`);
  }
  if (raw.insecure) {
    throw new UsageError(
      `--insecure does not apply to -ic: to skip the certificate check add "?no_verify=1" to the URI (or pass the CA with --ca-file FILE).`,
    );
  }
  if (raw.caFile !== undefined && uri.noVerify) {
    throw new UsageError(`no_verify=1 turns off the certificate check that --ca-file configures: give only one.`);
  }
  if (raw.ip === undefined || raw.ip === '') {
    throw new UsageError(
      `A vSphere source needs the password of ${uri.user}: write it to a file readable only by you and pass "-ip FILE".`,
    );
  }
  if (!listing && positional.length !== 1) {
    throw new UsageError(
      positional.length === 0
        ? `No VM named: pass the name of the VM to convert after the options ("v2v list -ic URI -ip FILE" lists them).`
        : `-ic converts one VM, but ${positional.length} were given: ${positional.join(' ')} (use "v2v batch" for several).`,
    );
  }
  return {
    uri,
    vmName: listing ? '' : positional[0]!,
    passwordFile: resolve(raw.ip),
    ...(raw.caFile !== undefined ? { caFile: resolve(raw.caFile) } : {}),
  };
}
