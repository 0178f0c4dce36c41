/**
 * Refusals decided right after inspection, before anything is modified or
 * copied: which operating system to convert (`--root`), and encrypted
 * volumes v2v cannot open. Pure functions: the inspect stage feeds them what
 * libguestfs reported.
 */
import { createInterface } from 'node:readline/promises';
import { safeText } from '../../text/safe-text.js';
import { parseLines, type Guestfs } from '../../../drivers/guestfish.js';
import { ConversionError } from '../../errors.js';
import type { RootChoice } from './option.js';

/** One operating system inspection found: its root device and a name for messages. */
export interface FoundRoot {
  root: string;
  /** e.g. "Rocky Linux 9.3 (Blue Onyx)"; may be empty. */
  label: string;
}

/** "/dev/sda1 (Alpine Linux), /dev/sda2 (Arch Linux)". */
export function describeRoots(roots: FoundRoot[]): string {
  return roots.map((r) => (r.label ? `${r.root} (${r.label})` : r.root)).join(', ');
}

/**
 * The root to convert, or 'prompt' when the user must be asked (`--root ask`
 * on a terminal with several roots). Throws ConversionError naming the fix.
 */
export function chooseRoot(roots: FoundRoot[], choice: RootChoice, interactive: boolean): string {
  if (roots.length === 0) {
    throw new ConversionError("No operating system was found on the source disks: check that the source names the guest's system disk.");
  }
  const list = describeRoots(roots);
  if (choice.kind === 'device') {
    if (roots.some((r) => r.root === choice.device)) return choice.device;
    throw new ConversionError(`"--root ${choice.device}" is not a root the source disks hold (found: ${list}): pass one of these devices.`);
  }
  const only = roots.length === 1 ? roots[0] : undefined;
  if (only) return only.root;
  if (choice.kind === 'first') return (roots[0] as FoundRoot).root;
  if (choice.kind === 'ask') {
    if (interactive) return 'prompt';
    throw new ConversionError(
      `The source disks hold ${roots.length} operating systems (${list}) and "--root ask" cannot ask without a terminal on stdin: pass "--root /dev/X" naming one of them, or "--root first".`,
    );
  }
  throw new ConversionError(
    `The source disks hold ${roots.length} operating systems (${list}): choose the one to convert with "--root /dev/X" (or "--root first", or "--root ask" on a terminal).`,
  );
}

/** Parses the answer to the `--root ask` prompt: a number from the list, or a device. */
export function parseRootAnswer(answer: string, roots: FoundRoot[]): string | undefined {
  const text = answer.trim();
  const index = Number(text);
  if (/^\d+$/.test(text) && index >= 1 && index <= roots.length) return roots[index - 1]?.root;
  return roots.find((r) => r.root === text)?.root;
}

/**
 * Devices whose vfs type is a LUKS container. An encrypted root is otherwise
 * invisible to inspection and would be reported, wrongly, as "no operating system".
 */
export function encryptedDevices(filesystems: Array<[string, string]>): string[] {
  return filesystems.filter(([, type]) => type === 'crypto_LUKS').map(([device]) => device);
}

/** Refuses encrypted volumes: v2v cannot unlock them (no `--key` support yet). */
export function refuseEncrypted(devices: string[]): void {
  if (devices.length === 0) return;
  throw new ConversionError(
    `The source disks hold LUKS-encrypted ${devices.length === 1 ? 'volume' : 'volumes'} (${devices.join(', ')}), which v2v cannot unlock yet (there is no --key support): remove the encryption in the source VM (e.g. "cryptsetup reencrypt --decrypt") and retry.`,
  );
}

/**
 * Runs the refusals on a launched appliance and returns the root to convert:
 * LUKS volumes first (an encrypted root would otherwise look like "no
 * operating system"), then the `--root` choice among the roots inspection
 * found. `--root ask` on a terminal prompts on stderr.
 */
export async function selectRoot(g: Guestfs, choice: RootChoice = { kind: 'single' }): Promise<string> {
  refuseEncrypted(encryptedDevices(await listBlockTypes(g)));
  const roots: FoundRoot[] = [];
  for (const root of await g.inspectOs()) {
    const label = await g.inspectGet('product-name', root).catch(() => '');
    roots.push({ root, label: label === 'unknown' ? '' : label });
  }
  const chosen = chooseRoot(roots, choice, process.stdin.isTTY === true);
  return chosen === 'prompt' ? promptForRoot(roots) : chosen;
}

/**
 * `DEVICE → vfs type` for every whole disk without partitions, partition and
 * LV. Not `list-filesystems`: libguestfs 1.48 leaves LUKS containers out of
 * it (measured), so it cannot show encrypted volumes.
 */
async function listBlockTypes(g: Guestfs): Promise<Array<[string, string]>> {
  const partitions = parseLines(await g.call('list-partitions'));
  const disks = parseLines(await g.call('list-devices')).filter((d) => !partitions.some((p) => p.startsWith(d)));
  const lvs = parseLines(await g.call('lvs').catch(() => ''));
  const types: Array<[string, string]> = [];
  for (const device of [...disks, ...partitions, ...lvs]) {
    types.push([device, (await g.call('vfs-type', device).catch(() => '')).trim()]);
  }
  return types;
}

/** Asks on the terminal which root to convert, until the answer names one. */
async function promptForRoot(roots: FoundRoot[]): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // What the guest says of itself (product names), escaped: src/text/safe-text.ts.
    const menu = roots.map((r, i) => `  ${i + 1}. ${safeText(describeRoots([r]))}`).join('\n');
    for (;;) {
      const answer = await rl.question(
        `\nThe source disks hold ${roots.length} operating systems:\n${menu}\nWhich one to convert (1-${roots.length} or a device)? `,
      );
      const root = parseRootAnswer(answer, roots);
      if (root) return root;
    }
  } finally {
    rl.close();
  }
}

/**
 * Turns a failed mount of a guest filesystem into the error to show. NTFS
 * left hibernated or by Fast Startup (ntfs-3g: "Windows is hibernated,
 * refused to mount", "unclean file system ... no hibernation or fast
 * restarting") would lose the hibernated state's writes: refuse it with the fix.
 */
export function mountFailure(error: unknown, device: string, mountpoint: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/hibernat|unclean file system|fast restart/i.test(message)) return hibernatedError(device, mountpoint, error);
  return error instanceof Error ? error : new Error(message);
}

/** The refusal of a hibernated / Fast Startup NTFS filesystem, with the fix. */
export function hibernatedError(device: string, mountpoint: string, cause?: unknown): ConversionError {
  return new ConversionError(
    `The guest's ${mountpoint} filesystem (${device}) is hibernated or was left by Windows Fast Startup: start the source VM, disable Fast Startup ("powercfg /h off") and shut Windows down fully, then retry.`,
    cause === undefined ? undefined : { cause },
  );
}

/** Whether the first bytes of hiberfil.sys mark a hibernated system ("hibr"/"HIBR"; "wake" or zeros: resumed). */
export function isHibernationHeader(head: string): boolean {
  return /^hibr/i.test(head);
}

/**
 * Refuses NTFS filesystems holding a hibernation image. The mount refusal
 * above is not enough: this appliance mounts such a filesystem read-write
 * without complaint (measured with a "hibr" hiberfil.sys), and writing to
 * it would be lost, or corrupt it, when Windows resumes.
 */
export async function refuseHibernatedNtfs(g: Guestfs, mounts: ReadonlyArray<{ mountpoint: string; device: string }>): Promise<void> {
  for (const { mountpoint, device } of mounts) {
    if ((await g.call('vfs-type', device).catch(() => '')).trim() !== 'ntfs') continue;
    const path = await g.caseSensitivePath(`${mountpoint.replace(/\/$/, '')}/hiberfil.sys`);
    if (!(await g.call('is-file', path)).trim().startsWith('true')) continue;
    const head = await g.call('pread', path, '4', '0').catch(() => '');
    if (isHibernationHeader(head)) throw hibernatedError(device, mountpoint);
  }
}
