/**
 * Stage 4: launch the appliance once over the overlays (it stays up for
 * convert and trim) and inspect the guest.
 */
import { cpus } from 'node:os';
import type { ListrTask } from 'listr2';
import { Guestfs, parseLines } from '../drivers/guestfish.js';
import { need, type Context } from '../src/context.js';
import { ConversionError } from '../src/errors.js';
import type { GuestKernel, Inspection } from '../src/model.js';

/** Launches libguestfs and fills ctx.inspection. */
export function inspectStage(): ListrTask<Context> {
  return {
    title: 'Inspecting the source',
    task: async (ctx, task) => {
      const accel = need(ctx, 'accel');
      task.output = `starting the libguestfs appliance${accel.tcg ? ' (TCG)' : ''}`;
      const g = await Guestfs.launch(
        need(ctx, 'overlays').map((o) => ({ path: o.path, format: 'qcow2', discard: true, cachemode: 'unsafe' as const })),
        { tcg: accel.tcg, smp: Math.min(2, cpus().length), memsizeMiB: 1536 },
      );
      ctx.guestfs = g;
      ctx.cleanup.always('shutting down the libguestfs appliance', () => g.close());
      task.output = 'looking for operating systems';
      ctx.inspection = await inspectGuest(g, need(ctx, 'source').firmware);
      const i = ctx.inspection;
      task.title = `Inspecting the source: ${i.productName} (${i.distro} ${i.majorVersion}.${i.minorVersion}, ${i.arch}, root ${i.root})`;
    },
  };
}

/** Inspects the guest, mounts its filesystems and returns what conversion needs. */
async function inspectGuest(g: Guestfs, sourceFirmware: Inspection['firmware']): Promise<Inspection> {
  const roots = await g.inspectOs();
  if (roots.length === 0) {
    throw new ConversionError('No operating system was found on the source disks: check that the source names the guest\'s system disk.');
  }
  if (roots.length > 1) {
    throw new ConversionError(`The source disks hold ${roots.length} operating systems (${roots.join(', ')}): multi-boot guests are not supported yet.`);
  }
  const root = roots[0] as string;
  const get = (field: string): Promise<string> => g.inspectGet(field, root);
  const mounts = await g.mountpoints(root);
  for (const { mountpoint, device } of mounts) {
    await g.call('mount', device, mountpoint);
  }
  const type = await get('type');
  const packages = parseLines(await g.call('inspect-list-applications2', root))
    .map((line) => /^\s*app2_name: (.+)$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  const kernels = type === 'linux' ? await listKernels(g) : [];
  const bootloader = (await g.exists('/boot/grub/grub.cfg')) || (await g.exists('/boot/grub2/grub.cfg')) ? 'grub2' : 'unknown';
  const efiMounted = mounts.some((m) => m.mountpoint === '/boot/efi');
  return {
    root,
    type,
    distro: await get('distro'),
    majorVersion: Number(await get('major-version')),
    minorVersion: Number(await get('minor-version')),
    productName: await get('product-name'),
    hostname: await get('hostname'),
    arch: await get('arch'),
    packageFormat: await get('package-format'),
    packageManagement: await get('package-management'),
    mounts,
    packages,
    kernels,
    bootloader,
    firmware: efiMounted || sourceFirmware === 'uefi' ? 'uefi' : 'bios',
  };
}

/** Lists installed kernels (/lib/modules/*) and whether each has virtio_blk, as a module or built in. */
async function listKernels(g: Guestfs): Promise<GuestKernel[]> {
  if (!(await g.exists('/lib/modules'))) return [];
  const kernels: GuestKernel[] = [];
  for (const version of await g.ls('/lib/modules')) {
    const dir = `/lib/modules/${version}`;
    if (!(await g.exists(`${dir}/modules.dep`))) continue; // leftovers of removed kernels
    const module = parseLines(await g.call('glob-expand', `${dir}/kernel/drivers/block/virtio_blk.ko*`));
    const builtin = (await g.exists(`${dir}/modules.builtin`)) && parseLines(await g.call('grep', 'virtio_blk', `${dir}/modules.builtin`)).length > 0;
    kernels.push({ version, hasVirtio: module.length > 0 || builtin });
  }
  return kernels.sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }));
}
