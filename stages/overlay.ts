/**
 * Stage 2: a qcow2 overlay over every source disk. From here on the source
 * is only read, through the overlay's backing file; every write lands in the
 * overlay, which lives in the run's temporary directory, removed at the end.
 */
import { join } from 'node:path';
import type { ListrTask } from 'listr2';
import { createOverlay, imageInfo } from '../drivers/qemu-img.js';
import { CommandError, SourceError } from '../src/errors.js';
import { need, type Context } from './context.js';
import type { Overlay } from '../src/model.js';

/** Opens the source disks read-only behind qcow2 overlays. */
export function overlayStage(): ListrTask<Context> {
  return {
    title: 'Opening the source',
    task: async (ctx, task) => {
      const source = need(ctx, 'source');
      const tmpdir = need(ctx, 'tmpdir');
      const overlays: Overlay[] = [];
      for (const [index, disk] of source.disks.entries()) {
        // A remote disk is opened through its NBD export (served by nbdkit since the source stage).
        const backing = disk.backing?.filename ?? disk.path;
        let info;
        try {
          info = await imageInfo(backing, disk.backing?.format ?? disk.format);
        } catch (error) {
          if (!(error instanceof CommandError)) throw error;
          throw new SourceError(
            disk.backing
              ? `${disk.path} cannot be read over the network (${error.stderr || error.message}): check the server, the credentials and the URL.`
              : `${disk.path} is not a disk image qemu can read (${error.stderr || error.message}): check the source disk.`,
          );
        }
        const path = join(tmpdir, `overlay-sd${index}.qcow2`);
        await createOverlay(path, backing, info.format);
        disk.format = info.format;
        overlays.push({ disk, path, backingFormat: info.format, virtualSize: info.virtualSize });
        task.output = `${disk.path} (${info.format}, ${(info.virtualSize / 2 ** 30).toFixed(1)} GiB) → overlay`;
      }
      ctx.overlays = overlays;
    },
  };
}
