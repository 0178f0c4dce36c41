/**
 * hivexregedit (libwin-hivex-perl): merges .reg text into a hive file and
 * exports keys as .reg text. Used on hive copies that libguestfs downloads
 * from and uploads to the guest (see src/convert/windows-registry.ts for why).
 */
import { writeFile } from 'node:fs/promises';
import { run, type Command } from '../src/exec.js';

const HIVEXREGEDIT = 'hivexregedit';

/** `hivexregedit --merge --prefix PREFIX HIVE REGFILE`. */
export function mergeCommand(hive: string, prefix: string, regFile: string): Command {
  return { program: HIVEXREGEDIT, args: ['--merge', '--prefix', prefix, hive, regFile] };
}

/** `hivexregedit --export --prefix PREFIX [--max-depth N] HIVE KEY`. */
export function exportCommand(hive: string, prefix: string, key: string, maxDepth?: number): Command {
  return { program: HIVEXREGEDIT, args: ['--export', '--prefix', prefix, ...(maxDepth === undefined ? [] : ['--max-depth', String(maxDepth)]), hive, key] };
}

/** Whether hivexregedit runs on this host. */
export async function hivexregeditAvailable(): Promise<boolean> {
  return run({ program: HIVEXREGEDIT, args: ['--help'] }, { allowFailure: true }).then((r) => r.exitCode === 0, () => false);
}

/** Merges .reg text into a hive file (written next to it as HIVE.reg, kept for -v debugging). */
export async function mergeRegText(hive: string, prefix: string, text: string): Promise<void> {
  const regFile = `${hive}.reg`;
  await writeFile(regFile, text);
  await run(mergeCommand(hive, prefix, regFile), { kind: 'guestfs' });
}

/** Exports one key (and its subkeys down to maxDepth) as .reg text; a missing key gives ''. */
export async function exportKey(hive: string, prefix: string, key: string, maxDepth?: number): Promise<string> {
  const result = await run(exportCommand(hive, prefix, key, maxDepth), { kind: 'guestfs', allowFailure: true });
  return result.exitCode === 0 ? result.stdout : '';
}
