/**
 * Stage 5: modify the guest in the overlay so it boots on KVM with virtio.
 */
import type { ListrTask } from 'listr2';
import { parseHash, type Guestfs } from '../drivers/guestfish.js';
import { guestLabel } from './inspect.js';
import { selectConverter } from '../src/convert/index.js';
import { formatBytes } from '../src/host/disk-space.js';
import { ConversionError } from '../src/errors.js';
import type { Inspection } from '../src/model.js';
import { checkDeviceRoom } from '../src/output/domain-xml.js';
import { parseNetworkMapping } from '../src/output/networks.js';
import { emitEvent } from '../src/progress/reporter.js';
import { need, type Context } from './context.js';
import { describeNetworkReport } from '../src/convert/linux/network/pin-plan.js';

/** Free space a conversion needs per mountpoint (as virt-v2v: / 100 MB, /boot 50 MB, others 10 MB). */
export function minimumFreeBytes(mountpoint: string): number {
  if (mountpoint === '/') return 100 * 2 ** 20;
  if (mountpoint === '/boot') return 50 * 2 ** 20;
  return 10 * 2 ** 20;
}

/** Converts the guest and fills ctx.caps and ctx.network. */
export function convertStage(): ListrTask<Context> {
  return {
    title: 'Converting the guest to run on KVM',
    task: async (ctx, task) => {
      const g = need(ctx, 'guestfs');
      const inspection = need(ctx, 'inspection');
      const converter = selectConverter(inspection);
      task.title = `Converting ${guestLabel(inspection)} to run on KVM`;
      task.output = 'checking for sufficient free disk space in the guest';
      await checkGuestFreeSpace(g, inspection);
      const { staticIps } = parseNetworkMapping(ctx.options.output.networkMapping);
      const { network, ...caps } = await converter({
        g,
        source: need(ctx, 'source'),
        inspection,
        log: (message) => {
          task.output = message;
          (ctx.changes ??= []).push(message);
        },
        warn: (message) => ctx.warnings.push(message),
        tmpdir: need(ctx, 'tmpdir'),
        ...(ctx.virtioWin !== undefined ? { virtioWin: ctx.virtioWin } : {}),
        staticIps,
      });
      ctx.caps = { ...caps, domainType: domainType(ctx) };
      // The buses are known only now: a guest whose devices do not fit them fails here, before the copy.
      checkDeviceRoom(need(ctx, 'source'), need(ctx, 'targets').length, ctx.caps);
      // Every converter applies --mac MAC:ip:... itself, or reports and warns why not (static.ts, network.ts).
      ctx.network = network ?? [];
      // One structured event per NIC for --machine-readable consumers.
      for (const report of ctx.network)
        emitEvent({ type: 'info', stage: 'convert', message: describeNetworkReport(report), network: report });
    },
  };
}

/**
 * The domain type the output writes. -o libvirt starts from what this host
 * can run (the output then asks the target's domcapabilities); the files of
 * -o local/qemu/json are for the host that will run them, so they say kvm
 * unless --domain-type says otherwise (a TCG conversion host must not make
 * the guest emulated everywhere).
 */
function domainType(ctx: Context): 'kvm' | 'qemu' {
  if (ctx.options.output.domainType !== undefined) return ctx.options.output.domainType;
  if (ctx.options.output.mode === 'libvirt') return need(ctx, 'accel').tcg ? 'qemu' : 'kvm';
  return 'kvm';
}

/** Refuses to convert a guest whose filesystems are too full for the new initramfs and config. */
async function checkGuestFreeSpace(g: Guestfs, inspection: Inspection): Promise<void> {
  for (const { mountpoint } of inspection.mounts) {
    const stats = new Map(parseHash(await g.call('statvfs', mountpoint)));
    const free = Number(stats.get('bavail') ?? 0) * Number(stats.get('bsize') ?? 0);
    const needed = minimumFreeBytes(mountpoint);
    if (free < needed) {
      throw new ConversionError(
        `The guest's ${mountpoint} filesystem has ${formatBytes(free)} free, ${formatBytes(needed)} is needed for conversion: free some space in the source VM and retry.`,
      );
    }
  }
}
