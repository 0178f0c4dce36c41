/**
 * One remote source's access: read small files (the .vmx, a VMDK's head)
 * and serve disk files through nbdkit, over SSH or HTTPS, with the user's
 * credentials and trust settings. Sets up what both need once per run
 * (pinned known_hosts for --ssh-fingerprint, askpass for -ip). Over SSH,
 * every file is checked to be a regular file on the server before it is read
 * or served (drivers/ssh.ts remoteFileCheck); a path may be anywhere on the
 * server (another datastore, `../`): it is read with the SSH user's rights
 * and exposes nothing of this host.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkExport, startNbdkit, type NbdExport, type NbdServer } from '../../drivers/nbdkit.js';
import { defaultKnownHosts, pinHostKey, sshCheckFile, sshReadFile, writeAskpass, type SshTarget } from '../../drivers/ssh.js';
import { SourceError } from '../errors.js';
import type { Cleanups } from '../host/cleanup.js';
import { httpsFetch } from './https-fetch.js';
import type { RemoteOptions } from './options.js';
import { displayLocation, type RemoteLocation } from './url.js';

/** Reads and serves files of one remote source. */
export interface RemoteAccess {
  /** Reads a small file, or its first `maxBytes`. */
  read(loc: RemoteLocation, maxBytes?: number): Promise<Buffer>;
  /** Serves a disk file read-only on a unix socket in the run's temp dir. */
  serve(loc: RemoteLocation): Promise<NbdServer>;
}

/** The rate-filter settings of --bandwidth/--bandwidth-file for nbdkit, if any. */
function throttle(options: RemoteOptions): { rate?: string; rateFile?: string } {
  return {
    ...(options.bandwidth?.rate !== undefined ? { rate: options.bandwidth.rate } : {}),
    ...(options.bandwidth?.rateFile !== undefined ? { rateFile: options.bandwidth.rateFile } : {}),
  };
}

/** What opening remote access may use: the run's temp dir (sockets, known_hosts, askpass) and its cleanup stack. */
export interface AccessRun {
  tmpdir: string;
  cleanup: Cleanups;
}

/** Prepares access to the remote source `first` (and its siblings). */
export async function openRemoteAccess(options: RemoteOptions, first: RemoteLocation, run: AccessRun): Promise<RemoteAccess> {
  let served = 0;
  const nextSocket = (): string => join(run.tmpdir, `nbd${served++}.sock`);
  if (first.transport === 'ssh') {
    let knownHosts = options.knownHosts;
    if (options.fingerprint !== undefined) {
      knownHosts = join(run.tmpdir, 'known_hosts');
      await pinHostKey(first.host, first.port, options.fingerprint, knownHosts);
    }
    let askpass: string | undefined;
    if (options.passwordFile !== undefined) {
      await checkReadable(options.passwordFile);
      askpass = join(run.tmpdir, 'askpass.sh');
      await writeAskpass(askpass, options.passwordFile);
    }
    const target: SshTarget = {
      host: first.host,
      ...(first.port !== undefined ? { port: first.port } : {}),
      ...(first.user !== undefined ? { user: first.user } : {}),
      ...(options.identity !== undefined ? { identity: options.identity } : {}),
      ...(knownHosts !== undefined ? { knownHosts } : {}),
      ...(askpass !== undefined ? { askpass } : {}),
    };
    return {
      async read(loc, maxBytes) {
        if (loc.transport !== 'ssh') throw new Error('internal error: mixed transports');
        return Buffer.from(await sshReadFile(target, loc.path, displayLocation(loc), maxBytes), 'utf8');
      },
      async serve(loc) {
        if (loc.transport !== 'ssh') throw new Error('internal error: mixed transports');
        // nbdkit's SFTP open would block on a FIFO or serve a device: checked as read() checks (a file served unread is a flat extent).
        await sshCheckFile(target, loc.path, displayLocation(loc));
        const e: NbdExport = {
          plugin: 'ssh',
          host: loc.host,
          path: loc.path,
          ...(loc.port !== undefined ? { port: loc.port } : {}),
          ...(loc.user !== undefined ? { user: loc.user } : {}),
          ...(options.identity !== undefined ? { identity: options.identity } : {}),
          knownHosts: knownHosts ?? defaultKnownHosts(),
          ...(options.passwordFile !== undefined ? { passwordFile: options.passwordFile } : {}),
          ...throttle(options),
        };
        return serveChecked(nextSocket(), e, run);
      },
    };
  }
  // HTTPS: a password comes from -ip, else from the URL; nbdkit reads it from a 0600 file.
  let passwordFile = options.passwordFile;
  let password: string | undefined;
  if (passwordFile !== undefined) {
    await checkReadable(passwordFile);
    password = (await readFile(passwordFile, 'utf8')).split('\n')[0] ?? '';
  } else if (first.password !== undefined) {
    password = first.password;
    passwordFile = join(run.tmpdir, 'https-password');
    await writeFile(passwordFile, password, { mode: 0o600 });
  }
  return {
    async read(loc, maxBytes) {
      if (loc.transport !== 'https') throw new Error('internal error: mixed transports');
      return httpsFetch(
        loc,
        {
          ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
          insecure: options.insecure,
          ...(password !== undefined ? { password } : {}),
        },
        maxBytes,
      );
    },
    async serve(loc) {
      if (loc.transport !== 'https') throw new Error('internal error: mixed transports');
      const e: NbdExport = {
        plugin: 'curl',
        url: loc.url,
        ...(loc.user !== undefined ? { user: loc.user } : {}),
        ...(passwordFile !== undefined ? { passwordFile } : {}),
        ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
        insecure: options.insecure,
        ...throttle(options),
      };
      return serveChecked(nextSocket(), e, run);
    },
  };
}

/** Starts nbdkit for one file and connects once, so a bad credential fails now with nbdkit's reason. */
async function serveChecked(socket: string, e: NbdExport, run: AccessRun): Promise<NbdServer> {
  const server = await startNbdkit(socket, e, run.cleanup);
  await checkExport(server, e);
  return server;
}

async function checkReadable(file: string): Promise<void> {
  try {
    await readFile(file);
  } catch (error) {
    throw new SourceError(
      `Cannot read the password file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the -ip path and its permissions.`,
    );
  }
}

/**
 * Warnings about how the credentials are protected: a password file other
 * users can read (-ip), and --insecure (the server is not authenticated, so
 * whoever answers gets the credentials and serves the disks).
 */
export async function credentialWarnings(options: RemoteOptions): Promise<string[]> {
  const warnings: string[] = [];
  if (options.passwordFile !== undefined) {
    const mode = await stat(options.passwordFile).then(
      (s) => s.mode & 0o777,
      () => undefined,
    );
    if (mode !== undefined && (mode & 0o077) !== 0) {
      warnings.push(
        `the password file ${options.passwordFile} can be read by ${mode & 0o007 ? 'every local user' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')}): make it readable only by you with "chmod 600 ${options.passwordFile}"`,
      );
    }
  }
  if (options.insecure) {
    warnings.push(
      "--insecure: the HTTPS server's certificate is not checked, so anyone on the network path can pose as the server, read the credentials and serve other disks: pass its CA with --ca-file instead",
    );
  }
  return warnings;
}
