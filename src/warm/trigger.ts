/**
 * When to cut over (`--cutover`): at a time, when a file appears, or when
 * the running v2v gets SIGUSR1 (any mode but `never`); and the wait between
 * two pre-copy passes, which ends early when the cut-over is due.
 */
import { access } from 'node:fs/promises';
import { formatBytes } from '../host/disk-space.js';
import type { CutoverWhen } from './options.js';

/** How often a time or file trigger is checked while waiting. */
const POLL_MS = 1000;

/** Whether the cut-over is due; SIGUSR1 makes it due at once. */
export class CutoverTrigger {
  private firedBy: string | undefined;

  constructor(private readonly when: CutoverWhen) {}

  /** Makes the cut-over due (SIGUSR1). */
  fire(reason: string): void {
    this.firedBy ??= reason;
  }

  /** Why the cut-over is due now, or undefined. */
  async due(now = Date.now()): Promise<string | undefined> {
    if (this.firedBy !== undefined) return this.firedBy;
    switch (this.when.kind) {
      case 'now':
        return 'asked for now';
      case 'never':
        return undefined;
      case 'time':
        if (now >= this.when.at) this.firedBy = `it is ${new Date(this.when.at).toLocaleString()}`;
        return this.firedBy;
      case 'file':
        if (
          await access(this.when.path).then(
            () => true,
            () => false,
          )
        )
          this.firedBy = `${this.when.path} exists`;
        return this.firedBy;
    }
  }

  /** What the user can do to cut over, for the waiting line. */
  describe(pid: number): string {
    const usr1 = `or "kill -USR1 ${pid}"`;
    switch (this.when.kind) {
      case 'now':
        return 'now';
      case 'never':
        return `not in this run (--cutover never; "kill -USR1 ${pid}" ends the passes)`;
      case 'time':
        return `at ${new Date(this.when.at).toLocaleString()} ${usr1}`;
      case 'file':
        return `when ${this.when.path} exists ${usr1}`;
    }
  }
}

/**
 * Waits until `until` (ms since the epoch) or until the cut-over is due,
 * whichever is first; `onTick` is called every second with the ms left.
 * Returns 'cutover' or 'pass'. Rejects with the signal's reason when aborted.
 */
export async function waitForPass(
  until: number,
  trigger: CutoverTrigger,
  signal?: AbortSignal,
  onTick?: (leftMs: number) => void,
): Promise<'cutover' | 'pass'> {
  for (;;) {
    if ((await trigger.due()) !== undefined) return 'cutover';
    const left = until - Date.now();
    if (left <= 0) return 'pass';
    onTick?.(left);
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const timer = setTimeout(
        () => {
          done();
          resolve();
        },
        Math.min(POLL_MS, left),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** "1.2 GiB changed, 1.2 GiB read, 1.0 GiB written in 12.3 s (99.9 MiB/s)": one pass in a line. Pure. */
export function describePass(p: { bytesChanged: number; bytesRead: number; bytesWritten: number; seconds: number }): string {
  const rate = p.seconds > 0 ? p.bytesRead / p.seconds : 0;
  return `${formatBytes(p.bytesChanged)} changed, ${formatBytes(p.bytesRead)} read, ${formatBytes(p.bytesWritten)} written in ${p.seconds.toFixed(1)} s (${formatBytes(rate)}/s)`;
}
