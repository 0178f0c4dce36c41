/** Stage 9: write the target metadata (libvirt XML...), after copy and verify. */
import type { ListrTask } from 'listr2';
import { need, type Context } from './context.js';

/** Asks the output module to write its metadata. */
export function outputStage(): ListrTask<Context> {
  return {
    title: 'Creating output metadata',
    task: async (ctx, task) => {
      const name = need(ctx, 'name');
      const { output } = ctx;
      if (output.rollback) ctx.cleanup.onFailure(`rolling back ${output.describe}`, () => output.rollback?.(name));
      ctx.written = await output.finish({
        name,
        source: need(ctx, 'source'),
        inspection: need(ctx, 'inspection'),
        caps: need(ctx, 'caps'),
        targets: need(ctx, 'targets'),
        ...(ctx.network !== undefined ? { network: ctx.network } : {}),
        ...(ctx.verification ? { verification: ctx.verification } : {}),
        warn: (message) => ctx.warnings.push(message),
      });
      task.output = `wrote ${ctx.written.join(', ')}`;
    },
  };
}
