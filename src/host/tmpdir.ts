/**
 * Where a run's temporary directories go, and how they are made: every one
 * is marked with its owner (markRunDir: run id, pid, start time), so that
 * when a run dies without removing them (SIGKILL, OOM, power loss), the
 * next run's reapDeadRuns can tell them from a live run's and remove them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { markRunDir, RUN_ID_ENV } from './reaper.js';

/** The prefix every run temp dir name starts with: the only names reapDeadRuns looks at. */
export const RUN_TMPDIR_PREFIX = 'v2v-';

/**
 * Where per-run temporary files (overlays...) go: $VIRT_V2V_TMPDIR (virt-v2v's
 * variable, so its users' settings carry over), else $TMPDIR, else /var/tmp
 * (disk-backed, unlike a tmpfs /tmp).
 */
export function tmpParent(env: NodeJS.ProcessEnv = process.env): string {
  return env['VIRT_V2V_TMPDIR'] || env['TMPDIR'] || '/var/tmp';
}

/**
 * Creates `PARENT/PREFIXxxxxxx` (`prefix` starts with "v2v-") and marks it as
 * this run's: with the run id of $V2V_RUN_ID, or, in a process that has none
 * (`v2v verify`, a library caller), a fresh id, so the directory is reaped
 * once this process is gone all the same. The caller still removes it.
 */
export async function makeRunTempDir(prefix: string, parent: string = tmpParent()): Promise<string> {
  if (!prefix.startsWith(RUN_TMPDIR_PREFIX))
    throw new Error(`internal: run temp dir prefix "${prefix}" does not start with "${RUN_TMPDIR_PREFIX}"`);
  const dir = await mkdtemp(join(parent, prefix));
  try {
    await markRunDir(dir, process.env[RUN_ID_ENV] || `${process.pid}-${randomBytes(6).toString('hex')}`);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}
