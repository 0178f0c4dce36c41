/** Stage 1: read the source metadata into the model. */
import { rm } from 'node:fs/promises';
import type { ListrTask } from 'listr2';
import { checkSourceLimits } from '../src/input/limits.js';
import { WARNINGS_PER_FILE, WARNINGS_PER_FILE_VERBOSE } from '../src/input/file-warnings.js';
import { reapDeadRuns } from '../src/host/reaper.js';
import { makeRunTempDir, tmpParent } from '../src/host/tmpdir.js';
import type { Context } from './context.js';

// Kept here too: stages and tests import it from the source stage.
export { tmpParent } from '../src/host/tmpdir.js';

/**
 * Cleans up after runs killed before they could (see reapDeadRuns), creates
 * the run's temp dir marked with its run id, then parses the source (VMX...)
 * and checks its disks are readable.
 */
export function sourceStage(): ListrTask<Context> {
  return {
    title: 'Setting up the source',
    task: async (ctx, task) => {
      for (const { dir, pids } of await reapDeadRuns(tmpParent())) {
        ctx.warnings.push(
          `cleaned up after a v2v run that was killed: removed ${dir}${pids.length > 0 ? ` and stopped its processes ${pids.join(', ')}` : ''}`,
        );
      }
      const tmpdir = await makeRunTempDir('v2v-');
      ctx.tmpdir = tmpdir;
      ctx.cleanup.always(`removing ${tmpdir}`, () => rm(tmpdir, { recursive: true, force: true }));
      task.title = `Setting up the source: ${ctx.input.describe}`;
      const found: string[] = [];
      let source;
      try {
        const warningsPerFile = ctx.options.verbose ? WARNINGS_PER_FILE_VERBOSE : WARNINGS_PER_FILE;
        source = await ctx.input.load({ tmpdir, cleanup: ctx.cleanup, warnings: found, warningsPerFile });
        // An input that kept a list of its own: one list from here on.
        if (source.warnings !== found) source.warnings = found.concat(source.warnings);
        checkSourceLimits(source, `The source ${source.name}`);
        ctx.source = source;
      } finally {
        // Failed or not: a warning about an ignored setting may be why it failed.
        ctx.warnings.push(...(source?.warnings ?? found));
      }
      task.output = `${source.name}: ${source.vcpus} vCPU, ${source.memoryMiB} MiB, ${source.disks.length} disk(s), ${source.nics.length} NIC(s), ${source.firmware.toUpperCase()}`;
    },
  };
}
