/**
 * The guest's name on the target (-on, or derived from the source's name),
 * and the rule every such name must pass: it names files and a libvirt domain.
 */
import { PreflightError } from '../errors.js';

/** Guest names libvirt and file systems accept without surprises. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/;

/** True when `name` is a valid guest name: the rule of -on, applied to derived names too. */
export function isValidGuestName(name: string): boolean {
  return NAME_RE.test(name);
}

/**
 * The guest's name on the target: -on when given (already checked), else the
 * source's name with characters outside the -on rule replaced by `_`. A
 * derived name must pass the -on rule too (length, first character): it
 * names files and a libvirt domain, and a bad one would fail only at the copy.
 */
export function guestName(override: string | undefined, sourceName: string): string {
  if (override !== undefined) return override;
  const name = sourceName.replace(/[^A-Za-z0-9_.+-]/g, '_');
  if (!isValidGuestName(name)) {
    const shown = name.length > 40 ? `${name.slice(0, 40)}... (${name.length} characters)` : `"${name}"`;
    throw new PreflightError(
      `The source's name gives the guest name ${shown}, which is not valid (at most 100 letters, digits, '.', '_', '+' or '-', starting with a letter or digit): choose one with "-on NAME".`,
    );
  }
  return name;
}
