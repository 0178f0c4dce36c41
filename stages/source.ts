/** Stage 1: read the source metadata into the model. */
import type { ListrTask } from 'listr2';
import type { Context } from '../src/context.js';

/** Parses the source (VMX...) and checks its disks are readable. */
export function sourceStage(): ListrTask<Context> {
  return {
    title: 'Setting up the source',
    task: async (ctx, task) => {
      task.title = `Setting up the source: ${ctx.input.describe}`;
      const source = await ctx.input.load();
      ctx.source = source;
      ctx.warnings.push(...source.warnings);
      task.output = `${source.name}: ${source.vcpus} vCPU, ${source.memoryMiB} MiB, ${source.disks.length} disk(s), ${source.nics.length} NIC(s), ${source.firmware.toUpperCase()}`;
    },
  };
}
