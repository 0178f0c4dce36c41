/**
 * The per-run log file: everything the piped line renderer prints, plus the
 * trace (every command and what it printed), whatever -v/-x say. Written as
 * the run goes (appended line by line, so `tail -f` works and a crash leaves
 * what happened so far); lines written before the file's path is known (the
 * guest's name names it) are kept and flushed when it is opened. A log never
 * fails a conversion: a file that cannot be written is one warning, and the
 * run goes on without it.
 */
import { closeSync, constants, lstatSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { redactUrl } from '../text/redact.js';
import { safeText } from '../text/safe-text.js';
import { isDirectoryOutput, type OutputOptions } from '../output/options.js';

/** Environment variable overriding the log directory of -o libvirt and -o null (tests, and users who want the logs elsewhere). */
export const LOG_DIR_ENV = 'V2V_LOG_DIR';

/** Where the log goes: the default place, --log-file PATH, or nowhere (--no-log-file). */
export type LogFileChoice = { kind: 'default' } | { kind: 'file'; path: string } | { kind: 'none' };

/** `NAME-v2v-YYYYMMDD-HHMMSS.log` in host local time, with `-N` before `.log` for the Nth file of the same second. */
export function logFileName(name: string, started: Date, attempt = 1): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${started.getFullYear()}${p(started.getMonth() + 1)}${p(started.getDate())}-${p(started.getHours())}${p(started.getMinutes())}${p(started.getSeconds())}`;
  return `${name}-v2v-${stamp}${attempt > 1 ? `-${attempt}` : ''}.log`;
}

/**
 * The directory of the default log: the output directory for outputs that
 * are directories (-o local, qemu, json, kubevirt); for -o libvirt (a pool directory
 * would list the log as a volume) and -o null, $V2V_LOG_DIR, else
 * /var/log/v2v for root, else $XDG_STATE_HOME/v2v or ~/.local/state/v2v.
 */
export function defaultLogDirectory(
  output: Pick<OutputOptions, 'mode' | 'storage'>,
  env: NodeJS.ProcessEnv,
  uid: number,
  home = homedir(),
): { dir: string; create: boolean } {
  if (isDirectoryOutput(output.mode)) return { dir: output.storage, create: false };
  const override = env[LOG_DIR_ENV];
  if (override) return { dir: resolve(override), create: true };
  if (uid === 0) return { dir: '/var/log/v2v', create: true };
  const state = env['XDG_STATE_HOME'];
  return { dir: join(state ? resolve(state) : join(home, '.local', 'state'), 'v2v'), create: true };
}

/**
 * The name of a log written before the guest's name is known (the source
 * could not be read): -on, else the source file's name without extension.
 */
export function fallbackLogName(outputName: string | undefined, sourcePaths: readonly string[]): string {
  if (outputName !== undefined) return outputName;
  const first = sourcePaths[0];
  const stem =
    first !== undefined
      ? basename(first, extname(first))
          .replace(/[^A-Za-z0-9_.+-]/g, '_')
          .replace(/^[^A-Za-z0-9]+/, '')
      : '';
  return stem !== '' ? stem.slice(0, 100) : 'v2v';
}

/** Checks `--log-file PATH` before anything runs: its directory exists and nothing is at PATH. Throws UsageError. */
export function checkLogFilePath(path: string): string {
  const absolute = resolve(path);
  let exists = true;
  try {
    lstatSync(absolute); // a dangling symlink exists too: it would be followed
  } catch {
    exists = false;
  }
  if (exists) {
    throw new UsageError(`--log-file ${path} already exists: v2v never overwrites a log; remove it or name a new file.`);
  }
  let isDirectory = false;
  try {
    isDirectory = statSync(dirname(absolute)).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) {
    throw new UsageError(
      `The directory of --log-file ${path} does not exist: create ${dirname(absolute)} first, or name a file in an existing directory.`,
    );
  }
  return absolute;
}

/** Files are opened new (never an existing file, never through a symlink) and readable by the user only. */
const OPEN_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_APPEND;

/** How many `-N` suffixes are tried before giving up on a name taken in the same second. */
const MAX_ATTEMPTS = 100;

/** The log of one run. */
export class RunLog {
  private fd: number | undefined;
  private pending: string[] = [];
  private done = false;
  private filePath: string | undefined;

  /** `warn` reports (once) that the log cannot be written. */
  constructor(private readonly warn: (message: string) => void) {}

  /** The file written, once opened. */
  get path(): string | undefined {
    return this.filePath;
  }

  /** Whether the log is still waiting for its path (lines are kept meanwhile). */
  get waiting(): boolean {
    return this.fd === undefined && !this.done;
  }

  /**
   * Appends text (one or more lines; a trailing newline is optional):
   * timestamps are the caller's; secrets are removed and every control
   * character but the line breaks is escaped here (src/text/safe-text.ts), so
   * nothing in the log acts on the terminal that shows it.
   */
  write(text: string): void {
    if (this.done) return;
    const chunk = `${safeText(redactUrl(text), { keepNewlines: true }).replace(/\n+$/, '')}\n`;
    if (this.fd === undefined) {
      this.pending.push(chunk);
      return;
    }
    this.append(chunk);
  }

  /** Opens exactly `path` (--log-file, checked before the run) and flushes what was kept. Returns the path, or undefined after a warning. */
  openFile(path: string): string | undefined {
    return this.openFirst([path], dirname(path), false);
  }

  /** Opens `NAME-v2v-STAMP.log` in `dir` (created 0700 when `create`), the first free `-N` name, and flushes what was kept. */
  openInDirectory(dir: string, name: string, started: Date, create: boolean): string | undefined {
    const candidates = Array.from({ length: MAX_ATTEMPTS }, (_, i) => join(dir, logFileName(name, started, i + 1)));
    return this.openFirst(candidates, dir, create);
  }

  /** Closes the file; later writes are dropped. Lines never flushed (no path was ever found) are dropped too. */
  close(): void {
    this.done = true;
    this.pending = [];
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // nothing left to do for a log
      }
      this.fd = undefined;
    }
  }

  private openFirst(candidates: readonly string[], dir: string, create: boolean): string | undefined {
    if (this.fd !== undefined || this.done) return this.filePath;
    try {
      if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const candidate of candidates) {
        try {
          this.fd = openSync(candidate, OPEN_FLAGS, 0o600);
          this.filePath = candidate;
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || candidates.length === 1) throw error;
        }
      }
      if (this.fd === undefined) throw new Error(`every name up to ${basename(candidates.at(-1) ?? dir)} is taken`);
    } catch (error) {
      // A missing output directory is the preflight's error to report, in one sentence: no second word about the log.
      if (!create && candidates.length > 1 && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.close();
        return undefined;
      }
      this.fail(
        `no log file written: cannot create one in ${dir} (${describe(error)}); the run goes on without it (choose a place with --log-file PATH)`,
      );
      return undefined;
    }
    const kept = this.pending.join('');
    this.pending = [];
    if (kept !== '') this.append(kept);
    return this.filePath;
  }

  private append(chunk: string): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, chunk);
    } catch (error) {
      this.fail(`the log file ${this.filePath} could not be written (${describe(error)}): it stops here; the run goes on`);
    }
  }

  private fail(message: string): void {
    const first = !this.done;
    this.close();
    if (first) this.warn(message);
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
