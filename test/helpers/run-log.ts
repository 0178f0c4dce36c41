/**
 * The run log in an output directory: e2e tests assert the exact set of
 * files a run leaves, so the log (NAME-v2v-YYYYMMDD-HHMMSS.log, src/progress/run-log.ts)
 * is split from the output files and must be there exactly once.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** A run log's file name, for guest `name` (any guest when absent). */
export function runLogPattern(name?: string): RegExp {
  return new RegExp(`^${name === undefined ? '.+' : name.replace(/[.+]/g, '\\$&')}-v2v-\\d{8}-\\d{6}(-\\d+)?\\.log$`);
}

/** The run logs in `dir` (paths, sorted). */
export async function runLogs(dir: string, name?: string): Promise<string[]> {
  const pattern = runLogPattern(name);
  return (await readdir(dir))
    .filter((e) => pattern.test(e))
    .sort()
    .map((e) => join(dir, e));
}

/** The output files of `dir` (sorted) and the path of its one run log (of guest `name` when given); throws unless there is exactly one. */
export async function splitOutputDir(dir: string, name?: string): Promise<{ files: string[]; log: string }> {
  const entries = (await readdir(dir)).sort();
  const pattern = runLogPattern(name);
  const logs = entries.filter((e) => pattern.test(e));
  if (logs.length !== 1)
    throw new Error(`expected exactly one run log${name ? ` of ${name}` : ''} in ${dir}, found: ${entries.join(', ') || 'nothing'}`);
  return { files: entries.filter((e) => !pattern.test(e)), log: join(dir, logs[0]!) };
}

/** The entries of `dir` that are not run logs (sorted): what a run wrote besides its record. */
export async function outputEntries(dir: string): Promise<string[]> {
  const pattern = runLogPattern();
  return (await readdir(dir)).filter((e) => !pattern.test(e)).sort();
}

/** The log a run named on its last stderr lines (`v2v: log: PATH`), if any. */
export function announcedLog(stderr: string): string | undefined {
  return /^v2v: log: (.+)$/m.exec(stderr)?.[1];
}

/** The text with every `[HH:MM:SS]` stamp made equal: two renderers of one run may stamp a line a second apart. */
export function unstamped(text: string): string {
  return text.replace(/\[\d\d:\d\d:\d\d\]/g, '[T]');
}
