/**
 * Cleanup registered where each resource is created (temp dir, overlay,
 * appliance, partial target), run in reverse order at the end: `always`
 * entries on every exit, `onFailure` entries only when the run failed or was
 * interrupted (so a finished target is kept, a half-written one is not).
 */

/** One registered cleanup action. */
interface Entry {
  label: string;
  whenFailed: boolean;
  fn: () => Promise<void> | void;
}

/** A LIFO stack of cleanup actions. */
export class Cleanups {
  private entries: Entry[] = [];

  /** Registers an action run at the end whatever happens; returns a function that unregisters it. */
  always(label: string, fn: Entry['fn']): () => void {
    return this.push({ label, whenFailed: false, fn });
  }

  /** Registers an action run only if the run fails; returns a function that unregisters it. */
  onFailure(label: string, fn: Entry['fn']): () => void {
    return this.push({ label, whenFailed: true, fn });
  }

  private push(entry: Entry): () => void {
    this.entries.push(entry);
    return () => {
      this.entries = this.entries.filter((e) => e !== entry);
    };
  }

  /**
   * Runs the actions that apply, newest first. Never throws: a failing action
   * is reported and the rest still run. Returns the failures as messages.
   */
  async run(failed: boolean): Promise<string[]> {
    const errors: string[] = [];
    const entries = this.entries.reverse();
    this.entries = [];
    for (const entry of entries) {
      if (entry.whenFailed && !failed) continue;
      try {
        await entry.fn();
      } catch (error) {
        errors.push(`${entry.label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return errors;
  }
}
