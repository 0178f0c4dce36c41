/**
 * ssh: reads small remote files (the .vmx, a VMDK's first bytes) with the
 * OpenSSH client, and pins a host key by fingerprint with ssh-keyscan.
 * Host keys are always verified (StrictHostKeyChecking=yes); keys by file;
 * a password only through SSH_ASKPASS reading the -ip file, never in argv.
 */
import { createHash } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { run, type Command } from '../src/host/exec.js';
import { CommandError, SourceError } from '../src/errors.js';

/** How to reach and authenticate to one SSH server. */
export interface SshTarget {
  host: string;
  port?: number;
  user?: string;
  identity?: string;
  /** known_hosts file used for verification (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Askpass helper printing the password (for -ip); BatchMode stays on otherwise. */
  askpass?: string;
}

/** The default known_hosts file of the user running v2v. */
export function defaultKnownHosts(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

/** Quotes one word for the remote POSIX shell that runs ssh's command. */
export function remoteShellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Builds `ssh ... -- COMMAND` with verification on and no prompts. */
export function sshCommand(t: SshTarget, remoteCommand: string): Command {
  const args = [
    '-o',
    `BatchMode=${t.askpass ? 'no' : 'yes'}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${t.knownHosts ?? defaultKnownHosts()}`,
    '-o',
    'ConnectTimeout=30',
    '-o',
    'LogLevel=ERROR',
    ...(t.askpass ? ['-o', 'NumberOfPasswordPrompts=1'] : ['-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no']),
    ...(t.identity !== undefined ? ['-i', t.identity, '-o', 'IdentitiesOnly=yes'] : []),
    ...(t.port !== undefined ? ['-p', String(t.port)] : []),
    ...(t.user !== undefined ? ['-l', t.user] : []),
    '--',
    t.host,
    remoteCommand,
  ];
  const env: Record<string, string> | undefined = t.askpass
    ? { SSH_ASKPASS: t.askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }
    : undefined;
  return { program: 'ssh', args, ...(env ? { env } : {}) };
}

/** Exit status of {@link remoteFileCheck} for a path that is not a regular file (ssh itself exits 255, a missing program 127). */
export const NOT_A_FILE_STATUS = 97;
/** The stderr line of {@link remoteFileCheck} naming what the path is instead. */
const NOT_A_FILE_PREFIX = 'v2v-not-a-file: ';
/** `test` operators in the order they are tried, and the word each gives (the words of src/host/local-files.ts fileKind). */
const KIND_TESTS: ReadonlyArray<[string, string]> = [
  ['-d', 'a directory'],
  ['-p', 'a FIFO'],
  ['-c', 'a character device'],
  ['-b', 'a block device'],
  ['-S', 'a socket'],
  ['-e', 'not a regular file'],
];

/**
 * Remote POSIX sh (busybox ash on ESXi) that passes when `path` is a regular
 * file (symlinks followed, as ESXi's /vmfs/volumes/NAME links are) and
 * otherwise exits {@link NOT_A_FILE_STATUS} with one stderr line naming what
 * it is ("a FIFO", "a character device", ... or "missing"): the check the
 * local inputs make with fstat, made before anything reads or serves the
 * file, so a .vmx cannot make v2v block on a FIFO or read a device.
 */
export function remoteFileCheck(path: string): string {
  const branches = KIND_TESTS.map(([op, kind]) => `elif [ ${op} "$f" ]; then k='${kind}'; `).join('');
  return `f=${remoteShellQuote(path)}; if [ -f "$f" ]; then k=; ${branches}else k=missing; fi; if [ -n "$k" ]; then echo "${NOT_A_FILE_PREFIX}$k" >&2; exit ${NOT_A_FILE_STATUS}; fi`;
}

/** The remote command printing the first `maxBytes` of a regular file (whole file when absent), checked first by {@link remoteFileCheck}. */
export function readRemoteCommand(path: string, maxBytes?: number): string {
  return `${remoteFileCheck(path)}; ${maxBytes === undefined ? 'exec cat -- "$f"' : `exec head -c ${maxBytes} -- "$f"`}`;
}

/** What {@link remoteFileCheck} said a path is, from a failed command's exit code and stderr; undefined for any other failure. */
export function notAFileKind(code: number | undefined, stderr: string): string | undefined {
  if (code !== NOT_A_FILE_STATUS) return undefined;
  const line = stderr.split('\n').find((l) => l.startsWith(NOT_A_FILE_PREFIX));
  return line?.slice(NOT_A_FILE_PREFIX.length).trim();
}

/** The error for a remote path that is not a regular file, named by {@link notAFileKind}. */
function notAFileError(display: string, kind: string): SourceError {
  return kind === 'missing'
    ? new SourceError(
        `${display} does not exist on the SSH server: check the path (in the ssh:// URL, or as the .vmx or VMDK descriptor names it).`,
      )
    : new SourceError(
        `${display} is ${kind} on the SSH server, not a regular file: v2v reads only regular files from a remote source; point the URL, the .vmx's fileName or the descriptor's extent at the file itself.`,
      );
}

/** Reads a remote text file (or its start) over ssh, once it is checked to be a regular file. Throws SourceError naming the fix. */
export async function sshReadFile(t: SshTarget, path: string, display: string, maxBytes?: number): Promise<string> {
  const cmd = sshCommand(t, readRemoteCommand(path, maxBytes));
  try {
    return (await run(cmd, { kind: 'probe' })).stdout;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    const kind = notAFileKind(error.code, error.stderr);
    if (kind !== undefined) throw notAFileError(display, kind);
    throw new SourceError(`Cannot read ${display} over SSH (${oneLine(error.stderr || error.message)}): ${sshHint(error.stderr)}.`);
  }
}

/** Checks over ssh that a remote path is a regular file (before nbdkit serves it). Throws SourceError naming the fix. */
export async function sshCheckFile(t: SshTarget, path: string, display: string): Promise<void> {
  try {
    await run(sshCommand(t, remoteFileCheck(path)), { kind: 'probe' });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    const kind = notAFileKind(error.code, error.stderr);
    if (kind !== undefined) throw notAFileError(display, kind);
    throw new SourceError(`Cannot check ${display} over SSH (${oneLine(error.stderr || error.message)}): ${sshHint(error.stderr)}.`);
  }
}

/** Joins a tool's stderr lines so an error stays one sentence on one line. */
export function oneLine(text: string): string {
  return text.trim().replace(/\.?\s*\n\s*/g, '; ');
}

/** Names the fix for an ssh failure from its stderr. */
export function sshHint(stderr: string): string {
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr)) {
    return 'the host key is not trusted: add it to the known_hosts file (--known-hosts FILE) or pass --ssh-fingerprint SHA256:... as printed by "ssh-keygen -lf" on the server';
  }
  if (/Permission denied/i.test(stderr))
    return 'authentication failed: pass the right key with --ssh-identity FILE (or a password file with -ip FILE)';
  if (/No such file|cannot open/i.test(stderr)) return 'check the path in the ssh:// URL';
  return 'check the host, port and network';
}

/** The OpenSSH fingerprint ("SHA256:base64, no padding") of a base64 public key blob. */
export function keyFingerprint(keyBase64: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** Builds `ssh-keyscan` for one host. */
export function keyscanCommand(host: string, port?: number): Command {
  return { program: 'ssh-keyscan', args: ['-T', '15', ...(port !== undefined ? ['-p', String(port)] : []), '--', host] };
}

/**
 * Fetches the server's host keys and keeps only the one matching the
 * fingerprint the user gave, written as a known_hosts file: from then on ssh
 * and nbdkit verify against it as usual. A mismatch is an error.
 */
export async function pinHostKey(host: string, port: number | undefined, fingerprint: string, knownHostsPath: string): Promise<void> {
  const { stdout } = await run(keyscanCommand(host, port), { allowFailure: true });
  const lines = stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const matching = lines.filter((l) => {
    const blob = l.trim().split(/\s+/)[2];
    return blob !== undefined && keyFingerprint(blob) === fingerprint;
  });
  if (lines.length === 0)
    throw new SourceError(
      `Cannot fetch the host key of ${host}${port !== undefined ? ` port ${port}` : ''}: check the host, port and network.`,
    );
  if (matching.length === 0) {
    throw new SourceError(
      `The host key of ${host} does not match --ssh-fingerprint ${fingerprint} (the server offered ${lines.map((l) => keyFingerprint(l.trim().split(/\s+/)[2] ?? '')).join(', ')}): check the fingerprint on the server with "ssh-keygen -lf".`,
    );
  }
  await writeFile(knownHostsPath, `${matching.join('\n')}\n`, { mode: 0o600 });
}

/** Writes an askpass helper that prints the -ip password file, so the password never appears in argv. */
export async function writeAskpass(path: string, passwordFile: string): Promise<void> {
  await writeFile(path, `#!/bin/sh\nexec head -n 1 -- ${remoteShellQuote(passwordFile)}\n`, { mode: 0o700 });
  await chmod(path, 0o700);
}
