/**
 * Finds and stops every process a run started, however it was started.
 *
 * execa stops its direct children on abort, but `guestfish --listen` forks a
 * server that is no child of ours, and that server starts the appliance's
 * qemu (a killed guestfish can leave its qemu running, LAB.md). Each run puts
 * a unique V2V_RUN_ID in its own environment; every descendant inherits it,
 * daemonized or not, so /proc tells exactly which processes are ours.
 */
import { readdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

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
    entries.filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid).map(async (entry) => {
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
 * Stops every process of run `id`: SIGTERM, then SIGKILL after `graceMs`.
 * Returns the PIDs that were still running.
 */
export async function stopRunProcesses(id: string, graceMs = 3_000): Promise<number[]> {
  const pids = await processesWithEnv(RUN_ID_ENV, id);
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
  return pids;
}
