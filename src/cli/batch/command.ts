/**
 * `v2v batch MANIFEST [--jobs N] [--log-dir DIR] [--report FILE]`: runs
 * batch mode's command line once src/cli/index.ts has parsed it (declared in
 * spec.ts); the work is in run.ts.
 */
import type { Arguments } from 'yargs';
import { reportError } from '../../run/report-error.js';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../errors.js';
import { loadManifest } from './manifest.js';
import { formatSummary, runBatch } from './run.js';
import { printOut, safeText } from '../../text/safe-text.js';

/** Runs `v2v batch` with its parsed command line (BATCH_COMMAND in spec.ts); resolves to the exit code. */
export async function batchCli(parsed: Arguments): Promise<number> {
  try {
    const jobs = parsed['jobs'] as number;
    if (!Number.isInteger(jobs) || jobs < 1)
      throw new UsageError(`--jobs ${String(jobs)} is not a positive whole number: pass e.g. --jobs 2.`);
    const manifest = resolve(String(parsed['manifest']));
    const guests = await loadManifest(manifest);
    const logDir = resolve(
      (parsed['log-dir'] as string | undefined) ?? join(dirname(manifest), `${basename(manifest, extname(manifest))}.v2v-batch`),
    );
    const reportPath = resolve((parsed['report'] as string | undefined) ?? join(logDir, 'report.json'));
    const report = await runBatch({
      manifest,
      guests,
      jobs,
      logDir,
      reportPath,
      v2vBin: fileURLToPath(new URL('../../../../bin/v2v.js', import.meta.url)),
      print: printBatchLine,
    });
    printOut(`\n${formatSummary(report)}\nReport: ${safeText(reportPath)}`);
    return report.exitCode;
  } catch (error) {
    return reportError(error);
  }
}

/** One progress line of a batch: it quotes guest names, errors and stage titles of the guests' runs, so it is escaped, one line. */
export function printBatchLine(line: string): void {
  printOut(safeText(line));
}
