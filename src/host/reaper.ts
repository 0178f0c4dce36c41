/**
 * Finds and stops every process a run started, however it was started.
 *
 * execa stops its direct children on abort, but `guestfish --listen` forks a
 * server that is no child of ours, and that server starts the appliance's
 * qemu (a killed guestfish can leave its qemu running: docs/host-tools.md). Each run puts
 * a unique V2V_RUN_ID in its own environment; every descendant inherits it,
 * daemonized or not, so /proc tells exactly which processes are ours.
 */
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The environment variable marking a run's processes. */
export const RUN_ID_ENV = 'V2V_RUN_ID';

/** Gives this process a fresh run id, inherited by every child from now on; returns it. */
export function markRun(): string {
  const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  process.env[RUN_ID_ENV] = id;
  return id;
}

/** PIDs (other than ours) whose environment carries `NAME=VALUE`. Linux /proc only; [] elsewhere. */
export async function processesWithEnv(name: string, value: string): Promise<number[]> {
  const needle = `\0${name}=${value}\0`;
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
      .map(async (entry) => {
        // Processes come and go while we scan: unreadable ones are skipped.
        const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
        if (`\0${environ}`.includes(needle)) pids.push(Number(entry));
      }),
  );
  return pids.sort((a, b) => a - b);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops every process of run `id`: SIGTERM, then SIGKILL after `graceMs`,
 * and removes the socket directories of the appliances among them. Returns
 * the PIDs that were still running.
 */
export async function stopRunProcesses(id: string, graceMs = 3_000): Promise<number[]> {
  const pids = await processesWithEnv(RUN_ID_ENV, id);
  // Read before the kill: a killed appliance leaves its socket directory behind.
  const socketDirs = (await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')))).flatMap(
    guestfsSocketDirs,
  );
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(socketDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  return pids;
}

/** The file in a run's temp dir naming the run that owns it (its V2V_RUN_ID). */
export const RUN_OWNER_FILE = 'v2v-run';

/**
 * Process `pid`'s state letter (field 3 of /proc/PID/stat; `Z`: dead, not
 * yet reaped) and start time (field 22, clock ticks since boot: with the pid
 * it names one process for good, even once the pid is reused). Undefined
 * when there is no such process.
 */
export async function processStat(pid: number | 'self'): Promise<{ state: string; startTime: string } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

/**
 * Marks `tmpdir` as run `id`'s: the run id, then this process's pid and
 * start time, so a later run can tell whether the owner is still alive.
 * (Not the environment: /proc/PID/environ shows a process's environment as
 * it was at exec, without the run id main set afterwards.)
 */
export async function markRunDir(tmpdir: string, id: string): Promise<void> {
  await writeFile(join(tmpdir, RUN_OWNER_FILE), `${id} ${process.pid} ${(await processStat('self'))?.startTime}\n`, {
    flag: 'wx',
    mode: 0o600,
  });
}

/** The owner of a run dir, as markRunDir wrote it. */
export interface RunOwner {
  id: string;
  pid: number;
  startTime: string;
}

/** Parses a run dir's owner file; undefined when it is not one. Pure. */
export function parseRunOwner(text: string): RunOwner | undefined {
  const match = /^(\S+) (\d+) (\d+)\n?$/.exec(text);
  return match ? { id: match[1]!, pid: Number(match[2]), startTime: match[3]! } : undefined;
}

/** True while the run's process is alive: its pid exists, is no zombie, and started when the owner file says. */
export async function runIsAlive(owner: RunOwner): Promise<boolean> {
  const stat = await processStat(owner.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === owner.startTime;
}

/** This boot's id (/proc/sys/kernel/random/boot_id): a pid and start time name one process within one boot only. */
export async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'latin1').catch(() => '')).trim();
}

/** A run as a file it owns records it: the run, its process, the boot and the host it ran on. */
export interface RunProcess extends RunOwner {
  bootId: string;
  host: string;
}

/** This run's process, for a file it owns. */
export async function currentRunProcess(id: string): Promise<RunProcess> {
  return { id, pid: process.pid, startTime: (await processStat('self'))?.startTime ?? '', bootId: await bootId(), host: hostname() };
}

/**
 * Whether the run that recorded `owner` is still running: `alive` (same host
 * and boot, and its very process is there), `dead` (same host: the host
 * rebooted since, or the process is gone, a zombie, or the pid is another
 * process's now), or `unknown` (another host's run, seen through a shared
 * file system: its processes cannot be seen from here).
 */
export async function runProcessState(owner: RunProcess): Promise<'alive' | 'dead' | 'unknown'> {
  if (owner.host !== hostname()) return 'unknown';
  if (owner.bootId !== (await bootId())) return 'dead';
  return (await runIsAlive(owner)) ? 'alive' : 'dead';
}

/** What was left of a dead run and has been cleaned up. */
export interface ReapedRun {
  dir: string;
  pids: number[];
}

/**
 * Cleans up after runs that died without cleaning up (SIGKILL, OOM, power
 * loss): for every `PARENT/v2v-*` directory marked by a run that is no
 * longer alive, stops the processes still carrying its run id (the guestfish
 * server and its appliance, qemu-img, nbdkit) and removes the directory.
 * Unmarked directories (another program's, or an older v2v's) and other
 * users' directories are left alone. With `onlyId`, only that run's
 * directories (the run's watchdog cleaning up after it).
 */
export async function reapDeadRuns(parent: string, onlyId?: string): Promise<ReapedRun[]> {
  const reaped: ReapedRun[] = [];
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    if (!entry.startsWith('v2v-')) continue;
    const dir = join(parent, entry);
    const info = await lstat(dir).catch(() => undefined);
    // Only a real directory of our own user: never another user's, never through a symlink.
    if (!info?.isDirectory() || info.uid !== process.getuid?.()) continue;
    const owner = parseRunOwner(await readFile(join(dir, RUN_OWNER_FILE), 'utf8').catch(() => ''));
    if (owner === undefined || (onlyId !== undefined && owner.id !== onlyId) || (await runIsAlive(owner))) continue;
    const pids = await stopRunProcesses(owner.id);
    await rm(dir, { recursive: true, force: true });
    reaped.push({ dir, pids });
  }
  return reaped;
}

/**
 * The libguestfs socket directories (`…/libguestfsXXXXXX`) named in an
 * appliance qemu's command line. libguestfs makes one per appliance for its
 * sockets (always in /tmp for root, whatever TMPDIR says) and removes it only
 * when closed properly, not when its process is killed. Pure.
 */
export function guestfsSocketDirs(cmdline: string): string[] {
  const dirs = [...cmdline.matchAll(/(?:^|[\s,=\0])path=(\/[^,\0\s]*\/libguestfs[A-Za-z0-9]{6})\/[A-Za-z]+\.sock(?=[,\0\s]|$)/g)].map(
    (m) => m[1]!,
  );
  return [...new Set(dirs)];
}
