/**
 * Starts the built v2v CLI as a child that a test can watch and signal while
 * it runs: wait for a line, send SIGINT, then check what it left behind.
 * Every run gets its own TMPDIR and a marker in its environment, so the
 * checks see only this run's files and processes even when other
 * conversions run on the machine at the same time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './v2v.js';

/** The environment variable tests use to find a run's processes. */
export const MARK_ENV = 'V2V_TEST_MARK';

/** A running v2v. */
export interface LiveRun {
  child: ChildProcess;
  pid: number;
  mark: string;
  /** The run's private TMPDIR (overlays land in TMPDIR/v2v-*). */
  tmp: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when `pattern` appears in stdout or stderr; rejects on exit or after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<void>;
  /** Resolves to the exit code when the process has exited. */
  exited: Promise<number>;
}

/** Starts `node bin/v2v.js ARGS` with stdout/stderr piped. */
export async function startV2v(args: string[], env: Record<string, string> = {}): Promise<LiveRun> {
  const mark = randomBytes(8).toString('hex');
  const tmp = await mkdtemp(join('/var/tmp', 'v2v-test-tmp-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/v2v.js'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // libguestfs keeps its appliance cache in TMPDIR unless told otherwise: share the usual one.
    env: { ...cleanEnv(), TMPDIR: tmp, LIBGUESTFS_CACHEDIR: '/var/tmp', [MARK_ENV]: mark, ...env },
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString('utf8');
    for (const w of waiters) w();
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : -1))));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of waiters) w();
  });
  const waitFor = (pattern: RegExp, timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`),
        );
      }, timeoutMs);
      const check = (): void => {
        if (pattern.test(out) || pattern.test(err)) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        } else if (done) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`v2v exited before ${pattern}\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { child, pid: child.pid ?? -1, mark, tmp, stdout: () => out, stderr: () => err, waitFor, exited };
}

/** Processes (pid and command line) carrying this run's marker: v2v itself and everything it started. */
export async function markedProcesses(mark: string): Promise<Array<{ pid: number; cmd: string }>> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (!environ.split('\0').includes(`${MARK_ENV}=${mark}`)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'latin1').catch(() => '');
    const stat = await readFile(`/proc/${entry}/stat`, 'latin1').catch(() => '');
    if (/\) Z /.test(stat)) continue; // a zombie is already dead
    found.push({ pid: Number(entry), cmd: cmd.split('\0').join(' ').trim() });
  }
  return found;
}

/**
 * The processes still carrying `mark` after waiting at most `withinMs` for
 * them to end: a SIGKILLed v2v's watchdog outlives it by the time its
 * cleanup takes (docs/safety.md), so "nothing left" is checked after that.
 */
export async function markedProcessesAfter(mark: string, withinMs: number): Promise<Array<{ pid: number; cmd: string }>> {
  const deadline = Date.now() + withinMs;
  let left = await markedProcesses(mark);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = await markedProcesses(mark);
  }
  return left;
}

/** The test's environment without what would change v2v's rendering (colour forcing, CI). */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !['FORCE_COLOR', 'NO_COLOR', 'CI', 'V2V_TEST_PAUSE_AT'].includes(key)) env[key] = value;
  }
  return env;
}
