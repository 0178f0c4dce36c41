/**
 * Output modules: one per `-o` mode behind one interface, chosen in
 * {@link selectOutput}. Each checks its target in preflight, before any slow
 * work, and writes its metadata after the copy.
 */
import { PreflightError } from '../errors.js';
import { isValidGuestName, type OutputOptions } from '../cli/options.js';
import type { GuestCaps, Inspection, NicNetworkReport, Source, TargetDisk } from '../model.js';
import type { Overlay } from '../run/context.js';
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
  /** What conversion found and did for the guest's network, per NIC (ctx.network); absent: not known. */
  network?: NicNetworkReport[];
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
   * writable, no name collisions, enough free space for `bytesNeeded`; then
   * reserves every name it will write (created empty and exclusively, see
   * reservation.ts), so a run racing for the same names fails here.
   * Throws PreflightError with the fix.
   */
  preflight(name: string, targets: TargetDisk[], bytesNeeded: number): Promise<void>;
  /**
   * Removes what this run reserved or wrote in the target, and only that
   * (files still the very ones this run created); run when the run fails or
   * is interrupted after preflight began.
   */
  discard?(): Promise<void>;
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
    throw new PreflightError(`The source's name gives the guest name ${shown}, which is not valid (at most 100 letters, digits, '.', '_', '+' or '-', starting with a letter or digit): choose one with "-on NAME".`);
  }
  return name;
}
