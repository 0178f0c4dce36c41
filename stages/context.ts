/**
 * The typed context passed through the pipeline (src/run/pipeline.ts makes
 * it): the run's options, assembled from each module's own option type, and
 * one field per stage result. Each stage writes only its own fields and
 * reads what earlier stages produced.
 */
import type { Guestfs } from '../drivers/guestfish.js';
import type { Cleanups } from '../src/host/cleanup.js';
import type { GuestCaps, Inspection, NicNetworkReport, Overlay, Source, TargetDisk } from '../src/model.js';
import type { InputOptions } from '../src/input/options.js';
import type { Input } from '../src/input/types.js';
import type { OutputOptions } from '../src/output/options.js';
import type { Output } from '../src/output/types.js';
import type { RootChoice } from '../src/convert/root/option.js';
import type { VirtioWinLocation } from '../src/convert/windows/virtio-win-location.js';
import type { MachineReadableTarget } from '../src/progress/events.js';
import type { LogFileChoice } from '../src/progress/run-log.js';
import type { VerifyChoice } from '../src/verify/choice.js';
import type { VerifyReport } from '../src/verify/report.js';
import type { WarmOptions } from '../src/warm/options.js';
import type { CommitPlan, WarmMigration } from '../src/warm/migration.js';

/** Everything a run needs, normalized. */
export interface Options {
  input: InputOptions;
  output: OutputOptions;
  /** Print the parsed source and stop (--print-source). */
  printSource: boolean;
  verbose: boolean;
  trace: boolean;
  quiet: boolean;
  /** Where JSON-lines progress events go (--machine-readable); absent: none. */
  machineReadable?: MachineReadableTarget;
  /** Which root of a multi-boot guest to convert (--root); absent: refuse multi-boot. */
  root?: RootChoice;
  /** virtio-win drivers for Windows guests (--virtio-win): a directory or an ISO; checked in preflight. */
  virtioWin?: string;
  /** Warnings of the command line itself (virt-v2v flags accepted and ignored), shown when the run starts. */
  warnings?: string[];
  /** Checks after the copy (--verify; default: none). */
  verify: VerifyChoice;
  /** The per-run log file (--log-file PATH, --no-log-file; default: next to the output, src/progress/run-log.ts). */
  logFile: LogFileChoice;
  /** A warm migration of a vSphere VM (--warm and its options: src/warm/options.ts); absent: a cold conversion. */
  warm?: WarmOptions;
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
  /** A warm migration (made by the pipeline when options.warm is set): the precopy and cutover stages drive it, the source stage loads its input. */
  warm?: WarmMigration;
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
  /** Set by preflight (warm migration): the targets written by committing their overlay into the pre-copy instead of a copy. */
  commits?: Map<TargetDisk, CommitPlan>;
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
  /** Set at the end of a warm migration: what became of the source VM and the pre-copy, for the summary. */
  warmSummary?: string[];
}

/** Returns a context field that an earlier stage must have set; a missing one is a bug. */
export function need<K extends keyof Context>(ctx: Context, key: K): NonNullable<Context[K]> {
  const value = ctx[key];
  if (value === undefined || value === null) throw new Error(`internal error: ${String(key)} not set by an earlier stage`);
  return value;
}
