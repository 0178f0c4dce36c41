/**
 * A real system libvirtd (qemu:///system) for end-to-end tests. There is no
 * systemd here, so virtlogd and libvirtd are started by hand with pid files
 * in a temp dir (see docs/host-tools.md, "libvirt"); only what this helper started
 * is stopped, by PID. A daemon that was already running is used and left
 * alone.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The system connection the helper manages. */
export const SYSTEM_URI = 'qemu:///system';

/** How long libvirtd may take to answer its first call (measured ~4 s on a fresh machine). */
const READY_TIMEOUT_MS = 60_000;
/** How long a daemon gets to exit after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

/** A running libvirtd. */
export interface Libvirtd {
  uri: string;
  /** True when this helper started libvirtd (and so stop() will end it). */
  started: boolean;
  /** Stops what this helper started (SIGTERM, then SIGKILL), by PID; idempotent. */
  stop(): Promise<void>;
}

/** Runs `virsh -c URI ARGS` with parseable output; never throws. */
export async function virsh(uri: string, ...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa('virsh', ['-c', uri, ...args], {
    reject: false,
    env: { LANG: 'C', LC_ALL: 'C' },
    stdin: 'ignore',
    timeout: 30_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Runs `virsh -c URI ARGS` and throws with its stderr when it fails. */
export async function virshOk(uri: string, ...args: string[]): Promise<string> {
  const result = await virsh(uri, ...args);
  if (result.exitCode !== 0) throw new Error(`virsh ${args.join(' ')} failed (${result.exitCode}): ${result.stderr.trim()}`);
  return result.stdout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a process with this exact name runs (a read-only look-up; nothing is killed by name). */
async function isRunning(name: string): Promise<boolean> {
  const result = await execa('pidof', ['-q', name], { reject: false });
  return result.exitCode === 0;
}

/** Waits for a daemon's pid file and returns the PID in it. */
async function readPidFile(path: string, what: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await readFile(path, 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    if (pid > 0) return pid;
    await sleep(100);
  }
  throw new Error(`${what} did not write its pid file ${path}`);
}

/** Sends SIGTERM, waits, then SIGKILL. */
async function stopPid(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Starts a daemon with `--daemon --pid-file`; returns its PID. */
async function startDaemon(program: string, pidFile: string): Promise<number> {
  const result = await execa(program, ['--daemon', '--pid-file', pidFile], { reject: false, stdin: 'ignore', timeout: 30_000 });
  if (result.exitCode !== 0) throw new Error(`${program} --daemon failed (${result.exitCode}): ${String(result.stderr).trim()}`);
  return readPidFile(pidFile, program);
}

/** Starts virtlogd and libvirtd unless libvirtd already answers; resolves once `virsh list` works. */
export async function startLibvirtd(): Promise<Libvirtd> {
  if ((await virsh(SYSTEM_URI, 'list')).exitCode === 0) {
    return { uri: SYSTEM_URI, started: false, stop: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), 'v2v-libvirtd-'));
  const pids: number[] = [];
  const stop = async (): Promise<void> => {
    // libvirtd first: it talks to virtlogd while shutting down.
    for (const pid of pids.splice(0).reverse()) await stopPid(pid);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (!(await isRunning('virtlogd'))) pids.push(await startDaemon('virtlogd', join(dir, 'virtlogd.pid')));
    pids.push(await startDaemon('libvirtd', join(dir, 'libvirtd.pid')));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = await virsh(SYSTEM_URI, 'list');
    while (last.exitCode !== 0) {
      if (Date.now() > deadline) throw new Error(`libvirtd did not answer within ${READY_TIMEOUT_MS / 1000} s: ${last.stderr.trim()}`);
      await sleep(250);
      last = await virsh(SYSTEM_URI, 'list');
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { uri: SYSTEM_URI, started: true, stop };
}

/** Defines, builds and starts a directory storage pool `name` in `path`. */
export async function createDirPool(uri: string, name: string, path: string): Promise<void> {
  await virshOk(uri, 'pool-define-as', name, 'dir', '--target', path);
  await virshOk(uri, 'pool-build', name);
  await virshOk(uri, 'pool-start', name);
}

/** Stops and undefines pool `name` if it exists; the files in it are left alone. */
export async function destroyPool(uri: string, name: string): Promise<void> {
  await virsh(uri, 'pool-destroy', name);
  await virsh(uri, 'pool-undefine', name);
}

/** Destroys (if running) and undefines domain `name` if it exists. */
export async function removeDomain(uri: string, name: string): Promise<void> {
  await virsh(uri, 'destroy', name);
  await virsh(uri, 'undefine', '--nvram', name);
}

/** True when libvirt's OVMF (package "ovmf") is installed, so UEFI guests can be defined. */
export function hasOvmf(): boolean {
  return existsSync('/usr/share/OVMF/OVMF_CODE_4M.fd');
}
