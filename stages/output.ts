/** Stage 8: write the target metadata (libvirt XML...). */
import type { ListrTask } from 'listr2';
import { need, type Context } from '../src/context.js';

/** Asks the output module to write its metadata. */
export function outputStage(): ListrTask<Context> {
  return {
    title: 'Creating output metadata',
    task: async (ctx, task) => {
      ctx.written = await ctx.output.finish({
        name: need(ctx, 'name'),
        source: need(ctx, 'source'),
        inspection: need(ctx, 'inspection'),
        caps: need(ctx, 'caps'),
        targets: need(ctx, 'targets'),
      });
      task.output = `wrote ${ctx.written.join(', ')}`;
    },
  };
}
