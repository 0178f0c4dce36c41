/**
 * The run's watchdog: what stops a run's processes and removes its temp dirs
 * when v2v itself dies without cleaning up (SIGKILL, the OOM killer).
 *
 * A parent-death signal (exec.ts) reaches only v2v's direct children. The
 * guestfish server is no child of v2v (`guestfish --listen` forks it and
 * exits; prctl(2): PR_SET_PDEATHSIG is cleared on fork), and the appliance's
 * qemu is the server's child: both would run on, ~480 MiB, with nothing to
 * stop them. So each run starts one small process, in a session of its own
 * (a terminal's Ctrl-C or hangup does not reach it), holding the read end of
 * a pipe whose only write end is v2v's (Node opens it close-on-exec: no child
 * inherits it). While v2v lives, the watchdog is a `sh` blocked in `read`.
 * When v2v ends normally, it writes `done` first and the shell exits. When
 * v2v dies, the kernel closes the pipe, `read` sees end-of-file, and the
 * shell execs node on watchdog-main.js, which stops every process carrying
 * the run's id (reaper.ts) and removes the run's marked temp dirs and
 * libguestfs socket dirs.
 *
 * With no watchdog (it was killed too, or a power cut), the next run's
 * reapDeadRuns still does the same (docs/safety.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RUN_ID_ENV } from './reaper.js';

/** What v2v writes to the watchdog when it ends normally (its cleanup done): the watchdog exits without doing anything. */
export const WATCHDOG_DONE = 'done';

/**
 * The watchdog's shell: waits for a line or end-of-file on stdin; anything but
 * `done` runs the cleanup command given as its arguments. Pure data.
 */
export const WATCHDOG_SCRIPT = `read -r line; [ "$line" = ${WATCHDOG_DONE} ] && exit 0; exec "$@"`;

/** The cleanup program the watchdog runs (compiled next to this file). */
export function watchdogMain(): string {
  return fileURLToPath(new URL('./watchdog-main.js', import.meta.url));
}

/** The watchdog's argv: `sh -c SCRIPT v2v-watchdog NODE MAIN RUNID PARENT`. Pure. */
export function watchdogArgs(node: string, main: string, runId: string, parent: string): string[] {
  return ['-c', WATCHDOG_SCRIPT, 'v2v-watchdog', node, main, runId, parent];
}

/** A started watchdog. */
export interface Watchdog {
  pid: number | undefined;
  /** Tells the watchdog the run cleaned up after itself, and waits (at most 2 s) for it to exit. */
  release(): Promise<void>;
}

/**
 * Starts the watchdog of run `runId`, whose temp dirs are in `parent`. It gets
 * the environment without the run id, so it is never one of the processes it
 * stops.
 */
export function startWatchdog(runId: string, parent: string, main: string = watchdogMain()): Watchdog {
  const env = { ...process.env };
  delete env[RUN_ID_ENV];
  const child: ChildProcess = spawn('/bin/sh', watchdogArgs(process.execPath, main, runId, parent), {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env,
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  // A watchdog that is gone already must not take v2v down with EPIPE.
  child.stdin?.on('error', () => undefined);
  // Neither keeps v2v's event loop alive: v2v may exit at any time, and then the pipe closes.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let released: Promise<void> | undefined;
  return {
    pid: child.pid,
    release() {
      released ??= (async () => {
        // Held (ref'd) while waiting: with nothing else left, Node would otherwise end with an unsettled await (exit 13).
        child.ref();
        child.stdin?.end(`${WATCHDOG_DONE}\n`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
        clearTimeout(timer);
      })();
      return released;
    },
  };
}
