/**
 * Area arithmetic of a pre-copy pass, pure: the answers of
 * QueryChangedDiskAreas checked and joined into one sorted list, what to ask
 * for (everything, or what changed since a change id), and the list cut into
 * the Range requests that read it.
 *
 * A change id is "UUID/SEQ" (vSphere's form, e.g. "52 de ... 1f/4"): the
 * UUID names one run of the disk's change tracking; it changes when CBT is
 * reset, and then nothing since an older id can be asked for (VMware KB
 * 1020128 describes the form; see docs/warm-migration.md).
 */
import type { DiskArea, DiskChangeInfo } from '../../drivers/vsphere-snapshots.js';

export type { DiskArea } from '../../drivers/vsphere-snapshots.js';

/** The UUID part of a change id (what a CBT reset changes), or undefined when it has no "/SEQ". */
export function changeIdUuid(changeId: string): string | undefined {
  const slash = changeId.lastIndexOf('/');
  return slash > 0 && /^\d+$/.test(changeId.slice(slash + 1)) ? changeId.slice(0, slash) : undefined;
}

/** What one disk's pass copies, and why. */
export type CopyPlan =
  | { kind: 'full'; reason: 'first' | 'new-disk' | 'resized' | 'moved' | 'cbt-reset' }
  | { kind: 'changed'; since: string }
  /** A full copy that stopped after `upTo` (everything below it copied from the state of `since`): what changed since, and the rest. */
  | { kind: 'resume'; since: string; upTo: number };

/** How far an interrupted full copy got: everything below `upTo` holds the state of the snapshot of `changeId`. */
export interface PartialCopy {
  changeId: string;
  upTo: number;
}

/**
 * Decides what a disk's pass copies: the changes since the id the pre-copy
 * is in sync with, or everything when there is no such id or the CBT UUID
 * changed (a reset). `forced` is a reason found earlier (new, resized,
 * moved). A full copy that was interrupted after a checkpoint (`partial`)
 * is resumed when the CBT UUID is still the same.
 */
export function planCopy(
  previous: string | undefined,
  current: string,
  forced?: 'new-disk' | 'resized' | 'moved',
  partial?: PartialCopy,
): CopyPlan {
  if (forced !== undefined) return { kind: 'full', reason: forced };
  if (previous === undefined) {
    const uuid = partial !== undefined ? changeIdUuid(partial.changeId) : undefined;
    if (partial !== undefined && partial.upTo > 0 && uuid !== undefined && uuid === changeIdUuid(current)) {
      return { kind: 'resume', since: partial.changeId, upTo: partial.upTo };
    }
    return { kind: 'full', reason: 'first' };
  }
  const before = changeIdUuid(previous);
  if (before === undefined || before !== changeIdUuid(current)) return { kind: 'full', reason: 'cbt-reset' };
  return { kind: 'changed', since: previous };
}

/** The parts of sorted areas at or after `from`. */
export function areasFrom(areas: readonly DiskArea[], from: number): DiskArea[] {
  return areas.flatMap((a) =>
    a.start + a.length <= from ? [] : a.start >= from ? [{ ...a }] : [{ start: from, length: a.start + a.length - from }],
  );
}

/** The union of two sorted area lists, sorted, overlapping and adjacent areas joined. */
export function unionAreas(a: readonly DiskArea[], b: readonly DiskArea[]): DiskArea[] {
  const all = [...a, ...b].sort((x, y) => x.start - y.start);
  const out: DiskArea[] = [];
  for (const area of all) {
    const last = out.at(-1);
    if (last !== undefined && area.start <= last.start + last.length) {
      last.length = Math.max(last.length, area.start + area.length - last.start);
    } else {
      out.push({ ...area });
    }
  }
  return out;
}

/** Sum of the areas' lengths. */
export function totalBytes(areas: readonly DiskArea[]): number {
  return areas.reduce((sum, a) => sum + a.length, 0);
}

/**
 * Checks one QueryChangedDiskAreas answer asked from `asked` on a disk of
 * `capacity` bytes, and returns where the next call starts (the end of what
 * it covers; `capacity` when done). Throws on an answer that would lose or
 * invent data: not starting where asked, not advancing, areas outside it,
 * out of order or overlapping.
 */
export function checkAnswer(info: DiskChangeInfo, asked: number, capacity: number): number {
  const bad = (why: string): Error => new Error(`QueryChangedDiskAreas from ${asked}: ${why}`);
  if (info.startOffset !== asked) throw bad(`the answer starts at ${info.startOffset}`);
  if (info.length <= 0) throw bad(`the answer covers ${info.length} bytes`);
  // The last answer may say it covers past the disk's end; no area may lie there.
  const end = Math.min(info.startOffset + info.length, capacity);
  let last = info.startOffset;
  for (const a of info.areas) {
    if (a.length <= 0 || a.start < last || a.start + a.length > end) {
      throw bad(`area ${a.start}+${a.length} is out of order or outside [${info.startOffset}, ${end})`);
    }
    last = a.start + a.length;
  }
  return end;
}

/** Appends areas to a sorted list, joining an area that starts where the last one ends. */
export function appendAreas(into: DiskArea[], areas: readonly DiskArea[]): DiskArea[] {
  for (const a of areas) {
    const last = into.at(-1);
    if (last !== undefined && last.start + last.length === a.start) last.length += a.length;
    else into.push({ start: a.start, length: a.length });
  }
  return into;
}

/**
 * Asks `query` from offset 0 to the disk's end (each answer says how far it
 * covers) and returns every area, sorted and joined.
 */
export async function collectAreas(capacity: number, query: (startOffset: number) => Promise<DiskChangeInfo>): Promise<DiskArea[]> {
  const areas: DiskArea[] = [];
  for (let at = 0; at < capacity;) {
    const info = await query(at);
    at = checkAnswer(info, at, capacity);
    appendAreas(areas, info.areas);
  }
  return areas;
}

/** Cuts areas into pieces of at most `maxBytes` (one Range request each), in order. */
export function splitAreas(areas: readonly DiskArea[], maxBytes: number): DiskArea[] {
  const out: DiskArea[] = [];
  for (const a of areas) {
    for (let at = a.start; at < a.start + a.length; at += maxBytes) {
      out.push({ start: at, length: Math.min(maxBytes, a.start + a.length - at) });
    }
  }
  return out;
}
