/**
 * One pre-copy pass (docs/warm-migration.md): check the VM (same VM as the
 * state, no snapshot but a crash-left one of v2v's, which is removed; disks
 * v2v can copy; CBT on), snapshot it, read each disk's change id from the
 * snapshot, copy what changed since the last pass (everything allocated on
 * the first) from the base disk, frozen while the snapshot exists, into the
 * local pre-copy; then make the pre-copy durable, record the change ids,
 * and remove the snapshot. v2v keeps one snapshot at a time: the next pass
 * creates its own after this one's is gone. The snapshot's removal is
 * registered as cleanup where it is created, so every exit path removes it.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MoRef } from '../../drivers/vsphere-soap.js';
import type { SnapshotNode } from '../../drivers/vsphere-snapshots.js';
import type { VsphereDisk, VsphereVm } from '../../drivers/vsphere-vm.js';
import { PreflightError, SourceError } from '../errors.js';
import type { Cleanups } from '../host/cleanup.js';
import { checkFreeSpace, formatBytes } from '../host/disk-space.js';
import type { Bandwidth } from '../remote/options.js';
import { areasFrom, planCopy, totalBytes, unionAreas, type CopyPlan, type DiskArea } from './areas.js';
import { copyAreas, PrecopyWriteError, Throttle } from './copy-areas.js';
import type { WarmOptions } from './options.js';
import { allocatedBytes, PrecopyFile } from './precopy-file.js';
import { ChangeIdRefused, type SourceVm } from './source-vm.js';
import {
  identityMismatch,
  reconcileDisks,
  SNAPSHOT_PREFIX,
  snapshotName,
  writeState,
  type WarmDiskState,
  type WarmPass,
  type WarmState,
} from './state.js';

/** The backing of an ordinary virtual disk (thin or thick): the only one v2v copies warm. */
const FLAT_BACKING = 'VirtualDiskFlatVer2BackingInfo';

/** What a pass needs. */
export interface PassRun {
  vm: SourceVm;
  /** The pre-copy directory and the state file in it. */
  dir: string;
  stateFile: string;
  state: WarmState;
  /** Whether the state file exists yet (the first pass writes it before its snapshot). */
  stateWritten: boolean;
  precopyName: (key: number) => string;
  options: Pick<WarmOptions, 'enableCbt' | 'quiesce'>;
  bandwidth?: Bandwidth;
  cleanup: Cleanups;
  signal?: AbortSignal;
  /** The cut-over's pass, on the powered-off VM. */
  final: boolean;
  warn: (message: string) => void;
  /** Called as the pass goes (the caller throttles what it shows). */
  progress: (p: PassProgress) => void;
}

/** Where a pass is. */
export interface PassProgress {
  pass: number;
  step: 'snapshot' | 'query' | 'copy' | 'sync' | 'remove';
  /** 1-based disk being copied, of `disks`. */
  disk?: number;
  disks?: number;
  /** Bytes read so far of this pass, and the pass's total to read. */
  bytesRead: number;
  bytesTotal: number;
  bytesWritten: number;
}

/** The sentences of what makes a VM impossible to copy warm, or none. Pure. */
export function vmProblems(vm: VsphereVm, snapshots: readonly SnapshotNode[], stateId: string): string[] {
  const problems: string[] = [];
  const others = snapshots.filter((s) => s.name !== snapshotName(stateId));
  if (others.length > 0) {
    const names = others.map(
      (s) => `"${s.name}"${s.name.startsWith(SNAPSHOT_PREFIX) ? " (another v2v warm migration's, with another --precopy-dir)" : ''}`,
    );
    problems.push(
      `The VM "${vm.name}" has snapshots (${names.join(', ')}): a warm migration reads the base disks, which hold the VM's data only while v2v's own snapshot is the only one: delete them in the vSphere client (Snapshots → Manage: "Delete" consolidates), then run again; v2v never removes a snapshot it did not make.`,
    );
  }
  for (const d of vm.disks) {
    if (d.backingType !== FLAT_BACKING) {
      const rdm = /RawDiskMapping/.test(d.backingType);
      problems.push(
        `The disk ${d.fileName} of "${vm.name}" is ${rdm ? 'a raw device mapping (RDM)' : `backed by ${d.backingType || 'an unknown backing'}`}: ${rdm ? 'RDMs have no snapshots or change tracking' : 'only virtual disks have change tracking'}, so it cannot be copied warm: migrate the VM cold (without --warm) or make it a virtual disk (storage vMotion with a disk format change).`,
      );
    } else if (d.diskMode !== undefined && d.diskMode.startsWith('independent')) {
      problems.push(
        `The disk ${d.fileName} of "${vm.name}" is independent (${d.diskMode}): snapshots leave it out and it has no change tracking, so it cannot be copied warm: make it dependent in the VM's settings (Disk mode), or migrate the VM cold (without --warm).`,
      );
    } else if (d.hasParent && others.length === 0 && !snapshots.some((s) => s.name === snapshotName(stateId))) {
      problems.push(
        `The disk ${d.fileName} of "${vm.name}" is a snapshot delta although the VM lists no snapshot: it needs consolidation (vSphere client: Snapshots → Consolidate), then run again.`,
      );
    }
  }
  return problems;
}

/** Runs one pass; returns its record (also appended to the state, which is written). */
export async function runPass(run: PassRun): Promise<WarmPass> {
  const { vm, state } = run;
  const number = (state.passes.at(-1)?.number ?? 0) + 1;
  const started = new Date();
  const report = (p: Omit<PassProgress, 'pass'>): void => run.progress({ pass: number, ...p });
  let now = await vm.read();

  const mismatch = identityMismatch(state, identityOf(now.vm), run.stateFile);
  if (mismatch !== undefined) throw new PreflightError(mismatch);
  // A crash-left snapshot of this migration goes first; the VM is read again without it (its disks are no deltas then).
  if (await removeLeftovers(run, now.snapshots)) now = await vm.read();
  const problems = vmProblems(now.vm, now.snapshots, state.id);
  if (problems.length > 0) throw new PreflightError(problems.join(' '));
  if (run.final && now.vm.powerState !== 'poweredOff') {
    throw new SourceError(
      `The VM "${now.vm.name}" is ${now.vm.powerState} again: something powered it on during the cut-over; power it off, then run again.`,
    );
  }

  let cbtJustEnabled = false;
  if (!now.vm.changeTrackingEnabled) {
    if (!run.options.enableCbt) {
      throw new PreflightError(
        `Changed Block Tracking is off for the VM "${now.vm.name}", and a warm migration needs it to copy only what changed: turn it on (VM settings → Advanced → Configuration parameters: ctkEnabled = TRUE), or pass --enable-cbt to let v2v turn it on (it takes effect at the next snapshot, which v2v takes).`,
      );
    }
    await vm.enableCbt(run.signal);
    cbtJustEnabled = true;
    run.warn(
      `turned Changed Block Tracking on for "${now.vm.name}" (--enable-cbt): it takes effect after a snapshot is created and removed, which this pass does`,
    );
    now = await vm.read();
  }

  // Disks added, removed, resized or moved since the last pass: said, and copied in full.
  const reconciled = reconcileDisks(
    state,
    now.vm.disks.map((d) => ({ key: d.key, fileName: d.fileName, capacity: d.capacityBytes })),
    run.precopyName,
  );
  for (const note of reconciled.notes) run.warn(note);
  if (!run.stateWritten) {
    // Before the first snapshot: a run killed from here on leaves a snapshot the next run can tell as its own.
    await writeState(run.stateFile, state);
    run.stateWritten = true;
  }

  const name = snapshotName(state.id);
  report({ step: 'snapshot', bytesRead: 0, bytesTotal: 0, bytesWritten: 0 });
  let snapshot = await createTracked(run, name);
  try {
    let disks = await vm.snapshotDisks(snapshot.ref);
    if (disks.some((d) => d.changeId === undefined) && cbtJustEnabled) {
      // CBT starts at a stun/unstun (a snapshot's creation and removal): a second snapshot carries change ids.
      await snapshot.remove();
      snapshot = await createTracked(run, name);
      disks = await vm.snapshotDisks(snapshot.ref);
    }
    for (const d of disks) {
      if (d.changeId === undefined) {
        throw new PreflightError(
          `The disk ${d.fileName} of "${now.vm.name}" has no change id in v2v's snapshot: Changed Block Tracking is not active on it yet (it starts after a snapshot is created and removed, or a power cycle); run again, and if it persists turn it on for the disk (scsiX:Y.ctkEnabled = TRUE).`,
        );
      }
      if (d.hasParent) {
        throw new SourceError(
          `The snapshot of "${now.vm.name}" names the disk ${d.fileName} as a delta: another snapshot appeared meanwhile; delete it, then run again.`,
        );
      }
    }
    const byKey = new Map(reconciled.disks.map((d) => [d.key, d]));

    // What each disk copies.
    report({ step: 'query', bytesRead: 0, bytesTotal: 0, bytesWritten: 0 });
    const jobs: Array<{ disk: VsphereDisk; entry: WarmDiskState; plan: CopyPlan; areas: DiskArea[] }> = [];
    for (const disk of disks) {
      const entry = byKey.get(disk.key);
      if (entry === undefined)
        throw new SourceError(`The disk ${disk.fileName} (key ${disk.key}) appeared in the snapshot but not in the VM: run again.`);
      const partial = (await sizeOf(join(run.dir, entry.precopy))) === disk.capacityBytes ? entry.partial : undefined;
      let plan = planCopy(entry.changeId, disk.changeId!, reconciled.forced.get(disk.key), partial);
      let areas: DiskArea[];
      try {
        if (plan.kind === 'resume') {
          // Below upTo: what changed since the interrupted copy's snapshot (anywhere: it also wrote past upTo); from upTo on, everything.
          const changed = await vm.changedAreas(snapshot.ref, disk.key, disk.capacityBytes, plan.since);
          const rest = areasFrom(await vm.changedAreas(snapshot.ref, disk.key, disk.capacityBytes, '*'), plan.upTo);
          areas = unionAreas(changed, rest);
          run.warn(
            `resuming the full copy of the disk ${disk.fileName} from ${formatBytes(plan.upTo)}, where a stopped run left it (what changed below since is copied again)`,
          );
        } else {
          areas = await vm.changedAreas(snapshot.ref, disk.key, disk.capacityBytes, plan.kind === 'full' ? '*' : plan.since);
        }
      } catch (error) {
        if (!(error instanceof ChangeIdRefused)) throw error;
        plan = { kind: 'full', reason: 'cbt-reset' };
        areas = await vm.changedAreas(snapshot.ref, disk.key, disk.capacityBytes, '*');
      }
      if (plan.kind === 'full' && plan.reason === 'cbt-reset') {
        run.warn(
          `the change tracking of the disk ${disk.fileName} was reset since the last pass (its change id is not accepted any more): copying it in full`,
        );
      }
      jobs.push({ disk, entry, plan, areas });
    }
    // A disk copied in full is emptied first: the state must say durably, before, that it holds no complete copy.
    const restarted = jobs.filter((j) => j.plan.kind === 'full');
    for (const job of restarted) {
      delete job.entry.changeId;
      delete job.entry.partial;
    }
    if (restarted.length > 0 || reconciled.removed.length > 0) {
      state.disks = reconciled.disks;
      await writeState(run.stateFile, state);
      for (const gone of reconciled.removed) await rm(join(run.dir, gone.precopy), { force: true });
    }
    const bytesTotal = jobs.reduce((sum, j) => sum + totalBytes(j.areas), 0);
    await checkFreeSpace(
      run.dir,
      bytesTotal - (await reusable(run.dir, jobs)),
      'the pre-copy',
      'free some space there, or pass another --precopy-dir',
    );

    // The copy, disk after disk.
    const throttle = run.bandwidth ? new Throttle(run.bandwidth) : undefined;
    let bytesRead = 0;
    let bytesWritten = 0;
    for (const [index, job] of jobs.entries()) {
      const path = join(run.dir, job.entry.precopy);
      let file: PrecopyFile;
      try {
        file = await PrecopyFile.open(path, job.disk.capacityBytes, job.plan.kind === 'full');
      } catch (error) {
        throw new PreflightError(
          `Cannot open the pre-copy ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the pre-copy directory.`,
        );
      }
      const before = { read: bytesRead, written: bytesWritten };
      try {
        const reader = vm.reader(await vm.flatUrl(job.disk));
        const resumable = job.plan.kind === 'full' || job.plan.kind === 'resume';
        const done = await copyAreas(job.areas, reader, file, {
          ...(throttle ? { throttle } : {}),
          ...(run.signal ? { signal: run.signal } : {}),
          // A full copy records how far it got (durably), so a stopped run resumes it there.
          ...(resumable
            ? {
                onCheckpoint: async (upTo: number) => {
                  await file.sync();
                  job.entry.partial = { changeId: job.disk.changeId!, upTo };
                  await writeState(run.stateFile, state);
                },
              }
            : {}),
          onProgress: (p) =>
            report({
              step: 'copy',
              disk: index + 1,
              disks: jobs.length,
              bytesRead: before.read + p.bytesRead,
              bytesTotal,
              bytesWritten: before.written + p.bytesWritten,
            }),
        });
        bytesRead += done.bytesRead;
        bytesWritten += done.bytesWritten;
        if (job.areas.length > 0) report({ step: 'sync', disk: index + 1, disks: jobs.length, bytesRead, bytesTotal, bytesWritten });
        await file.sync();
      } catch (error) {
        if (error instanceof PrecopyWriteError) {
          throw new SourceError(
            `${error.message}: check the space and the storage of --precopy-dir ${run.dir}, then run again (the pass resumes from the last one completed).`,
          );
        }
        if (error instanceof SourceError || run.signal?.aborted) throw error;
        throw new SourceError(
          `Reading the disk ${job.disk.fileName} from ${vm.where} failed (${error instanceof Error ? error.message : String(error)}): check the server and the network, then run again (the pass resumes from the last one completed).`,
        );
      } finally {
        await file.close();
      }
    }

    // Complete: record the change ids (durably), then remove the snapshot.
    for (const job of jobs) {
      job.entry.changeId = job.disk.changeId!;
      delete job.entry.partial;
    }
    const finished = new Date();
    const pass: WarmPass = {
      number,
      started: started.toISOString(),
      finished: finished.toISOString(),
      seconds: (finished.getTime() - started.getTime()) / 1000,
      bytesChanged: bytesTotal,
      bytesRead,
      bytesWritten,
      full: jobs.filter((j) => j.plan.kind === 'full').map((j) => j.disk.key),
      final: run.final,
    };
    state.disks = reconciled.disks;
    state.passes.push(pass);
    await writeState(run.stateFile, state);
    report({ step: 'remove', bytesRead, bytesTotal, bytesWritten });
    await snapshot.remove();
    return pass;
  } catch (error) {
    // Removed now, while the session is open (the caller logs out next); a removal that fails too is said, and the next run removes it.
    await snapshot
      .remove()
      .catch((removal: unknown) =>
        run.warn(
          `could not remove the snapshot ${name} (${removal instanceof Error ? removal.message : String(removal)}): the next run of this migration removes it`,
        ),
      );
    throw error;
  }
}

/** The VM's identity as the state records it. */
export function identityOf(vm: VsphereVm): WarmState['vm'] {
  return {
    name: vm.name,
    moref: vm.ref.value,
    ...(vm.instanceUuid !== undefined ? { instanceUuid: vm.instanceUuid } : {}),
    ...(vm.uuid !== undefined ? { uuid: vm.uuid } : {}),
  };
}

/** Creates the pass's snapshot and registers its removal (every exit path) where it is made. */
async function createTracked(run: PassRun, name: string): Promise<{ ref: MoRef; remove: () => Promise<void> }> {
  const ref = await run.vm.createSnapshot(
    name,
    'v2v warm migration: pre-copy pass; v2v removes it when the pass ends',
    run.options.quiesce,
  );
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    unregister();
    await run.vm.removeSnapshot(ref, name);
  };
  const unregister = run.cleanup.always(`removing the snapshot ${name} of "${run.vm.options.vmName}"`, remove);
  return { ref, remove };
}

/** Removes the snapshots of this migration that a killed run left (by their exact name: never another); returns whether there were any. */
async function removeLeftovers(run: PassRun, snapshots: readonly SnapshotNode[]): Promise<boolean> {
  const ours = snapshots.filter((x) => x.name === snapshotName(run.state.id));
  for (const s of ours) {
    await run.vm.removeSnapshot(s.ref, s.name);
    run.warn(`removed the snapshot ${s.name} (${s.ref.value}) that a killed v2v run of this migration left on "${run.vm.options.vmName}"`);
  }
  return ours.length > 0;
}

/** Bytes the pre-copies of disks copied in full occupy now (freed by emptying them): subtracted from the space a pass needs. */
async function reusable(dir: string, jobs: ReadonlyArray<{ entry: WarmDiskState; plan: CopyPlan }>): Promise<number> {
  let bytes = 0;
  for (const job of jobs) {
    if (job.plan.kind === 'full') bytes += await allocatedBytes(join(dir, job.entry.precopy)).catch(() => 0);
  }
  return bytes;
}

/** A file's size, or undefined when it does not exist. */
async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    () => undefined,
  );
}
