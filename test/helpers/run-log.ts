/**
 * The run log in an output directory: e2e tests assert the exact set of
 * files a run leaves, so the log (NAME-v2v-YYYYMMDD-HHMMSS.log, src/run-log.ts)
 * is split from the output files and must be there exactly once.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The output files of `dir` (sorted) and the path of its one run log for guest `name`; throws unless there is exactly one. */
export async function splitOutputDir(dir: string, name: string): Promise<{ files: string[]; log: string }> {
  const entries = (await readdir(dir)).sort();
  const pattern = new RegExp(`^${name.replace(/[.+]/g, '\\$&')}-v2v-\\d{8}-\\d{6}(-\\d+)?\\.log$`);
  const logs = entries.filter((e) => pattern.test(e));
  if (logs.length !== 1) throw new Error(`expected exactly one run log for ${name} in ${dir}, found: ${entries.join(', ') || 'nothing'}`);
  return { files: entries.filter((e) => !pattern.test(e)), log: join(dir, logs[0]!) };
}
