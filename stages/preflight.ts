/**
 * Stage 3: everything that can fail is checked now, before the appliance
 * starts and before any byte is copied: tools, accelerator, host temp space,
 * target reachable, name collisions, target free space.
 */
import type { ListrTask } from 'listr2';
import { measure } from '../drivers/qemu-img.js';
import { probeAccelerator } from '../drivers/qemu-system.js';
import { locateVirtioWin } from '../src/convert/windows/virtio-win-location.js';
import { unmatchedNetworkRules } from '../src/output/network-rules-check.js';
import { checkFreeSpace, measureFormat, targetBytesNeeded } from '../src/host/disk-space.js';
import { PreflightError } from '../src/errors.js';
import { run } from '../src/host/exec.js';
import { need, type Context } from './context.js';
import { guestName } from '../src/output/guest-name.js';
import type { TargetDisk } from '../src/model.js';
import { COMMIT_SPACE_PER_DISK, type CommitPlan } from '../src/warm/migration.js';

/** Host temp space needed for overlays during conversion (as virt-v2v: 1 GiB). */
const TMP_SPACE_NEEDED = 2 ** 30;

/** Programs the pipeline runs, with the Debian package providing each. */
const REQUIRED_TOOLS: Array<[string, string[], string]> = [
  ['qemu-img', ['--version'], 'qemu-utils'],
  ['guestfish', ['--version'], 'libguestfs-tools'],
  ['qemu-system-x86_64', ['--version'], 'qemu-system-x86'],
];

/** Needed only for -o libvirt. */
const LIBVIRT_TOOL: [string, string[], string] = ['virsh', ['--version'], 'libvirt-clients'];

/** Runs every check that does not need the guest. */
export function preflightStage(): ListrTask<Context> {
  return {
    title: 'Checking the target and the host',
    task: async (ctx, task) => {
      const overlays = need(ctx, 'overlays');
      const source = need(ctx, 'source');
      const tools = ctx.options.output.mode === 'libvirt' ? [...REQUIRED_TOOLS, LIBVIRT_TOOL] : REQUIRED_TOOLS;
      for (const [program, args, pkg] of tools) {
        const ok = await run({ program, args }, { allowFailure: true }).then(
          (r) => r.exitCode === 0,
          () => false,
        );
        if (!ok) throw new PreflightError(`${program} is missing or broken: install the ${pkg} package (scripts/setup.sh does).`);
      }

      const kvm = await probeAccelerator('kvm');
      ctx.accel = { tcg: !kvm.usable, reason: kvm.reason };
      if (!kvm.usable) {
        ctx.warnings.push(`KVM is not usable (${kvm.reason}): using TCG software emulation, which is slower`);
        task.output = `KVM not usable (${kvm.reason}): falling back to TCG`;
      }

      // Only Windows guests use it, but inspection comes later: a bad path is refused now, cheaply.
      ctx.virtioWin = await locateVirtioWin(ctx.options.virtioWin);

      await checkFreeSpace(
        need(ctx, 'tmpdir'),
        TMP_SPACE_NEEDED,
        'temporary overlays',
        'free space there or set VIRT_V2V_TMPDIR to a larger directory',
      );

      ctx.warnings.push(...unmatchedNetworkRules(source.nics, ctx.options.output.networkMapping));

      const name = guestName(ctx.options.output.name, source.name);
      ctx.name = name;
      ctx.warnings.push(...(ctx.output.checkSource?.(name, source) ?? []));
      await ctx.output.prepare?.();
      const targets = ctx.output.planDisks(name, overlays);
      const { format, allocation, spaceCheck } = ctx.options.output;
      // A warm migration writes a target by committing into its pre-copy where it can (no second copy).
      const commits = ctx.warm
        ? await ctx.warm.planCommits(
            targets,
            ctx.output,
            { allocation, ...(ctx.options.output.compressed ? { compressed: true } : {}) },
            (target) => overlays.find((o) => o.path === target.overlay)?.disk.path,
          )
        : new Map<TargetDisk, CommitPlan>();
      ctx.commits = commits;
      let bytesNeeded = 0;
      for (const overlay of overlays) {
        const target = targets.find((t) => t.overlay === overlay.path);
        bytesNeeded +=
          target !== undefined && commits.has(target)
            ? COMMIT_SPACE_PER_DISK
            : targetBytesNeeded(await measure(overlay.path, 'qcow2', measureFormat(format, allocation)), allocation);
      }
      const { output } = ctx;
      if (output.discard) ctx.cleanup.onFailure(`removing what this run wrote to ${output.describe}`, () => output.discard?.());
      // --no-space-check (thin storage): every other target check and the reservations still run, with no space asked.
      await output.preflight(name, targets, spaceCheck === false ? 0 : bytesNeeded, (message) => ctx.warnings.push(message));
      ctx.targets = targets;
      task.output = `${ctx.output.describe}: ${targets.length} disk(s), ${(bytesNeeded / 2 ** 20).toFixed(0)} MiB needed${spaceCheck === false ? ' (not checked: --no-space-check)' : ''}${commits.size > 0 ? `; ${commits.size} disk(s) written by committing into the pre-copy (no second copy)` : ''}`;
    },
  };
}
