/**
 * Stage 6: fstrim every mounted filesystem so unused blocks become holes in
 * the overlay and are not copied, then shut the appliance down (flushing the
 * overlays) before the copy reads them.
 */
import type { ListrTask } from 'listr2';
import { GuestfsError } from '../drivers/guestfish.js';
import { need, type Context } from './context.js';

/** Trims and closes the appliance. */
export function trimStage(): ListrTask<Context> {
  return {
    title: 'Mapping filesystem data to avoid copying unused and blank areas',
    task: async (ctx, task) => {
      const g = need(ctx, 'guestfs');
      for (const { mountpoint } of need(ctx, 'inspection').mounts) {
        task.output = `fstrim ${mountpoint}`;
        try {
          await g.call('fstrim', mountpoint);
        } catch (error) {
          if (!(error instanceof GuestfsError)) throw error;
          ctx.warnings.push(`fstrim ${mountpoint} failed (${error.guestMessage}): its unused blocks will be copied`);
        }
      }
      task.output = 'closing the overlay';
      await g.call('umount-all');
      await g.close();
      ctx.guestfs = undefined;
    },
  };
}
