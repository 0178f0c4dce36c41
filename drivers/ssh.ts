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

/** The remote command printing the first `maxBytes` of a file (whole file when absent). */
export function readRemoteCommand(path: string, maxBytes?: number): string {
  return maxBytes === undefined ? `cat -- ${remoteShellQuote(path)}` : `head -c ${maxBytes} -- ${remoteShellQuote(path)}`;
}

/** Reads a remote text file (or its start) over ssh. Throws SourceError naming the fix. */
export async function sshReadFile(t: SshTarget, path: string, display: string, maxBytes?: number): Promise<string> {
  const cmd = sshCommand(t, readRemoteCommand(path, maxBytes));
  try {
    return (await run(cmd, { kind: 'probe' })).stdout;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new SourceError(`Cannot read ${display} over SSH (${oneLine(error.stderr || error.message)}): ${sshHint(error.stderr)}.`);
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
