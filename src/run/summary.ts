import type { Options } from '../../stages/context.js';
/**
 * The lines printed after a successful run: what the converter did in the
 * guest (its own messages, so the summary survives the live renderer), and
 * the next step for the output written.
 */

/** Converter messages that are progress, not a change. */
const NOT_CHANGES = /^(conversion of the guest finished|no VMware or other hypervisor tools installed|every initramfs already contains)/;

/**
 * The summary lines (without the "Finished converting" line). On a terminal
 * (`live`) the changes are listed, since the live task list has erased them;
 * the line renderer's log already holds them as detail lines, so there only
 * the next step is added, as a timestamped detail line like the rest of it.
 * Last, the run's log file, when one was written.
 */
export function runSummary(
  options: Options,
  name: string,
  files: readonly string[],
  changes: readonly string[],
  live: boolean,
  time: string,
  log?: string,
): string[] {
  const next = nextStep(options, name, files);
  if (!live)
    return [...(next !== undefined ? [`› [${time}] next: ${next}`] : []), ...(log !== undefined ? [`› [${time}] log: ${log}`] : [])];
  const last = log !== undefined ? [`Log: ${log}`] : [];
  const done = changes.filter((c) => !NOT_CHANGES.test(c));
  const lines = done.length > 0 ? ['Changed in the guest:', ...done.map((c) => `  - ${c}`)] : [];
  if (next !== undefined) lines.push(`Next: ${next}`);
  return [...lines, ...last];
}

/** What to run next for each output mode. */
function nextStep(options: Options, name: string, files: readonly string[]): string | undefined {
  const { mode, connection } = options.output;
  switch (mode) {
    case 'local': {
      const xml = files.find((f) => f.endsWith('.xml'));
      return xml ? `virsh define ${xml} && virsh start ${name}` : undefined;
    }
    case 'qemu': {
      const script = files.find((f) => f.endsWith('.sh'));
      return script ? `run ${script} to boot the guest` : undefined;
    }
    case 'libvirt':
      return `virsh${connection ? ` -c ${connection}` : ''} start ${name}`;
    case 'kubevirt': {
      const yaml = files.find((f) => f.endsWith('.yaml'));
      return yaml
        ? `put the disks at the same paths on the node that will run the guest (hostDisk volumes), then kubectl apply -f ${yaml} && virtctl start ${name}`
        : undefined;
    }
    default:
      return undefined;
  }
}
