/**
 * Stage 4 of a warm migration (docs/warm-migration.md), after preflight
 * checked everything that can fail while the VM still runs: the guest is
 * shut down (VMware Tools; powered off only with --power-off-fallback), and
 * a last pass copies what changed since the previous one from the powered-off
 * VM. From here the pre-copy is the source, through the overlays the overlay
 * stage made over it.
 */
import type { ListrTask } from 'listr2';
import { need, type Context } from './context.js';
import { warmStageRun } from './precopy.js';

/** Shuts the source down and brings the pre-copy up to date. */
export function cutoverStage(): ListrTask<Context> {
  return {
    title: 'Cutting over: shutting the source VM down',
    task: async (ctx, task) => {
      const warm = need(ctx, 'warm');
      task.title = `Cutting over: shutting "${warm.vsphere.vmName}" down and copying what changed`;
      await warm.cutover(warmStageRun(ctx, 'cutover', (line) => (task.output = line)));
      const pass = warm.passes.at(-1);
      task.title = `Cut over: "${warm.vsphere.vmName}" is powered off${pass ? `; the final pass read ${pass.bytesRead} bytes in ${pass.seconds.toFixed(1)} s` : ''}`;
    },
  };
}
