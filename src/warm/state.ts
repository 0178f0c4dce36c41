/**
 * The state of a warm migration, kept beside the pre-copy in
 * `DIR/NAME.warm.json` and rewritten atomically (a new file, fsynced, renamed
 * over the old one, the directory fsynced) after each completed pass: which
 * VM, which disks and the change id each pre-copy is in sync with, the
 * passes. A run killed at any point finds the last completed pass there.
 * `DIR/NAME.warm.lock` (the running v2v's pid) keeps two runs apart.
 *
 * Parsing, checking and comparing are pure; reading and writing the files
 * are the small functions at the end.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PreflightError } from '../errors.js';
import type { PartialCopy } from './areas.js';

/** One disk's pre-copy. */
export interface WarmDiskState {
  /** vSphere device key: the disk's identity in the VM. */
  key: number;
  /** Datastore path of its base descriptor, "[DS] vm/vm.vmdk". */
  fileName: string;
  capacity: number;
  /** The pre-copy file's name in the pre-copy directory (raw, sparse, same offsets as the disk). */
  precopy: string;
  /** The change id the pre-copy is in sync with; absent until a pass copied the disk completely. */
  changeId?: string;
  /** A full copy under way: how far it got (everything below `upTo` from the snapshot of `changeId`), to resume from there. */
  partial?: PartialCopy;
}

/** One completed pass. */
export interface WarmPass {
  number: number;
  started: string;
  finished: string;
  seconds: number;
  /** Bytes the change tracking reported (all allocated bytes for a full copy). */
  bytesChanged: number;
  /** Bytes read from the datastore (= bytesChanged). */
  bytesRead: number;
  /** Bytes written into the pre-copy (zero blocks are not written). */
  bytesWritten: number;
  /** Device keys copied in full this pass. */
  full: number[];
  /** The pass ran against the powered-off VM (the cut-over's). */
  final: boolean;
}

/** What the state file holds. */
export interface WarmState {
  version: 1;
  /** Random id of this migration: v2v's snapshots are named after it (snapshotName), so a run finds only its own. */
  id: string;
  vm: { name: string; moref: string; instanceUuid?: string; uuid?: string };
  /** host[:port] the pre-copy was read from, for the record. */
  endpoint: string;
  created: string;
  updated: string;
  disks: WarmDiskState[];
  passes: WarmPass[];
  /** When v2v asked the guest to shut down (or powered it off) for the cut-over. */
  shutdownRequested?: string;
  /** The pre-copy is being or was committed into the output: it is no longer a copy of the source. */
  consumed?: boolean;
  /** When the cut-over finished (the output is written). */
  completed?: string;
}

/** The prefix of every snapshot v2v makes. */
export const SNAPSHOT_PREFIX = 'v2v-warm-';

/** The name of the snapshots of the migration `id`: v2v creates and removes only snapshots of exactly this name. */
export function snapshotName(id: string): string {
  return `${SNAPSHOT_PREFIX}${id}`;
}

/** A VM name as a file name: its last inventory path component, characters outside [A-Za-z0-9._-] as "_". */
export function fileStem(vmName: string): string {
  const last =
    vmName
      .split('/')
      .filter((p) => p !== '')
      .at(-1) ?? 'vm';
  const stem = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return stem === '' ? 'vm' : stem;
}

/** The files of a migration in its directory. */
export function stateFiles(dir: string, vmName: string): { state: string; lock: string; precopy: (key: number) => string } {
  const stem = fileStem(vmName);
  return {
    state: join(dir, `${stem}.warm.json`),
    lock: join(dir, `${stem}.warm.lock`),
    precopy: (key) => `${stem}.warm-${key}.raw`,
  };
}

/** A new state for a VM. */
export function newState(vm: WarmState['vm'], endpoint: string, now = new Date()): WarmState {
  return {
    version: 1,
    id: randomBytes(4).toString('hex'),
    vm,
    endpoint,
    created: now.toISOString(),
    updated: now.toISOString(),
    disks: [],
    passes: [],
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses a state file's text; returns the reason when it is not one (a file v2v did not write, or damaged). */
export function parseState(text: string): WarmState | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return `not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  if (!isObject(raw)) return 'not a JSON object';
  if (raw['version'] !== 1) return `version ${JSON.stringify(raw['version'])}, this v2v reads version 1`;
  if (typeof raw['id'] !== 'string' || !/^[0-9a-f]{8}$/.test(raw['id'])) return 'no valid "id"';
  const vm = raw['vm'];
  if (!isObject(vm) || typeof vm['name'] !== 'string' || typeof vm['moref'] !== 'string') return 'no valid "vm"';
  if (!Array.isArray(raw['disks']) || !Array.isArray(raw['passes'])) return 'no "disks" or "passes" list';
  for (const d of raw['disks'] as unknown[]) {
    if (
      !isObject(d) ||
      !isCount(d['key']) ||
      typeof d['fileName'] !== 'string' ||
      !isCount(d['capacity']) ||
      typeof d['precopy'] !== 'string' ||
      !/^[A-Za-z0-9._-]+$/.test(d['precopy']) ||
      (d['changeId'] !== undefined && typeof d['changeId'] !== 'string') ||
      (d['partial'] !== undefined &&
        (!isObject(d['partial']) || typeof d['partial']['changeId'] !== 'string' || !isCount(d['partial']['upTo'])))
    ) {
      return `a malformed disk entry ${JSON.stringify(d).slice(0, 120)}`;
    }
  }
  for (const p of raw['passes'] as unknown[]) {
    if (!isObject(p) || !isCount(p['number']) || !isCount(p['bytesChanged']))
      return `a malformed pass entry ${JSON.stringify(p).slice(0, 120)}`;
  }
  return raw as unknown as WarmState;
}

/** The VM as the state's identity check sees it. */
export interface VmIdentity {
  name: string;
  moref: string;
  instanceUuid?: string;
  uuid?: string;
}

/**
 * Whether a state belongs to this VM: the same instanceUuid when both have
 * one (vCenter's identity, which survives re-registration), else the same
 * moref and BIOS uuid. Returns the sentence for a mismatch.
 */
export function identityMismatch(state: WarmState, vm: VmIdentity, stateFile: string): string | undefined {
  const same =
    state.vm.instanceUuid !== undefined && vm.instanceUuid !== undefined
      ? state.vm.instanceUuid === vm.instanceUuid
      : state.vm.moref === vm.moref && state.vm.uuid === vm.uuid;
  if (same) return undefined;
  return `${stateFile} is the warm migration of another VM ("${state.vm.name}", ${state.vm.moref}${state.vm.instanceUuid ? `, instance ${state.vm.instanceUuid}` : ''}), not of "${vm.name}" (${vm.moref}${vm.instanceUuid ? `, instance ${vm.instanceUuid}` : ''}): give this VM its own --precopy-dir.`;
}

/** A disk of the VM as the reconciliation sees it. */
export interface VmDisk {
  key: number;
  fileName: string;
  capacity: number;
}

/** What changed in the VM's disks since the state was written, and the disks to copy. */
export interface Reconciled {
  /** The state's disk list for the VM as it is now (new disks without a change id). */
  disks: WarmDiskState[];
  /** Disks to copy in full, and why. */
  forced: Map<number, 'new-disk' | 'resized' | 'moved'>;
  /** Pre-copy files of disks the VM no longer has. */
  removed: WarmDiskState[];
  /** One sentence per change, for the user. */
  notes: string[];
}

/** Compares the VM's disks with the state's: added, removed, resized or moved disks are said, and copied in full. */
export function reconcileDisks(state: WarmState, disks: readonly VmDisk[], precopyName: (key: number) => string): Reconciled {
  const forced = new Map<number, 'new-disk' | 'resized' | 'moved'>();
  const notes: string[] = [];
  const known = new Map(state.disks.map((d) => [d.key, d]));
  const hadCopy = state.passes.length > 0;
  const out: WarmDiskState[] = [];
  for (const d of disks) {
    const old = known.get(d.key);
    if (old === undefined) {
      if (hadCopy) {
        forced.set(d.key, 'new-disk');
        notes.push(`the VM has a new disk ${d.fileName} (key ${d.key}): copying it in full`);
      }
      out.push({ key: d.key, fileName: d.fileName, capacity: d.capacity, precopy: precopyName(d.key) });
      continue;
    }
    let reason: 'resized' | 'moved' | undefined;
    if (old.capacity !== d.capacity) {
      reason = 'resized';
      notes.push(`the disk ${d.fileName} was resized from ${old.capacity} to ${d.capacity} bytes since the last pass: copying it in full`);
    } else if (old.fileName !== d.fileName) {
      reason = 'moved';
      notes.push(`the disk of key ${d.key} moved from ${old.fileName} to ${d.fileName} since the last pass: copying it in full`);
    }
    if (reason !== undefined) forced.set(d.key, reason);
    out.push({ ...old, fileName: d.fileName, capacity: d.capacity });
  }
  const keys = new Set(disks.map((d) => d.key));
  const removed = state.disks.filter((d) => !keys.has(d.key));
  for (const d of removed)
    notes.push(`the disk ${d.fileName} (key ${d.key}) was removed from the VM: its pre-copy ${d.precopy} is deleted`);
  return { disks: out, forced, removed, notes };
}

/** Reads the state file; undefined when there is none. Throws PreflightError naming the fix for one v2v cannot use. */
export async function readState(path: string): Promise<WarmState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PreflightError(`Cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check its permissions.`);
  }
  const state = parseState(text);
  if (typeof state === 'string') {
    throw new PreflightError(
      `${path} is not a state file v2v can use (${state}): move it away to start the warm migration over (the disks are then copied in full).`,
    );
  }
  return state;
}

/** Writes the state atomically: a reader (or a run killed meanwhile) sees the old file or the new one, whole. */
export async function writeState(path: string, state: WarmState, now = new Date()): Promise<void> {
  state.updated = now.toISOString();
  const partial = `${path}.partial`;
  const handle = await open(partial, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(partial, path);
  await syncDirectory(path);
}

/** fsyncs the directory holding `path`, so a rename in it survives a power cut. */
export async function syncDirectory(path: string): Promise<void> {
  const dir = await open(join(path, '..'), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Whether process `pid` runs (and is a node/v2v process: a reused pid of another program is not ours). */
async function runningV2v(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline === '' || /node|v2v/.test(cmdline);
}

/**
 * Takes the migration's lock file (created exclusively, holding our pid); a
 * lock whose process is gone is taken over. Throws PreflightError when
 * another v2v holds it. Returns the release function.
 */
export async function takeLock(path: string, vmName: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PreflightError(
          `Cannot create ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the pre-copy directory.`,
        );
      }
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && (await runningV2v(pid))) {
      throw new PreflightError(
        `Another v2v (pid ${pid}) is running the warm migration of "${vmName}" (${path}): wait for it, cut it over now with "kill -USR1 ${pid}", or stop it with "kill ${pid}".`,
      );
    }
    await rm(path, { force: true }); // a killed run's lock
  }
  throw new PreflightError(`Cannot take the lock ${path}: another v2v took it meanwhile; run again once it is done.`);
}
