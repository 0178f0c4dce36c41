/**
 * `--verify[=MODES]`: which checks run after the copy. Parsed here (parse →
 * normalize → rules, as options.ts does for the rest).
 */
import { UsageError } from '../errors.js';

/** The checks a run does after the copy. */
export interface VerifyChoice {
  /** Compare every target's guest-visible content with the converted overlay it was copied from. */
  checksum: boolean;
  /** Boot the target disks (through a throwaway overlay) and watch the serial console. */
  boot: boolean;
}

/** The accepted `--verify=` words. */
export const VERIFY_MODES = ['checksum', 'boot', 'all', 'none'] as const;

/**
 * Parses `--verify` ('' when bare: both checks), `--verify=checksum`,
 * `=boot`, `=checksum,boot`, `=all` or `=none`. Absent: no check, for local
 * and remote sources alike. Not the checksum by default for remote sources:
 * the converted overlay's unchanged blocks are read through its backing
 * file, i.e. the remote source, so comparing it with the target fetches the
 * guest's data a second time (remote copies fetch each block about once,
 * docs/remote-sources.md), while TLS and SSH already protect the transfer.
 * Throws UsageError.
 */
export function parseVerify(raw: string | undefined): VerifyChoice {
  if (raw === undefined) return { checksum: false, boot: false };
  if (raw === '' || raw === 'all') return { checksum: true, boot: true };
  const words = raw.split(',').map((w) => w.trim());
  const unknown = words.filter((w) => !(VERIFY_MODES as readonly string[]).includes(w));
  if (unknown.length > 0) {
    throw new UsageError(`Unknown "--verify=${raw}": use --verify (both checks), --verify=checksum, --verify=boot or --verify=none.`);
  }
  if (words.includes('none')) {
    if (words.length > 1) throw new UsageError(`"--verify=${raw}" mixes none with checks: use --verify=none alone.`);
    return { checksum: false, boot: false };
  }
  const all = words.includes('all');
  return { checksum: all || words.includes('checksum'), boot: all || words.includes('boot') };
}

/** Human words for a choice: "checksum and boot", "checksum", "boot", "none". */
export function describeVerify(choice: VerifyChoice): string {
  const parts = [choice.checksum ? 'checksum' : '', choice.boot ? 'boot' : ''].filter((p) => p !== '');
  return parts.length === 0 ? 'none' : parts.join(' and ');
}
