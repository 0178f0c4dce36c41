/**
 * A warm migration, as the pipeline's stages drive it
 * (docs/warm-migration.md):
 *
 *   precopy   passes while the VM runs, until the cut-over is due
 *   source    the VM's hardware from vSphere, its disks the local pre-copies
 *   overlay, preflight   as for any run (the VM still runs)
 *   cutover   guest shutdown, then a last pass on the powered-off VM
 *   inspect, convert, trim   on qcow2 overlays over the pre-copy
 *   copy      the overlay committed into the pre-copy, renamed into place
 *             (raw output on the same filesystem), else one local convert
 *
 * The pre-copy is only ever written by passes until the conversion has
 * succeeded: a failed cut-over leaves it in sync, and the next attempt
 * copies only what changed since.
 */
import { stat, access, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { PreflightError, SourceError } from '../errors.js';
import type { Cleanups } from '../host/cleanup.js';
import { formatBytes } from '../host/disk-space.js';
import type { VsphereOptions } from '../input/vsphere/options.js';
import { vsphereSource } from '../input/vsphere/source.js';
import type { Input } from '../input/types.js';
import { copiedPath } from '../output/reservation.js';
import type { Output } from '../output/types.js';
import type { TargetDisk } from '../model.js';
import { formatDuration, type WarmOptions } from './options.js';
import { identityOf, runPass, type PassProgress } from './pass.js';
import { SourceVm } from './source-vm.js';
import { newState, readState, stateFiles, takeLock, writeState, type WarmPass, type WarmState } from './state.js';
import { CutoverTrigger, describePass, waitForPass } from './trigger.js';
import { endpointName } from '../../drivers/vsphere.js';
import { vsphereEndpoint } from '../input/vsphere/inventory.js';

/** What a stage gives the migration to report with and clean up. */
export interface WarmStageRun {
  cleanup: Cleanups;
  signal?: AbortSignal;
  warn: (message: string) => void;
  /** A line for the stage's task output: something happened. */
  show: (line: string) => void;
  /** The countdown while waiting for the next pass (the stage shows it as often as its renderer allows). */
  waiting: (line: string) => void;
  /** Progress inside a pass. */
  progress: (p: PassProgress) => void;
  /** A pass completed. */
  passDone: (pass: WarmPass, line: string) => void;
  /** A step of the cut-over (events carry it: the bench measures the downtime from it). */
  cutoverStep?: (step: CutoverStep, line: string) => void;
}

/** The cut-over's steps. */
export type CutoverStep = 'shutdown-requested' | 'power-off-requested' | 'already-off' | 'powered-off' | 'final-pass-done';

/** How a target is written: by committing its overlay into the pre-copy (no second copy) or by a copy. */
export interface CommitPlan {
  /** The pre-copy file the overlay is committed into, then renamed to the target's copy name. */
  precopy: string;
}

/** Space the commit of one disk may need in the pre-copy's filesystem: what the conversion wrote into the overlay. */
export const COMMIT_SPACE_PER_DISK = 512 * 2 ** 20;

/** One warm migration of one VM. */
export class WarmMigration {
  readonly files: ReturnType<typeof stateFiles>;
  private state: WarmState | undefined;
  private stateWritten = false;
  private readonly trigger: CutoverTrigger;
  /** Passes completed by this run. */
  readonly passes: WarmPass[] = [];
  /** When v2v asked for the shutdown (or the power-off); undefined when the VM was off already. */
  shutdownRequested: Date | undefined;
  /** The VM was already powered off when the cut-over began. */
  wasOff = false;
  /** Some target was committed from the pre-copy. */
  committed = false;

  constructor(
    readonly vsphere: VsphereOptions,
    readonly options: WarmOptions,
  ) {
    this.files = stateFiles(options.precopyDir, vsphere.vmName);
    this.trigger = new CutoverTrigger(options.cutover);
  }

  /** The state (loaded by {@link precopy}). */
  get current(): WarmState {
    if (this.state === undefined) throw new Error('internal: warm state read before the precopy stage');
    return this.state;
  }

  /** Whether this run stops after its passes (--cutover never). */
  get precopyOnly(): boolean {
    return this.options.cutover.kind === 'never';
  }

  /**
   * The pre-copy passes: checks the directory, takes the lock, loads the
   * state, then runs passes until the cut-over is due (with --cutover never:
   * one pass, or one per interval until stopped).
   */
  async precopy(run: WarmStageRun): Promise<void> {
    await this.checkDirectory();
    const release = await takeLock(this.files.lock, this.vsphere.vmName);
    run.cleanup.always(`removing the lock ${this.files.lock}`, release);
    const onUsr1 = (): void => {
      this.trigger.fire('SIGUSR1 received');
      run.show(`SIGUSR1 received: ${this.precopyOnly ? 'stopping' : 'cutting over'} after this pass`);
    };
    process.on('SIGUSR1', onUsr1);
    run.cleanup.always('SIGUSR1 handler', () => void process.off('SIGUSR1', onUsr1));
    this.state = await readState(this.files.state);
    this.stateWritten = this.state !== undefined;
    if (this.state?.completed !== undefined) {
      throw new PreflightError(
        `The warm migration of "${this.vsphere.vmName}" in ${this.files.state} finished at ${this.state.completed}: to migrate the VM again, move that file away (the disks are then copied in full).`,
      );
    }
    if (this.state?.consumed) {
      run.warn(
        `the pre-copy in ${this.options.precopyDir} was committed into an output by a cut-over that did not finish: it is no longer a copy of the VM, so it is copied in full`,
      );
      for (const d of this.state.disks) delete d.changeId;
      delete this.state.consumed;
    }
    if (this.state !== undefined && this.state.passes.length > 0) {
      const last = this.state.passes.at(-1)!;
      run.show(`continuing from pass ${last.number} (finished ${last.finished})`);
    }
    for (;;) {
      await this.pass(run, false);
      // Due: the cut-over comes next (with --cutover never, SIGUSR1 ends the passes instead).
      if ((await this.trigger.due()) !== undefined || this.options.interval === undefined) return;
      const next = Date.now() + this.options.interval;
      const woke = await waitForPass(next, this.trigger, run.signal, (left) =>
        run.waiting(`next pass in ${formatDuration(Math.ceil(left / 1000) * 1000)}; cut-over ${this.trigger.describe(process.pid)}`),
      );
      if (woke === 'cutover' && this.precopyOnly) return;
      if (woke === 'cutover') run.show(`cut-over due (${await this.trigger.due()}): a last pass while the VM runs, then the shutdown`);
    }
  }

  private async checkDirectory(): Promise<void> {
    const dir = this.options.precopyDir;
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined || !info.isDirectory()) {
      throw new PreflightError(
        `The pre-copy directory ${dir} does not exist: create it (with room for the VM's disks) or pass another --precopy-dir.`,
      );
    }
    try {
      await access(dir, constants.W_OK);
    } catch {
      throw new PreflightError(`The pre-copy directory ${dir} is not writable: fix its permissions or pass another --precopy-dir.`);
    }
  }

  /** One pass with its own session (a session may expire between passes an hour apart). */
  private async pass(run: WarmStageRun, final: boolean): Promise<WarmPass> {
    const vm = await SourceVm.open(this.vsphere);
    const logout = run.cleanup.always(`logging out of ${vm.where}`, () => vm.logout());
    try {
      if (this.state === undefined) {
        const now = await vm.read();
        this.state = newState(identityOf(now.vm), endpointName(vsphereEndpoint(this.vsphere)));
      }
      const pass = await runPass({
        vm,
        dir: this.options.precopyDir,
        stateFile: this.files.state,
        state: this.state,
        stateWritten: this.stateWritten,
        precopyName: this.files.precopy,
        options: this.options,
        ...(this.vsphere.bandwidth ? { bandwidth: this.vsphere.bandwidth } : {}),
        cleanup: run.cleanup,
        ...(run.signal ? { signal: run.signal } : {}),
        final,
        warn: run.warn,
        progress: run.progress,
      });
      this.stateWritten = true;
      this.passes.push(pass);
      run.passDone(
        pass,
        `pass ${pass.number}${final ? ' (final, VM powered off)' : ''}: ${describePass(pass)}${pass.full.length > 0 ? `; copied in full: ${pass.full.length} disk(s)` : ''}`,
      );
      return pass;
    } finally {
      logout();
      await vm.logout().catch(() => undefined);
    }
  }

  /** The input of the cut-over: the VM's hardware from vSphere, each disk its local pre-copy (raw). */
  input(): Input {
    return {
      describe: `VM "${this.vsphere.vmName}" (warm: pre-copy in ${this.options.precopyDir})`,
      load: async (run) => {
        const vm = await SourceVm.open(this.vsphere);
        run.cleanup.always(`logging out of ${vm.where}`, () => vm.logout());
        const now = await vm.read();
        const source = vsphereSource(now.vm, run.warnings);
        const entries = new Map(this.current.disks.map((d) => [d.fileName, d]));
        for (const disk of source.disks) {
          const entry = entries.get(disk.path.trim());
          if (entry?.changeId === undefined) {
            throw new SourceError(
              `The disk ${disk.path} of "${now.vm.name}" has no complete pre-copy (it appeared after the last pass): run again, a pass copies it first.`,
            );
          }
          disk.path = join(this.options.precopyDir, entry.precopy);
          disk.format = 'raw';
        }
        await vm.logout();
        return source;
      },
    };
  }

  /**
   * The cut-over: the guest shut down (VMware Tools), or the VM powered off
   * when asked (--power-off-fallback); then the last pass on the powered-off
   * VM. The VM stays powered off.
   */
  async cutover(run: WarmStageRun): Promise<void> {
    const vm = await SourceVm.open(this.vsphere);
    const logout = run.cleanup.always(`logging out of ${vm.where}`, () => vm.logout());
    const name = `"${this.vsphere.vmName}"`;
    const step = (s: CutoverStep, line: string): void => {
      run.show(line);
      run.cutoverStep?.(s, line);
    };
    try {
      const now = await vm.read();
      const state = now.vm.powerState;
      if (state === 'suspended') {
        throw new SourceError(
          `The VM ${name} is suspended: resume it and let v2v shut it down, or power it off in vSphere, then run again.`,
        );
      }
      if (state === 'poweredOff') {
        this.wasOff = true;
        step('already-off', `the VM ${name} is powered off already: no shutdown needed`);
      } else if (now.toolsRunning) {
        await this.record(() => (this.shutdownRequested = new Date()));
        await vm.shutdownGuest();
        step(
          'shutdown-requested',
          `asked the guest of ${name} to shut down (VMware Tools); waiting up to ${formatDuration(this.options.shutdownTimeout)}`,
        );
        if (!(await vm.waitPoweredOff(this.options.shutdownTimeout, run.signal))) {
          if (!this.options.powerOffFallback) {
            throw new SourceError(
              `The guest of ${name} did not shut down within ${formatDuration(this.options.shutdownTimeout)} (the shutdown was asked at ${this.shutdownRequested?.toISOString()}): check the guest, then run again; --shutdown-timeout gives it longer, --power-off-fallback powers the VM off instead. The pre-copy is kept.`,
            );
          }
          run.warn(
            `the guest of ${name} did not shut down within ${formatDuration(this.options.shutdownTimeout)}: powering the VM off (--power-off-fallback)`,
          );
          step('power-off-requested', `powering ${name} off`);
          await vm.powerOff(run.signal);
        }
      } else {
        if (!this.options.powerOffFallback) {
          throw new SourceError(
            `VMware Tools are not running in ${name}, so v2v cannot shut the guest down cleanly: start them, or shut the guest down yourself and run again, or pass --power-off-fallback to power the VM off (as pulling the plug). The pre-copy is kept.`,
          );
        }
        await this.record(() => (this.shutdownRequested = new Date()));
        run.warn(`VMware Tools are not running in ${name}: powering the VM off (--power-off-fallback)`);
        step('power-off-requested', `powering ${name} off`);
        await vm.powerOff(run.signal);
      }
      if (!this.wasOff) step('powered-off', `${name} is powered off`);
    } finally {
      logout();
      await vm.logout().catch(() => undefined);
    }
    const pass = await this.pass(run, true);
    step('final-pass-done', `final pass done: ${describePass(pass)}`);
  }

  private async record(change: () => void): Promise<void> {
    change();
    const state = this.current;
    if (this.shutdownRequested) state.shutdownRequested = this.shutdownRequested.toISOString();
    await writeState(this.files.state, state);
  }

  /**
   * Decides how each target is written: committed from the pre-copy when the
   * output can take a file in place of its copy (directory outputs), raw,
   * sparse, uncompressed, on the pre-copy's filesystem; else copied. Returns
   * the space the commits need (counted instead of their measure).
   */
  async planCommits(
    targets: TargetDisk[],
    output: Output,
    settings: { allocation: 'sparse' | 'preallocated'; compressed?: boolean },
    precopyOf: (target: TargetDisk) => string | undefined,
  ): Promise<Map<TargetDisk, CommitPlan>> {
    const plans = new Map<TargetDisk, CommitPlan>();
    if (output.adoptDisk === undefined || settings.allocation !== 'sparse' || settings.compressed) return plans;
    for (const target of targets) {
      const precopy = precopyOf(target);
      if (precopy === undefined || target.format !== 'raw' || target.existing) continue;
      const [a, b] = await Promise.all([stat(precopy), stat(dirname(copiedPath(target)))]).catch(() => [undefined, undefined]);
      if (a !== undefined && b !== undefined && a.dev === b.dev) plans.set(target, { precopy });
    }
    return plans;
  }

  /** Before the first commit: the state says the pre-copy is being consumed (a crash from here on means a full copy). */
  async beforeCommit(): Promise<void> {
    if (this.current.consumed) return;
    this.current.consumed = true;
    this.committed = true;
    await writeState(this.files.state, this.current);
  }

  /**
   * After the output is written: the migration is recorded as completed and
   * the pre-copies not committed are removed; with -o null (a dry run) the
   * pre-copy and its state are kept instead. Returns the summary lines;
   * never throws (a problem is a warning: the output is there).
   */
  async complete(keep: boolean, warn: (message: string) => void): Promise<string[]> {
    const lines: string[] = [];
    const state = this.current;
    const off = this.wasOff
      ? `The source VM "${this.vsphere.vmName}" was already powered off and stays so`
      : `The source VM "${this.vsphere.vmName}" is powered off (v2v ${state.shutdownRequested ? `asked for it at ${state.shutdownRequested}` : 'shut it down'}) and stays so`;
    lines.push(`${off}: do not power it on while the converted guest runs.`);
    try {
      if (keep) {
        lines.push(
          `The pre-copy and its state are kept in ${this.options.precopyDir} (-o null): a run with another output copies only what changes.`,
        );
        return lines;
      }
      let freed = 0;
      for (const d of state.disks) {
        const path = join(this.options.precopyDir, d.precopy);
        const size = await stat(path).then(
          (s) => s.blocks * 512,
          () => undefined,
        );
        if (size === undefined) continue; // committed: it is the output now
        await rm(path, { force: true });
        freed += size;
      }
      state.completed = new Date().toISOString();
      delete state.consumed;
      await writeState(this.files.state, state);
      lines.push(
        this.committed
          ? `The pre-copy became the output disk(s) (no second copy); ${this.files.state} records the migration.`
          : `The pre-copy was removed (${formatBytes(freed)} freed); ${this.files.state} records the migration.`,
      );
    } catch (error) {
      warn(`could not tidy the pre-copy directory ${this.options.precopyDir}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return lines;
  }

  /** What a failed or interrupted run leaves, for the user: the pre-copy and the VM's power state. */
  failureNotes(): string[] {
    const notes: string[] = [];
    const state = this.state;
    if (state === undefined) return notes;
    if (this.shutdownRequested !== undefined || this.wasOff) {
      notes.push(
        `the source VM "${this.vsphere.vmName}" ${this.wasOff ? 'was powered off before this run and' : 'was shut down for the cut-over and'} stays powered off: power it on in vSphere to resume its service, or run the same command again to retry the cut-over`,
      );
    }
    const last = state.passes.at(-1);
    if (state.consumed) {
      notes.push(
        `the pre-copy in ${this.options.precopyDir} was committed into the output before the failure: the next run copies the disks in full`,
      );
    } else if (last !== undefined) {
      notes.push(
        `the pre-copy in ${this.options.precopyDir} is kept, in sync with pass ${last.number}: the same command continues from there and copies only what changed since`,
      );
    }
    return notes;
  }

  /** The summary of a run that only pre-copied (--cutover never). */
  precopySummary(): string[] {
    const state = this.current;
    const total = state.passes.length;
    return [
      `Pre-copied "${this.vsphere.vmName}" into ${this.options.precopyDir}: ${this.passes.length} pass(es) this run, ${total} in all; the VM keeps running.`,
      `Next: run the same command with --cutover now (or TIME, or file:PATH) to shut the guest down, copy what changed since and convert it.`,
    ];
  }
}
