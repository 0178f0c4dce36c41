/**
 * Options of remote sources (SSH, HTTPS): the rules that decide which flags
 * apply to which source, kept here so src/cli/options.ts stays one call long.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isRemoteSource, parseRemoteSource, type HttpsLocation } from './url.js';
import { redactUrl } from '../text/redact.js';

/** Read throttling of a remote source (nbdkit's rate filter). */
export interface Bandwidth {
  /** Bits per second, as nbdkit's rate= takes it ("10M"). */
  rate?: string;
  /** A file holding the rate, re-read while running (rate-file=). */
  rateFile?: string;
}

/** Raw remote flags as the command line gave them. */
export interface RawRemoteOptions {
  /** -it: input transport ("ssh"). */
  it?: string;
  /** -ip: file holding the password (SSH or HTTPS). */
  ip?: string;
  sshIdentity?: string;
  knownHosts?: string;
  sshFingerprint?: string;
  caFile?: string;
  insecure?: boolean;
}

/** Normalized remote options (absolute file paths). */
export interface RemoteOptions {
  transport: 'ssh' | 'https';
  /** Password file (-ip): its content is never shown or put in argv. */
  passwordFile?: string;
  /** SSH private key (--ssh-identity); else ssh's default keys. */
  identity?: string;
  /** known_hosts used to verify the SSH host key (--known-hosts; default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Expected SSH host key fingerprint, "SHA256:..." (--ssh-fingerprint). */
  fingerprint?: string;
  /** CA bundle to verify the HTTPS server (--ca-file). */
  caFile?: string;
  /** Do not verify the HTTPS certificate (--insecure): explicit opt-out. */
  insecure: boolean;
  /** --bandwidth / --bandwidth-file: nbdkit's rate filter on every served disk. */
  bandwidth?: Bandwidth;
}

const SSH_FLAGS = ['sshIdentity', 'knownHosts', 'sshFingerprint'] as const;
const HTTPS_FLAGS = ['caFile', 'insecure'] as const;
const FLAG_NAMES: Record<string, string> = {
  sshIdentity: '--ssh-identity',
  knownHosts: '--known-hosts',
  sshFingerprint: '--ssh-fingerprint',
  caFile: '--ca-file',
  insecure: '--insecure',
};

/**
 * Checks the remote flags against the input mode and sources; returns the
 * normalized options, or undefined for a local source (and then no remote
 * flag may be given). Throws UsageError with one sentence naming the fix.
 */
export function normalizeRemoteOptions(raw: RawRemoteOptions, inputMode: string, sources: string[]): RemoteOptions | undefined {
  const remote = sources.filter(isRemoteSource);
  const given = (names: readonly string[]): string[] =>
    names.filter((n) => raw[n as keyof RawRemoteOptions] !== undefined && raw[n as keyof RawRemoteOptions] !== false);
  if (remote.length === 0) {
    const stray = [
      ...(raw.it !== undefined ? ['-it'] : []),
      ...(raw.ip !== undefined ? ['-ip'] : []),
      ...given([...SSH_FLAGS, ...HTTPS_FLAGS]).map((n) => FLAG_NAMES[n]),
    ];
    if (stray.length > 0)
      throw new UsageError(
        `${stray.join(', ')} only apply to a remote source (ssh:// or https://): remove ${stray.length > 1 ? 'them' : 'it'} or give a remote source.`,
      );
    return undefined;
  }
  if (remote.length !== sources.length) {
    throw new UsageError(`Local and remote sources cannot be mixed: give all disks as https:// URLs or all as local files.`);
  }
  const locations = remote.map(parseRemoteSource);
  const transport = locations[0]!.transport;
  if (locations.some((l) => l.transport !== transport)) {
    throw new UsageError(`All sources must use the same transport: give them all as ssh:// or all as https:// URLs.`);
  }
  if (transport === 'ssh') {
    if (raw.it !== 'ssh') {
      throw new UsageError(`An ssh:// source needs "-it ssh" (e.g. "v2v -i vmx -it ssh ${redactUrl(remote[0]!)} ...").`);
    }
    if (inputMode !== 'vmx') throw new UsageError(`-it ssh only applies to -i vmx: use -i vmx with an ssh://.../guest.vmx source.`);
    const wrong = given(HTTPS_FLAGS);
    if (wrong.length > 0)
      throw new UsageError(`${wrong.map((n) => FLAG_NAMES[n]).join(', ')} only apply to https:// sources: remove them.`);
    if (raw.sshFingerprint !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(raw.sshFingerprint)) {
      throw new UsageError(
        `Invalid --ssh-fingerprint "${raw.sshFingerprint}": give it as printed by "ssh-keygen -lf KEY", e.g. SHA256:abc...(43 characters).`,
      );
    }
    if (raw.sshFingerprint !== undefined && raw.knownHosts !== undefined) {
      throw new UsageError(`--ssh-fingerprint and --known-hosts both say how to trust the host key: give only one.`);
    }
  } else {
    if (raw.it !== undefined) throw new UsageError(`-it ${raw.it} does not apply to an https:// source: remove it.`);
    if (inputMode !== 'vmx' && inputMode !== 'disk')
      throw new UsageError(`https:// sources apply to -i vmx and -i disk only: use one of them.`);
    const wrong = given(SSH_FLAGS);
    if (wrong.length > 0) throw new UsageError(`${wrong.map((n) => FLAG_NAMES[n]).join(', ')} only apply to -it ssh sources: remove them.`);
    if (raw.insecure && raw.caFile !== undefined)
      throw new UsageError(`--insecure turns off the certificate check that --ca-file configures: give only one.`);
    if (locations.some((l) => l.transport === 'https' && l.password !== undefined) && raw.ip !== undefined) {
      throw new UsageError(`The password is given twice (in the URL and with -ip): keep -ip and remove it from the URL.`);
    }
    const clear = remote.find(
      (arg, i) => /^http:/i.test(arg) && (raw.ip !== undefined || (locations[i] as HttpsLocation).user !== undefined),
    );
    if (clear !== undefined) {
      throw new UsageError(
        `${redactUrl(clear)} would send the user and password in clear text over http://: use https:// (with --ca-file for a private CA).`,
      );
    }
  }
  return {
    transport,
    ...(raw.ip !== undefined ? { passwordFile: resolve(raw.ip) } : {}),
    ...(raw.sshIdentity !== undefined ? { identity: resolve(raw.sshIdentity) } : {}),
    ...(raw.knownHosts !== undefined ? { knownHosts: resolve(raw.knownHosts) } : {}),
    ...(raw.sshFingerprint !== undefined ? { fingerprint: raw.sshFingerprint.replace(/=$/, '') } : {}),
    ...(raw.caFile !== undefined ? { caFile: resolve(raw.caFile) } : {}),
    insecure: raw.insecure ?? false,
  };
}
