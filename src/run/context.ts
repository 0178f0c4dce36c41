/**
 * The typed context passed through the pipeline. Each stage writes only its
 * own fields and reads what earlier stages produced.
 */
import type { Cleanups } from '../host/cleanup.js';
import type { Guestfs } from '../../drivers/guestfish.js';
import type { Options } from '../cli/options.js';
import type { GuestCaps, Inspection, NicNetworkReport, Source, SourceDisk, TargetDisk } from '../model.js';
import type { Input } from '../input/index.js';
import type { Output } from '../output/index.js';
import type { VirtioWinLocation } from '../convert/windows/virtio-win-location.js';
import type { VerifyReport } from '../verify/report.js';

/** A qcow2 overlay over one source disk: all writes land here, never in the source. */
export interface Overlay {
  disk: SourceDisk;
  /** Absolute path of the overlay file. */
  path: string;
  /** Format of the source disk (backing file). */
  backingFormat: string;
  virtualSize: number;
}

/** Which accelerator qemu and libguestfs use. */
export interface Accelerator {
  tcg: boolean;
  /** Why: shown to the user when falling back to TCG. */
  reason: string;
}

/** The pipeline context. */
export interface Context {
  options: Options;
  cleanup: Cleanups;
  /** Warnings collected for the final summary. */
  warnings: string[];
  input: Input;
  output: Output;
  /** Per-run temporary directory (overlays, sockets). Set by the source stage. */
  tmpdir?: string;
  /** Set by the source stage. */
  source?: Source;
  /** Set by the overlay stage. */
  overlays?: Overlay[];
  /** Set by preflight. */
  accel?: Accelerator;
  /** Set by preflight: the disks that the copy stage will write. */
  targets?: TargetDisk[];
  /** Set by preflight: where virtio-win drivers for a Windows guest come from; absent: none found. */
  virtioWin?: VirtioWinLocation;
  /** Set by preflight: final guest name. */
  name?: string;
  /** The running appliance: opened by inspect, closed by trim. */
  guestfs?: Guestfs;
  /** Set by inspect. */
  inspection?: Inspection;
  /** Set by convert. */
  caps?: GuestCaps;
  /** Set by convert: the converter's messages, what it changed in the guest, for the final summary. */
  changes?: string[];
  /** Set by convert: what was found and done per source NIC to keep the guest's network (see NicNetworkReport). */
  network?: NicNetworkReport[];
  /** Set by verify (--verify): what the checksum and boot checks found. */
  verification?: VerifyReport;
  /** Set by output: files and objects written. */
  written?: string[];
}

/** Returns a context field that an earlier stage must have set; a missing one is a bug. */
export function need<K extends keyof Context>(ctx: Context, key: K): NonNullable<Context[K]> {
  const value = ctx[key];
  if (value === undefined || value === null) throw new Error(`internal error: ${String(key)} not set by an earlier stage`);
  return value as NonNullable<Context[K]>;
}
