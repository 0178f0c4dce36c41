/**
 * The interface every output module implements (one per `-o` mode; index.ts
 * picks one): plan the disks, check and reserve the target before anything
 * slow runs, write the metadata after the copy, undo on failure.
 */
import type { GuestCaps, Inspection, NicNetworkReport, Overlay, Source, TargetDisk } from '../model.js';
import type { VerifyReport } from '../verify/report.js';

/** What an output needs to write its metadata. */
export interface FinishInput {
  name: string;
  source: Source;
  inspection: Inspection;
  caps: GuestCaps;
  targets: TargetDisk[];
  /** What conversion found and did for the guest's network, per NIC (ctx.network); absent: not known. */
  network?: NicNetworkReport[];
  /** What --verify found, when it ran (-o json records it). */
  verification?: VerifyReport;
  /** Reports what the target cannot express of the source (a warning of the run). */
  warn?: (message: string) => void;
}

/** A conversion target. */
export interface Output {
  /** Human description, e.g. "local directory /var/tmp/out". */
  describe: string;
  /**
   * Checks what this target cannot take of the source (its name, its NICs),
   * before anything slow runs; returns warnings, throws PreflightError with the fix.
   */
  checkSource?(name: string, source: Source): string[];
  /** Resolves what planDisks needs (e.g. a pool's directory); throws PreflightError. */
  prepare?(): Promise<void>;
  /** Decides where each overlay will be copied to. */
  planDisks(name: string, overlays: Overlay[]): TargetDisk[];
  /**
   * Checks the target before anything slow runs: storage reachable and
   * writable, no name collisions, enough free space for `bytesNeeded`; then
   * reserves every name it will write (created empty and exclusively, see
   * reservation.ts), so a run racing for the same names fails here; what a
   * killed run left under those names is removed first, and `notify` told.
   * Throws PreflightError with the fix.
   */
  preflight(name: string, targets: TargetDisk[], bytesNeeded: number, notify?: (message: string) => void): Promise<void>;
  /**
   * Removes what this run reserved or wrote in the target, and only that
   * (files still the very ones this run created); run when the run fails or
   * is interrupted after preflight began.
   */
  discard?(): Promise<void>;
  /**
   * Takes `file`, a complete disk on the target's filesystem (a warm
   * migration's pre-copy with the conversion committed into it), as the copy
   * of `target` instead of writing one: it is renamed over the copy name this
   * run reserved, and from then on is this run's own like a copy. Absent: the
   * output only takes copies (the null sink).
   */
  adoptDisk?(target: TargetDisk, file: string): Promise<void>;
  /** Writes the target metadata after the copy; returns what it wrote. */
  finish(input: FinishInput): Promise<string[]>;
  /**
   * Undoes what finish may have done when the run fails or is interrupted in
   * or after it (e.g. a domain libvirtd defined although virsh was killed).
   * Preflight proved nothing of that name existed, so only this run's work goes.
   */
  rollback?(name: string): Promise<void>;
}
