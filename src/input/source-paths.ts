/**
 * The local source files named on the command line must exist. A missing one
 * is a usage error (exit 2: the command line names a wrong path), found before
 * anything runs; v2v batch runs the same check on every entry first. Files a
 * source refers to (a .vmx's disks) are the source stage's (exit 4). The
 * --allow-dir directories are checked here too: each must be a directory.
 */
import { access, constants, stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { InputOptions } from './options.js';

/** Throws UsageError for the first local source path that cannot be read. */
export async function checkLocalSources(input: InputOptions): Promise<void> {
  if (input.remote || input.vsphere) return; // URLs and VM names, checked when read
  for (const dir of input.allowDirs ?? []) {
    const found = await stat(dir).then(
      (s) => (s.isDirectory() ? undefined : 'is not a directory'),
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.code ?? String(error)})`),
    );
    if (found !== undefined) {
      throw new UsageError(`--allow-dir ${dir} ${found}: name the directory (a mounted datastore) that holds the .vmx's disks.`);
    }
  }
  for (const path of input.paths) {
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        code === 'ENOENT'
          ? `The source ${path} does not exist: check the path given to -i ${input.mode}.`
          : `The source ${path} cannot be read (${code ?? String(error)}): check its permissions, or run v2v as a user who can read it.`,
      );
    }
  }
}
