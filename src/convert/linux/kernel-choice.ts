/**
 * Which installed kernel a converted guest should boot by default: one that
 * has virtio drivers, is not a debug build, and is the newest of those (in
 * rpm's version order). Pure functions: the converters run the commands that
 * make the choice the default.
 *
 * The version order follows rpm's documented comparison (rpmvercmp): strings
 * are split into runs of digits and runs of letters, separators are ignored,
 * digit runs compare as numbers and are newer than letter runs, `~` sorts
 * before anything (pre-releases) and `^` after the base version (snapshots).
 * Written from the description in rpm's docs (docs/manual/dependencies and
 * the rpmvercmp man page), not from rpm's code.
 */
import type { GuestKernel } from '../../model.js';

/** Compares two version strings as rpm does: negative when a is older, 0 when equal, positive when a is newer. */
export function rpmVersionCompare(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    // Separators (anything but letters, digits, ~ and ^) are skipped.
    while (i < a.length && isSeparator(a[i] ?? '')) i++;
    while (j < b.length && isSeparator(b[j] ?? '')) j++;
    const ca = a[i];
    const cb = b[j];
    // `~` sorts before everything, even the end of the string.
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // `^` sorts after the end of the string but before any other segment.
    if (ca === '^' || cb === '^') {
      if (ca === undefined) return -1;
      if (cb === undefined) return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === undefined || cb === undefined) break;
    const numeric = isDigit(ca);
    const segA = takeSegment(a, i, numeric);
    const segB = takeSegment(b, j, numeric);
    i += segA.length;
    j += segB.length;
    // Segments of different kinds: the numeric one is newer.
    if (segB === '') return numeric ? 1 : -1;
    const order = numeric ? compareNumeric(segA, segB) : compareText(segA, segB);
    if (order !== 0) return order;
  }
  // One string ran out: the one with segments left is newer.
  const restA = i < a.length;
  const restB = j < b.length;
  return restA === restB ? 0 : restA ? 1 : -1;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function isSeparator(c: string): boolean {
  return !isDigit(c) && !isLetter(c) && c !== '~' && c !== '^';
}

/** The run of digits (or of letters) starting at `from`. */
function takeSegment(s: string, from: number, digits: boolean): string {
  let end = from;
  while (end < s.length && (digits ? isDigit(s[end] ?? '') : isLetter(s[end] ?? ''))) end++;
  return s.slice(from, end);
}

function compareNumeric(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Debug kernel suffixes: RHEL 8+ `+debug`, RHEL 6/7 `.debug`, SUSE's `-debug` flavour. */
const DEBUG_SUFFIX = /[+.-]debug$/;

/** Whether a kernel version (its /lib/modules directory name) is a debug build. */
export function isDebugKernel(version: string): boolean {
  return DEBUG_SUFFIX.test(version);
}

/** The chosen kernel and, for the log, why. */
export interface KernelChoice {
  kernel: GuestKernel;
  reason: string;
}

/**
 * Picks the kernel to boot by default: among the kernels with virtio, the
 * newest non-debug one; a debug kernel only when every virtio kernel is a
 * debug build. Returns undefined when no kernel has virtio (the converters
 * refuse such a guest before this is called).
 */
export function chooseBestKernel(kernels: GuestKernel[]): KernelChoice | undefined {
  const withVirtio = kernels.filter((k) => k.hasVirtio);
  const nonDebug = withVirtio.filter((k) => !isDebugKernel(k.version));
  const pool = nonDebug.length > 0 ? nonDebug : withVirtio;
  const newest = [...pool].sort((a, b) => rpmVersionCompare(b.version.replace(DEBUG_SUFFIX, ''), a.version.replace(DEBUG_SUFFIX, '')))[0];
  if (!newest) return undefined;
  const skipped: string[] = [];
  const noVirtio = kernels.filter((k) => !k.hasVirtio).length;
  if (noVirtio > 0) skipped.push(`${noVirtio} without virtio`);
  if (pool === nonDebug && withVirtio.length > nonDebug.length) skipped.push(`${withVirtio.length - nonDebug.length} debug`);
  const reason = `newest ${pool === nonDebug ? 'non-debug ' : 'debug '}kernel with virtio of ${kernels.length}${skipped.length > 0 ? ` (skipped ${skipped.join(', ')})` : ''}`;
  return { kernel: newest, reason };
}
