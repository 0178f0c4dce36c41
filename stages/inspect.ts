/**
 * Stage 4: launch the appliance once over the overlays (it stays up for
 * convert and trim) and inspect the guest.
 */
import { cpus } from 'node:os';
import type { ListrTask } from 'listr2';
import { Guestfs, parseLines, type DriveSpec } from '../drivers/guestfish.js';
import { mountFailure, refuseHibernatedNtfs, selectRoot } from '../src/convert/root/choice.js';
import type { RootChoice } from '../src/convert/root/option.js';
import type { GuestKernel, Inspection } from '../src/model.js';
import { need, type Context } from './context.js';

/** Launches libguestfs and fills ctx.inspection. */
export function inspectStage(): ListrTask<Context> {
  return {
    title: 'Inspecting the source',
    task: async (ctx, task) => {
      const accel = need(ctx, 'accel');
      task.output = `starting the libguestfs appliance${accel.tcg ? ' (TCG)' : ''}`;
      // copyOnRead for remote disks: every block the appliance reads lands in the
      // overlay, so the final copy does not fetch it over the network again.
      const drives: DriveSpec[] = need(ctx, 'overlays').map((o) => ({
        path: o.path,
        format: 'qcow2',
        discard: true,
        cachemode: 'unsafe' as const,
        copyOnRead: o.disk.backing !== undefined,
      }));
      // A virtio-win ISO is read inside this same appliance (no second launch, no
      // loop mount on the host): read-only, and last, so the guest's disks keep
      // their names and the Windows converter finds it as the last device.
      if (ctx.virtioWin?.kind === 'iso') drives.push({ path: ctx.virtioWin.path, format: 'raw', readonly: true });
      const g = await Guestfs.launch(drives, { tcg: accel.tcg, smp: Math.min(2, cpus().length), memsizeMiB: 1536 });
      ctx.guestfs = g;
      ctx.cleanup.always('shutting down the libguestfs appliance', () => g.close());
      task.output = 'looking for operating systems';
      ctx.inspection = await inspectGuest(g, need(ctx, 'source').firmware, ctx.options.root);
      const i = ctx.inspection;
      task.title = `Inspecting the source: ${guestLabel(i)} (${i.type}, ${i.arch}, root ${i.root})`;
    },
  };
}

/**
 * A readable name for the guest. libguestfs' product name for Debian is just
 * /etc/debian_version ("12.15"), so prefix the distro when it is a bare number.
 */
export function guestLabel(i: Pick<Inspection, 'distro' | 'productName' | 'majorVersion' | 'minorVersion'>): string {
  const distro = i.distro ? i.distro.charAt(0).toUpperCase() + i.distro.slice(1) : 'Unknown';
  if (!i.productName || i.productName === 'unknown') return `${distro} ${i.majorVersion}.${i.minorVersion}`;
  return /^\d/.test(i.productName) ? `${distro} ${i.productName}` : i.productName;
}

/** Inspects the guest, mounts its filesystems and returns what conversion needs. */
async function inspectGuest(g: Guestfs, sourceFirmware: Inspection['firmware'], rootChoice: RootChoice | undefined): Promise<Inspection> {
  // Refuses LUKS volumes, no OS, and multi-boot without a --root choice.
  const root = await selectRoot(g, rootChoice);
  const get = (field: string): Promise<string> => g.inspectGet(field, root);
  const mounts = await g.mountpoints(root);
  for (const { mountpoint, device } of mounts) {
    await g.call('mount', device, mountpoint).catch((error: unknown) => {
      throw mountFailure(error, device, mountpoint); // hibernated NTFS: a clear refusal
    });
  }
  await refuseHibernatedNtfs(g, mounts); // when the mount itself did not refuse
  const type = await get('type');
  // libguestfs 1.48's appliance cannot read sqlite rpm databases (RHEL 9,
  // Fedora 33+: "rpmtsInitIterator", measured); the RPM converter asks the
  // guest's own rpm instead, so an rpm listing failure is not fatal.
  const applications = await g.call('inspect-list-applications2', root).catch(async (error: unknown) => {
    if ((await get('package-format')) === 'rpm') return '';
    throw error;
  });
  const packages = parseLines(applications)
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
    const builtin =
      (await g.exists(`${dir}/modules.builtin`)) && parseLines(await g.call('grep', 'virtio_blk', `${dir}/modules.builtin`)).length > 0;
    kernels.push({ version, hasVirtio: module.length > 0 || builtin });
  }
  return kernels.sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }));
}
