/**
 * The interface every input module implements (one per `-i` mode; index.ts
 * picks one).
 */
import type { Cleanups } from '../host/cleanup.js';
import type { Source } from '../model.js';

/** A source of guest metadata and disks. */
export interface Input {
  /** Human description for progress output, e.g. "VMX file /x/guest.vmx". */
  describe: string;
  /** Reads and checks the source metadata. Throws SourceError on bad input. */
  load(run: InputRun): Promise<Source>;
}

/** What an input may use while loading: the run's temp dir, its cleanup stack and a list for warnings. */
export interface InputRun {
  /** Per-run temporary directory (removed at the end of the run). */
  tmpdir: string;
  /** Register cleanup of anything the input creates (extracted files, servers). */
  cleanup: Cleanups;
  /**
   * Where the input puts each warning as soon as it finds it, so that a load
   * that fails afterwards still has them reported (the source stage shows
   * them before the error); the loaded Source's `warnings` is this list.
   * Absent: the input starts a list of its own.
   */
  warnings?: string[];
  /** How many warnings about one file are shown before one "… and N more" line (src/input/file-warnings.ts); default 5. */
  warningsPerFile?: number;
}
