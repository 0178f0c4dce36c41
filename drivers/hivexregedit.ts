/**
 * hivexregedit (libwin-hivex-perl): merges .reg text into a hive file and
 * exports keys as .reg text. Used on hive copies that libguestfs downloads
 * from and uploads to the guest (see src/convert/windows/registry.ts for why).
 */
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { run, type Command } from '../src/host/exec.js';

const HIVEXREGEDIT = 'hivexregedit';

/** `hivexregedit --merge --prefix PREFIX HIVE REGFILE`. */
export function mergeCommand(hive: string, prefix: string, regFile: string): Command {
  return { program: HIVEXREGEDIT, args: ['--merge', '--prefix', prefix, hive, regFile] };
}

/** `hivexregedit --export --prefix PREFIX [--max-depth N] HIVE KEY`. */
export function exportCommand(hive: string, prefix: string, key: string, maxDepth?: number): Command {
  return {
    program: HIVEXREGEDIT,
    args: ['--export', '--prefix', prefix, ...(maxDepth === undefined ? [] : ['--max-depth', String(maxDepth)]), hive, key],
  };
}

/**
 * Whether hivexregedit is installed: an executable of that name on PATH.
 * Not by running it: it has no --version, and --help exits 1 (measured).
 */
export async function hivexregeditAvailable(path = process.env['PATH'] ?? ''): Promise<boolean> {
  for (const dir of path.split(delimiter).filter((d) => d !== '')) {
    if (
      await access(join(dir, HIVEXREGEDIT), constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
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
