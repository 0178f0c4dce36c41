/**
 * A real OpenSSH server on 127.0.0.1 (high port) for remote-source tests:
 * generated host key, key authentication only for the current user, a
 * known_hosts file for clients. Started and stopped by PID.
 *
 * Plain JavaScript (ESM) so vitest and node-only scripts can both use it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts sshd. Returns the client's identity, a known_hosts naming the
 * server, the host key's SHA256 fingerprint, and stop(). `sftp: false`
 * leaves out the SFTP subsystem (servers configured without it exist).
 */
export async function startSshd({ sftp = true } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'v2v-sshd-'));
  const port = await freePort();
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  const listing = execFileSync('ssh-keygen', ['-lf', `${hostKey}.pub`], { encoding: 'utf8' });
  const fingerprint = /\bSHA256:\S+/.exec(listing)?.[0];
  if (fingerprint === undefined) throw new Error(`ssh-keygen -lf printed no SHA256 fingerprint: ${listing}`);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      ...(sftp ? ['Subsystem sftp internal-sftp'] : []),
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  // -D: foreground, so we own the PID; -e: log to stderr.
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (b) => (log += b.toString('utf8')));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log}`);
    const ok = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true)); // port taken: sshd listens
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) break;
    if (i > 100) throw new Error(`sshd did not listen on ${port}: ${log}`);
    await sleep(50);
  }
  return {
    dir,
    port,
    identity: clientKey,
    knownHosts,
    fingerprint,
    user: userInfo().username,
    log: () => log,
    /** Stops sshd by PID and removes its files. */
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
