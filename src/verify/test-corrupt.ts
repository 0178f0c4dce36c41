/**
 * Test hook of the checksum verification (not for users): a copy that went
 * wrong between copy and check, made on purpose so the e2e tests see
 * `--verify=checksum` catch it.
 */
import { copiedPath } from '../output/reservation.js';
import { run } from '../host/exec.js';
import type { TargetDisk } from '../model.js';
import { printErr, safeText } from '../text/safe-text.js';

/** The environment variable that makes `--verify=checksum` find a corrupt copy (see {@link corruptTargetForTest}). */
export const CORRUPT_ENV = 'V2V_TEST_CORRUPT_TARGET';

/**
 * Test hook: with `V2V_TEST_CORRUPT_TARGET=1`, overwrites 64 KiB at 1 MiB of
 * the first target disk's guest-visible content (with qemu-io, so raw and
 * qcow2 alike) just before the checksum verification: the copy went wrong
 * between copy and check. Not for users.
 */
export async function corruptTargetForTest(target: TargetDisk | undefined): Promise<void> {
  if (process.env[CORRUPT_ENV] !== '1' || target === undefined) return;
  const path = copiedPath(target);
  await run({ program: 'qemu-io', args: ['-f', target.format, '-c', 'write -P 0xa5 1M 64k', path] });
  printErr(`v2v: test hook: corrupted ${safeText(path)}`);
}
