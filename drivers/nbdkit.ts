/**
 * nbdkit: serves a remote disk (curl plugin for HTTPS, ssh plugin for SSH)
 * read-only on a unix socket in the run's temp dir, behind the retry filter
 * so a transient network fault during the copy is retried, not fatal.
 *
 * Why nbdkit rather than qemu's own https/ssh drivers: qemu's https driver
 * hangs at random under parallel reads, and nbdkit's ssh plugin is ~2x faster
 * than qemu's ssh driver (measured: docs/host-tools.md). Credentials never reach argv:
 * passwords go by file (`password=+FILE`), only key and known_hosts paths are
 * named; a session cookie likewise (`cookie=+FILE`).
 */
import { rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cleanups } from '../src/host/cleanup.js';
import { CommandError, SourceError } from '../src/errors.js';
import { run, spawn, trimStderr, type Command } from '../src/host/exec.js';
import { redactUrl } from '../src/text/redact.js';

const NBDKIT = 'nbdkit';

/** How hard the retry filter tries before a read fails for good. */
export interface RetryPolicy {
  /** Reopen-and-retry attempts per failing request. */
  retries: number;
  /** First delay in seconds; doubled each time (exponential back-off). */
  delaySeconds: number;
}

/** ~1+2+4+8+16+32 s = about a minute of outage survived per request. */
export const DEFAULT_RETRY: RetryPolicy = { retries: 6, delaySeconds: 1 };

/** An HTTPS (or HTTP) disk for the curl plugin. */
export interface CurlExport {
  plugin: 'curl';
  /** URL without userinfo. */
  url: string;
  user?: string;
  /** File holding the password (read by nbdkit: `password=+FILE`). */
  passwordFile?: string;
  /** File holding a cookie header value, e.g. the vSphere session (read by nbdkit: `cookie=+FILE`). */
  cookieFile?: string;
  caFile?: string;
  insecure?: boolean;
  /** Per-request timeout in seconds, so a server that stops answering is an error, not a hang. */
  timeoutSeconds?: number;
}

/** A disk file reached over SSH for the ssh plugin. */
export interface SshExport {
  plugin: 'ssh';
  host: string;
  port?: number;
  user?: string;
  path: string;
  identity?: string;
  knownHosts?: string;
  passwordFile?: string;
  timeoutSeconds?: number;
}

/** What one nbdkit serves, optionally throttled (--bandwidth: nbdkit's rate filter). */
export type NbdExport = (CurlExport | SshExport) & { rate?: string; rateFile?: string };

/** Builds the nbdkit argv: read-only, foreground (errors reach us), unix socket, retry filter, dies with v2v. */
export function nbdkitCommand(socket: string, e: NbdExport, retry: RetryPolicy = DEFAULT_RETRY): Command {
  // The rate filter sits outside retry, so a retried read is throttled too.
  const throttled = e.rate !== undefined || e.rateFile !== undefined;
  const common = ['-r', '-f', '--exit-with-parent', '-U', socket, ...(throttled ? ['--filter=rate'] : []), '--filter=retry'];
  const rateArgs = [...(e.rate !== undefined ? [`rate=${e.rate}`] : []), ...(e.rateFile !== undefined ? [`rate-file=${e.rateFile}`] : [])];
  const retryArgs = [`retries=${retry.retries}`, `retry-delay=${retry.delaySeconds}`, 'retry-exponential=yes'];
  const timeout = `timeout=${e.timeoutSeconds ?? 60}`;
  if (e.plugin === 'curl') {
    return {
      program: NBDKIT,
      args: [
        ...common,
        'curl',
        `url=${e.url}`,
        ...(e.user !== undefined ? [`user=${e.user}`] : []),
        ...(e.passwordFile !== undefined ? [`password=+${e.passwordFile}`] : []),
        ...(e.cookieFile !== undefined ? [`cookie=+${e.cookieFile}`] : []),
        ...(e.caFile !== undefined ? [`cainfo=${e.caFile}`] : []),
        ...(e.insecure ? ['sslverify=false'] : []),
        timeout,
        ...retryArgs,
        ...rateArgs,
      ],
    };
  }
  return {
    program: NBDKIT,
    args: [
      ...common,
      'ssh',
      `host=${e.host}`,
      ...(e.port !== undefined ? [`port=${e.port}`] : []),
      ...(e.user !== undefined ? [`user=${e.user}`] : []),
      `path=${e.path}`,
      ...(e.identity !== undefined ? [`identity=${e.identity}`] : []),
      ...(e.knownHosts !== undefined ? [`known-hosts=${e.knownHosts}`] : []),
      ...(e.passwordFile !== undefined ? [`password=+${e.passwordFile}`] : []),
      timeout,
      ...retryArgs,
      ...rateArgs,
    ],
  };
}

/** The NBD URI qemu opens for a unix socket. */
export function nbdUri(socket: string): string {
  return `nbd+unix:///?socket=${socket}`;
}

/** A running nbdkit. */
export interface NbdServer {
  socket: string;
  uri: string;
  pid: number;
  /** nbdkit's recent stderr, redacted: the reason when the export fails. */
  errors(): string;
}

/**
 * Starts nbdkit in the foreground and waits for its socket. Registers its
 * stop (SIGTERM by PID, then the socket it leaves behind is removed) on the
 * cleanup stack right here, where it is created.
 */
export async function startNbdkit(socket: string, e: NbdExport, cleanup: Cleanups, retry: RetryPolicy = DEFAULT_RETRY): Promise<NbdServer> {
  const child = spawn(nbdkitCommand(socket, e, retry));
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-16_384);
  });
  let exited = false;
  const done = child.then(() => {
    exited = true;
  });
  const pid = child.pid;
  cleanup.always(`stopping nbdkit (pid ${pid ?? '?'})`, async () => {
    if (!exited && pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      // An unref'd timer: once nbdkit is gone, the wait must not keep v2v alive for 5 s.
      await Promise.race([done, sleep(5000, undefined, { ref: false })]);
      if (!exited) process.kill(pid, 'SIGKILL');
    }
    await rm(socket, { force: true });
  });
  const errors = (): string => redactUrl(trimStderr(stderr));
  for (let waited = 0; ; waited += 50) {
    if (exited || pid === undefined) {
      throw new SourceError(
        `nbdkit could not serve ${describeExport(e)}${errors() ? `: ${errors()}` : ''}: check the source location and credentials.`,
      );
    }
    if (
      await stat(socket).then(
        () => true,
        () => false,
      )
    )
      break;
    if (waited > 30_000)
      throw new SourceError(`nbdkit did not start serving ${describeExport(e)} within 30 s: ${errors() || 'no message'}.`);
    await sleep(50);
  }
  return { socket, uri: nbdUri(socket), pid, errors };
}

/**
 * Connects once to a fresh export: nbdkit checks the host key, logs in or
 * fetches the URL only at the first connection, so this turns a bad
 * credential into an error now, with nbdkit's own reason and the fix.
 */
export async function checkExport(server: NbdServer, e: NbdExport): Promise<void> {
  try {
    await run({ program: 'qemu-img', args: ['info', '--output=json', '-f', 'raw', server.uri] }, { kind: 'probe' });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    await sleep(200); // let nbdkit's stderr arrive
    const reason =
      server
        .errors()
        .split('\n')
        .filter((l) => /error/i.test(l))
        .map((l) => l.replace(/^nbdkit: [^:]*: error: /, ''))
        .join('; ') || error.stderr;
    throw new SourceError(`Cannot read ${describeExport(e)} (${reason.replace(/\s*\n\s*/g, '; ')}): ${exportHint(e, reason)}.`);
  }
}

function exportHint(e: NbdExport, reason: string): string {
  if (e.plugin === 'ssh') {
    if (/host key|known_hosts/i.test(reason))
      return 'add the host key to the known_hosts file (--known-hosts FILE) or pass --ssh-fingerprint SHA256:...';
    if (/auth|password|denied|publickey/i.test(reason))
      return 'pass the right key with --ssh-identity FILE (or a password file with -ip FILE)';
    // libssh2's words when the server runs no SFTP subsystem (measured against sshd without a Subsystem line).
    if (/sftp/i.test(reason))
      return 'the SSH server must offer the SFTP subsystem, through which the disks are read: enable it (a "Subsystem sftp" line in sshd_config; on ESXi it is there by default) and run again';
    return 'check the path in the ssh:// URL, the host and the network';
  }
  if (/certificate|SSL|TLS/i.test(reason))
    return 'pass the CA that signed the server certificate with --ca-file FILE (or --insecure to skip the check)';
  if (/40[13]/.test(reason)) return 'check the user and the password file (-ip)';
  return 'check that the server is up and the URL is right';
}

/** What an export serves, for messages (never a password). */
export function describeExport(e: NbdExport): string {
  if (e.plugin === 'curl') return e.url;
  return `ssh://${e.user !== undefined ? `${e.user}@` : ''}${e.host}${e.port !== undefined ? `:${e.port}` : ''}${e.path}`;
}
