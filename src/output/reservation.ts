/**
 * Output names a run owns. Every file a run will write in the target is
 * created empty, exclusively (O_CREAT|O_EXCL, which never follows a symlink),
 * in preflight: a second run with the same names fails there instead of
 * writing into, or later deleting, the first run's files. Files are then
 * only ever replaced by renaming a file this run created over a file this run
 * created, and removed only while they are still the very file (device and
 * inode) this run created: nothing of anyone else's is replaced or deleted.
 *
 * Each created file stays open until the run is done with it: an inode held
 * open is never reused, so a file someone put in place of ours (rm, then
 * create) cannot have our inode number and pass for ours (measured: without
 * the open descriptor, ext4 hands the freed number to the next file created).
 *
 * A run that dies without cleaning up (SIGKILL, OOM, power cut) leaves its
 * reserved names behind. So that a later run can tell them from a live
 * run's, a run holds a lock next to them for its whole life, `NAME.v2v-lock`
 * (see {@link OutputReservation.lock}): who holds it (run id, pid, process
 * start time, boot id, host) and every file the run created (name, device,
 * inode, birth time). A later run for the same name that finds the lock of a
 * dead run removes the files that are still the very ones that run created,
 * says so, and proceeds; a live run's lock, or another host's, refuses it.
 */
import { randomBytes } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { link, lstat, open, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CopyError, PreflightError } from '../errors.js';
import { bootId, currentRunProcess, RUN_ID_ENV, runProcessState, type RunProcess } from '../host/reaper.js';
import type { TargetDisk } from '../model.js';

/** A file's identity: device, inode and birth time (0 where the file system keeps none), as decimal strings. */
export interface FileIdentity {
  dev: string;
  ino: string;
  birth: string;
}

/** A file this run created, held open so its identity stays unique. */
interface OwnedFile extends FileIdentity {
  handle: FileHandle;
}

const CREATE_EXCLUSIVE = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW;

function identityOf(info: BigIntStats): FileIdentity {
  return { dev: String(info.dev), ino: String(info.ino), birth: String(info.birthtimeNs) };
}

/** Creates an empty file at `path` that did not exist (not even as a dangling symlink); returns it, open. */
export async function createExclusive(path: string, mode: number, flags = 0): Promise<OwnedFile> {
  const handle = await open(path, CREATE_EXCLUSIVE | flags, mode);
  try {
    return { ...identityOf(await handle.stat({ bigint: true })), handle };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** True when `path` is (still) the file `id`, without following a symlink. */
async function isFile(path: string, id: FileIdentity): Promise<boolean> {
  const info = await lstat(path, { bigint: true }).catch(() => undefined);
  return info !== undefined && String(info.dev) === id.dev && String(info.ino) === id.ino && String(info.birthtimeNs) === id.birth;
}

/** Suffix of a run's lock, next to the names it reserved: `NAME.v2v-lock`. */
export const LOCK_SUFFIX = '.v2v-lock';

/** The first line of a lock: who holds it. */
interface LockHeader extends RunProcess {
  v2vLock: 1;
  /** When the run took the lock (ISO 8601): for the notice. */
  started: string;
}

/** A later line of a lock: a file the run created. */
interface LockFileLine extends FileIdentity {
  file: string;
}

/** A lock as read back. */
export interface ParsedLock {
  owner: LockHeader;
  files: LockFileLine[];
}

/** The lock's first line (JSON). Pure. */
export function lockHeaderLine(owner: RunProcess, started: Date): string {
  const header: LockHeader = { v2vLock: 1, ...owner, started: started.toISOString() };
  return `${JSON.stringify(header)}\n`;
}

/** The lock line recording a file the run created. Pure. */
export function lockFileLine(path: string, id: FileIdentity): string {
  const line: LockFileLine = { file: basename(path), dev: id.dev, ino: id.ino, birth: id.birth };
  return `${JSON.stringify(line)}\n`;
}

const DECIMAL = /^\d+$/;

/**
 * Reads a lock's text: undefined when the first line is no v2v lock header.
 * File lines that do not parse (the last one torn by a power cut) are skipped.
 * Pure.
 */
export function parseLock(text: string): ParsedLock | undefined {
  const [first, ...rest] = text.split('\n');
  const owner = parseJson(first ?? '');
  if (
    owner?.['v2vLock'] !== 1 ||
    typeof owner['id'] !== 'string' ||
    typeof owner['pid'] !== 'number' ||
    !Number.isSafeInteger(owner['pid']) ||
    ![owner['startTime'], owner['bootId'], owner['host'], owner['started']].every((v) => typeof v === 'string')
  ) {
    return undefined;
  }
  const files: LockFileLine[] = [];
  for (const line of rest) {
    const f = parseJson(line);
    if (f === undefined) continue;
    const { file, dev, ino, birth } = f;
    if (typeof file !== 'string' || file === '' || file === '.' || file === '..' || file.includes('/')) continue;
    if (![dev, ino, birth].every((v) => typeof v === 'string' && DECIMAL.test(v))) continue;
    files.push({ file, dev: dev as string, ino: ino as string, birth: birth as string });
  }
  return { owner: owner as unknown as LockHeader, files };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `info` (a file found at a name a dead run's lock lists) is a file
 * that run created: the same inode and birth time, and the same device
 * unless the host rebooted since (device numbers may change at boot), in
 * which case a birth time is required. Pure.
 */
export function isRecordedFile(info: FileIdentity, recorded: FileIdentity, sameBoot: boolean): boolean {
  if (info.ino !== recorded.ino || info.birth !== recorded.birth) return false;
  return info.dev === recorded.dev || (!sameBoot && recorded.birth !== '0');
}

/** Files a dead run's lock lists that belong to guest `name`: its outputs only, never another name. Pure. */
export function ownNames(files: LockFileLine[], name: string): string[] {
  return [...new Set(files.map((f) => f.file))].filter((f) => f.startsWith(`${name}-`) || f.startsWith(`${name}.`));
}

/** The sentence for a lock a live run (or another host's) holds. */
export function lockHeld(path: string, owner: RunProcess, state: 'alive' | 'unknown'): string {
  const who = state === 'alive' ? `a v2v run (pid ${owner.pid})` : `a v2v run on host ${owner.host} (pid ${owner.pid})`;
  return `${path} exists: ${who} is converting a guest of this name there; once it has finished, run again, or choose another guest name with "-on NAME".`;
}

/** What {@link readLock} found at a lock's name. */
type FoundLock = { kind: 'lock'; lock: ParsedLock; id: FileIdentity } | { kind: 'gone' } | { kind: 'foreign'; reason: string };

/** Reads the lock at `path` without following a symlink or blocking (a FIFO), at most 1 MiB. */
async function readLock(path: string): Promise<FoundLock> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'gone' };
    if (code === 'ELOOP') return { kind: 'foreign', reason: 'symbolic link' };
    throw error;
  }
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile()) return { kind: 'foreign', reason: 'not a regular file' };
    const buffer = Buffer.alloc(Math.min(Number(info.size), 2 ** 20));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const lock = parseLock(buffer.subarray(0, bytesRead).toString('utf8'));
    return lock === undefined ? { kind: 'foreign', reason: 'no v2v lock' } : { kind: 'lock', lock, id: identityOf(info) };
  } finally {
    await handle.close();
  }
}

/** A name beside `path` no one else uses: `.BASENAME.TAG.RANDOM` (hidden, so no pool lists it for long). */
function scratchName(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${tag}.${randomBytes(6).toString('hex')}`);
}

/** The files of the target this run created, by path. */
export class OutputReservation {
  private readonly owned = new Map<string, OwnedFile>();
  /** Files renamed over (this run's placeholders), kept open until the end like the others. */
  private readonly replaced: OwnedFile[] = [];
  private closed = false;
  /** The run's lock, once taken: every file created from then on is recorded in it. */
  private held: { path: string; file: OwnedFile } | undefined;
  /** Why no name may be reserved: another live run holds the lock. */
  private refusal: string | undefined;

  /**
   * Takes the run's lock on guest `name` in `dir` (`DIR/NAME.v2v-lock`),
   * before any name is checked or reserved. A lock left by a run that is dead
   * (same host: the process is gone, or the host rebooted) is cleared first:
   * the files it lists that are still the very files that run created are
   * removed, `notify` is told which, and the lock is taken. A lock a live run
   * holds, or a run of another host, is left alone: the checks that follow
   * refuse its names (the partial disk's sentence), or, when they are free,
   * {@link reserve} refuses with the lock's ({@link lockHeld}). A file at
   * the lock's name that is no v2v lock is refused. Runs once per
   * reservation.
   */
  async lock(dir: string, name: string, notify: (message: string) => void): Promise<void> {
    if (this.held !== undefined) return;
    const path = join(dir, `${name}${LOCK_SUFFIX}`);
    // A few times at most: a dead run's lock cleared, then ours taken; losing a race to another run leaves its lock to the checks.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.createLock(path)) return;
      const found = await readLock(path).catch((error: unknown) => {
        throw new PreflightError(
          `Cannot read ${path} (${(error as Error).message}): remove it, or choose another guest name with "-on NAME".`,
          {
            cause: error,
          },
        );
      });
      if (found.kind === 'gone') continue;
      if (found.kind === 'foreign') {
        throw new PreflightError(`${path} exists (${found.reason}): remove it, or choose another guest name with "-on NAME".`);
      }
      const state = await runProcessState(found.lock.owner);
      if (state !== 'dead') {
        this.refusal = lockHeld(path, found.lock.owner, state);
        return;
      }
      const removed = await clearDeadLock(path, found.id, found.lock, name);
      if (removed === undefined) break;
      const { owner } = found.lock;
      notify(
        `a v2v run converting ${name} into ${dir} was killed (pid ${owner.pid}, started ${owner.started}): removed what it left${removed.length > 0 ? `: ${removed.sort().join(', ')}` : ''}`,
      );
    }
    this.refusal = `${path} exists: another v2v run took it meanwhile; run again once it has finished, or choose another guest name with "-on NAME".`;
  }

  /**
   * Creates the lock at `path` with its header, exclusively and never empty:
   * written under a scratch name, flushed, then hard-linked to `path` (link
   * fails when the name exists). False when another lock is there.
   */
  private async createLock(path: string): Promise<boolean> {
    const scratch = scratchName(path, 'new');
    let file: OwnedFile | undefined;
    try {
      file = await createExclusive(scratch, 0o644, constants.O_APPEND);
      await file.handle.write(lockHeaderLine(await currentRunProcess(process.env[RUN_ID_ENV] ?? `${process.pid}`), new Date()));
      await file.handle.datasync();
      await link(scratch, path);
      this.held = { path, file };
      return true;
    } catch (error) {
      await file?.handle.close();
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && file !== undefined) return false;
      throw new PreflightError(`Cannot create ${path} (${(error as Error).message}): fix the output directory or pass another "-os".`, {
        cause: error,
      });
    } finally {
      await unlink(scratch).catch(() => undefined);
    }
  }

  /** Records a file this run created in its lock (before anything is written to it). */
  private async record(path: string, id: FileIdentity): Promise<void> {
    await this.held?.file.handle.write(lockFileLine(path, id));
  }

  /** Removes the lock, if it is still this run's; the run keeps its other files' identities. */
  private async unlock(): Promise<void> {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    if (await isFile(held.path, held.file)) await unlink(held.path);
    await held.file.handle.close();
  }

  /**
   * Creates every path empty and exclusively, in order; on the first that
   * exists, removes the ones just created and throws a PreflightError saying
   * what to do (`explain` gives the sentence for a path that exists).
   */
  async reserve(paths: string[], mode: number, explain: (path: string) => string): Promise<void> {
    // lock() found another run's lock, and the names themselves were free: the lock refuses.
    if (this.refusal !== undefined) throw new PreflightError(this.refusal);
    for (const path of paths) {
      try {
        const file = await createExclusive(path, mode);
        this.owned.set(path, file);
        await this.record(path, file);
      } catch (error) {
        await this.discard();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ELOOP') throw new PreflightError(explain(path), { cause: error });
        throw new PreflightError(`Cannot create ${path} (${(error as Error).message}): fix the output directory or pass another "-os".`, {
          cause: error,
        });
      }
    }
    // On disk before the copy writes into them: after a power cut the lock still lists them.
    await this.held?.file.handle.datasync();
  }

  /** True when this run created `path` and it is still there, unchanged in identity. */
  async owns(path: string): Promise<boolean> {
    const id = this.owned.get(path);
    return id !== undefined && isFile(path, id);
  }

  /**
   * Gives the file at `from` the name `to` (both this run's): the rename
   * replaces only this run's own placeholder. Refuses (CopyError) when
   * either is no longer the file this run created.
   */
  async replace(from: string, to: string): Promise<void> {
    const fromId = this.owned.get(from)!;
    for (const path of [from, to]) {
      if (!(await this.owns(path))) {
        throw new CopyError(
          `${path} is no longer the file this run reserved (another program replaced or removed it): v2v left it alone and removed its own files; make sure nothing else writes there, then run again.`,
        );
      }
    }
    await rename(from, to);
    this.replaced.push(this.owned.get(to)!);
    this.owned.delete(from);
    this.owned.set(to, fromId);
  }

  /**
   * Renames `file` (not this run's reservation: a file made elsewhere, e.g. a
   * warm migration's committed pre-copy) over `path`, which this run
   * reserved, and owns it from then on: a failure later removes it like a
   * copy. Refuses (CopyError) when `path` is no longer this run's.
   */
  async adopt(file: string, path: string): Promise<void> {
    if (!(await this.owns(path))) {
      throw new CopyError(
        `${path} is no longer the file this run reserved (another program replaced or removed it): v2v left it alone and removed its own files; make sure nothing else writes there, then run again.`,
      );
    }
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const id = identityOf(await handle.stat({ bigint: true }));
      await rename(file, path);
      this.replaced.push(this.owned.get(path)!);
      this.owned.set(path, { ...id, handle });
      // The lock lists it too: a run killed from here on has it removed like a copy of its own.
      await this.record(path, id);
      await this.held?.file.handle.datasync();
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Writes `text` as the content of `path`, which this run reserved, so a
   * reader never sees half a file: into `path.partial` (created exclusively),
   * then renamed over the reservation.
   */
  async writeFile(path: string, text: string, mode: number): Promise<void> {
    if (this.closed) throw new Error(`internal: ${path} written after the reservation was closed`);
    const partial = `${path}.partial`;
    const file = await createExclusive(partial, mode);
    this.owned.set(partial, file);
    await this.record(partial, file);
    try {
      await writeFile(partial, text);
      await this.replace(partial, path);
    } catch (error) {
      await this.remove(partial);
      throw error;
    }
  }

  /** Removes `path` if it is still the file this run created; never anything else. */
  private async remove(path: string): Promise<void> {
    const id = this.owned.get(path);
    this.owned.delete(path);
    if (id === undefined) return;
    if (await isFile(path, id)) await unlink(path);
    if (!this.closed) await id.handle.close();
  }

  /** Removes every file this run created that is still there and still its own; run on failure. */
  async discard(): Promise<void> {
    for (const path of [...this.owned.keys()].reverse()) await this.remove(path);
    await this.close();
  }

  /**
   * Closes the files once the output is complete. Their identities are kept:
   * a run failing after this (interrupted at the very end) still removes
   * its own output.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.owned.values(), ...this.replaced.splice(0)].map((f) => f.handle.close()));
    await this.unlock();
  }
}

/**
 * Clears the lock of a dead run at `path` (read as `lock`, the file `id`):
 * first moves it to a scratch name, so one run only clears it, and puts it
 * back if what moved was not that file (another run's fresh lock); then
 * removes the files it lists that are still the very ones the dead run
 * created. Returns their names, or undefined when the lock was not cleared.
 */
async function clearDeadLock(path: string, id: FileIdentity, lock: ParsedLock, name: string): Promise<string[] | undefined> {
  const moved = scratchName(path, 'stale');
  try {
    await rename(path, moved);
  } catch {
    return undefined; // gone meanwhile: another run cleared it
  }
  if (!(await isFile(moved, id))) {
    await link(moved, path).catch(() => undefined);
    await unlink(moved).catch(() => undefined);
    return undefined;
  }
  const dir = dirname(path);
  const sameBoot = lock.owner.bootId === (await bootId());
  const removed: string[] = [];
  for (const file of ownNames(lock.files, name)) {
    const at = join(dir, file);
    const info = await lstat(at, { bigint: true }).catch(() => undefined);
    if (info === undefined || !info.isFile()) continue;
    const found = identityOf(info);
    if (lock.files.some((recorded) => isRecordedFile(found, recorded, sameBoot))) {
      await unlink(at);
      removed.push(file);
    }
  }
  await unlink(moved);
  return removed;
}

/** Where a target disk's bytes are until the output stage renames them into place: its copy name, else its final path. */
export function copiedPath(target: Pick<TargetDisk, 'path' | 'partialPath'>): string {
  return target.partialPath ?? target.path;
}
