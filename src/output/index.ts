/**
 * Output modules: one per `-o` mode behind one interface, chosen in
 * {@link selectOutput}. Each checks its target in preflight, before any slow
 * work, and writes its metadata after the copy.
 */
import type { OutputOptions } from '../options.js';
import type { GuestCaps, Inspection, Source, TargetDisk } from '../model.js';
import type { Overlay } from '../context.js';
import type { VerifyReport } from '../verify/report.js';
import { jsonOutput } from './json.js';
import { libvirtOutput } from './libvirt.js';
import { localOutput } from './local.js';
import { nullOutput } from './null.js';
import { qemuOutput } from './qemu.js';

/** What an output needs to write its metadata. */
export interface FinishInput {
  name: string;
  source: Source;
  inspection: Inspection;
  caps: GuestCaps;
  targets: TargetDisk[];
  /** What --verify found, when it ran (-o json records it). */
  verification?: VerifyReport;
}

/** A conversion target. */
export interface Output {
  /** Human description, e.g. "local directory /var/tmp/out". */
  describe: string;
  /** Resolves what planDisks needs (e.g. a pool's directory); throws PreflightError. */
  prepare?(): Promise<void>;
  /** Decides where each overlay will be copied to. */
  planDisks(name: string, overlays: Overlay[]): TargetDisk[];
  /**
   * Checks the target before anything slow runs: storage reachable and
   * writable, no name collisions, enough free space for `bytesNeeded`.
   * Throws PreflightError with the fix.
   */
  preflight(name: string, targets: TargetDisk[], bytesNeeded: number): Promise<void>;
  /** Writes the target metadata after the copy; returns what it wrote. */
  finish(input: FinishInput): Promise<string[]>;
  /**
   * Undoes what finish may have done when the run fails or is interrupted in
   * or after it (e.g. a domain libvirtd defined although virsh was killed).
   * Preflight proved nothing of that name existed, so only this run's work goes.
   */
  rollback?(name: string): Promise<void>;
}

/** Picks the output module for the options. */
export function selectOutput(options: OutputOptions): Output {
  switch (options.mode) {
    case 'local':
      return localOutput(options);
    case 'libvirt':
      return libvirtOutput({
        uri: options.connection ?? 'qemu:///system',
        pool: options.storage,
        format: options.format,
        allocation: options.allocation,
        networkMapping: options.networkMapping,
      });
    case 'qemu':
      return qemuOutput(options);
    case 'json':
      return jsonOutput(options);
    case 'null':
      return nullOutput();
  }
}

/** Linux-style drive suffix for a disk index: 0 → a, 25 → z, 26 → aa. */
export function driveLetters(index: number): string {
  let n = index;
  let letters = '';
  do {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return letters;
}
