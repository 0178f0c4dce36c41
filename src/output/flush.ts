/**
 * Makes a copied disk durable before it is reported copied: `qemu-img
 * convert`'s default cache mode for convert leaves the last gigabytes of the
 * target in the page cache when it exits (its `fdatasync`s come only while it
 * creates the image), so a power loss right after "Finished" could lose them.
 */
import { open } from 'node:fs/promises';

/**
 * `fdatasync` of a copied target. A path that is not a file (the null
 * output's `json:` sink) is left alone, and so is a special file that cannot
 * be synced (EINVAL); any other error is the caller's to report.
 */
export async function flushToStorage(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await handle.datasync();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}
