/**
 * What the batch checks for every guest it is about to run, before the first
 * one starts: the local source files exist (the same check as a single run,
 * exit 2) and the output's files are not already there (unless a run's lock
 * is there too: then the guest's own run decides). A guest failing here
 * is reported invalid and not run; the others go on.
 */
import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { checkLocalSources } from '../../input/source-paths.js';
import { LOCK_SUFFIX } from '../../output/reservation.js';
import type { Options } from '../../../stages/context.js';

/** The metadata file each directory output writes for guest NAME. */
const METADATA: Readonly<Record<string, (name: string) => string>> = {
  local: (name) => `${name}.xml`,
  qemu: (name) => `${name}.sh`,
  json: (name) => `${name}.json`,
  kubevirt: (name) => `${name}.yaml`,
};

/** Throws UsageError when a source is missing or the output name is taken in its directory. */
export async function preflightGuest(options: Options): Promise<void> {
  await checkLocalSources(options.input);
  const metadata = METADATA[options.output.mode];
  const name = options.output.name;
  if (metadata === undefined || name === undefined) return;
  // The names are a run's, live or killed: the guest's own run refuses them, or clears a killed run's (OutputReservation.lock).
  if (await lstat(join(options.output.storage, `${name}${LOCK_SUFFIX}`)).catch(() => undefined)) return;
  for (const file of [metadata(name), `${name}-sda`]) {
    const path = join(options.output.storage, file);
    if (await stat(path).catch(() => undefined)) {
      throw new UsageError(`${path} already exists: remove it, or give the guest another "name" in the manifest.`);
    }
  }
}
