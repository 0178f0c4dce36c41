/**
 * The one execa wrapper. Drivers build commands as data ({@link Command}) and
 * run them here: argv arrays, never a shell; a named timeout per kind of
 * command; LANG=C so output is parseable; a failure becomes a CommandError
 * whose message is what failed + trimmed stderr + exit code.
 *
 * Every child gets a parent-death signal (util-linux `setpriv --pdeathsig`,
 * which sets it and execs the program: same process, same pid): when v2v
 * dies, even of SIGKILL, the kernel kills its direct children. Processes
 * that are no direct child (the forked guestfish server and its appliance)
 * are stopped by the run's watchdog (watchdog.ts); see docs/safety.md.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { CommandError, InterruptedError } from '../errors.js';

/** A command as data: the program and its argv. */
export interface Command {
  program: string;
  args: string[];
  /** Extra environment for this command only. */
  env?: Record<string, string>;
}

/** Timeouts (ms) per kind of command; 0 = none (the copy is bounded by progress, not time). */
export const Timeouts = {
  /** Version checks, `qemu-img info`, `virsh list`. */
  probe: 30_000,
  /** The KVM test guest: it exits in well under a second when KVM works; a hang means broken. */
  accelProbe: 10_000,
  /** One libguestfs call; a package removal or initramfs rebuild under TCG can take minutes. */
  guestfs: 30 * 60_000,
  /** Appliance launch, including a first-time supermin build. */
  launch: 10 * 60_000,
  /** The final copy. */
  copy: 0,
} as const;

/** Which {@link Timeouts} entry applies. */
export type CommandKind = keyof typeof Timeouts;

/** Options for {@link run}. */
export interface RunOptions {
  kind?: CommandKind;
  /** Text fed to stdin. */
  input?: string;
  /** Called with each stdout chunk as it arrives (progress parsing). */
  onStdout?: (chunk: string) => void;
  /** Do not throw on a non-zero exit; the caller inspects the result. */
  allowFailure?: boolean;
  /**
   * Discard stderr instead of piping it. Needed for programs that fork a
   * daemon which keeps the stderr it inherited (guestfish --listen): a pipe,
   * even one execa writes to a file, would never close.
   */
  discardStderr?: boolean;
  /** Feed this host file to stdin (binary data: decompressors). */
  stdinFile?: string;
  /** Write stdout to this host file instead of returning it (binary data). */
  stdoutFile?: string;
}

/** What a finished command returned. */
export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Process-wide settings, set once by main. */
interface ExecSettings {
  /** Aborted on SIGINT/SIGTERM: every child is stopped. */
  signal?: AbortSignal;
  /** Called before each command runs (for -x tracing). */
  trace?: (argv: string) => void;
  /** Called after each command with what it printed (for -v: guest-side details). */
  details?: (argv: string, result: RunResult) => void;
}

const settings: ExecSettings = {};

/** Sets the root abort signal and the trace hook for every later command. */
export function configureExec(next: ExecSettings): void {
  Object.assign(settings, next);
}

/** Renders argv for humans (traces, dry runs, error messages); quotes what needs quoting. */
export function formatCommand(cmd: Command): string {
  return [cmd.program, ...cmd.args].map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The root abort signal (SIGINT/SIGTERM), for children started outside {@link run}/{@link spawn}. */
export function rootSignal(): AbortSignal | undefined {
  return settings.signal;
}

/** Reports a command started outside {@link run}/{@link spawn} (e.g. with node's spawn) to the -x trace. */
export function traceCommand(cmd: Command): void {
  settings.trace?.(formatCommand(cmd));
}

/** Keeps the last lines of a tool's stderr: the useful part of a long log. */
export function trimStderr(stderr: string, maxLines = 8): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  return lines.slice(-maxLines).join('\n');
}

/** The signal a child gets from the kernel when v2v dies. */
export type ParentDeathSignal = 'SIGKILL' | 'SIGTERM';

/**
 * `cmd` run through `setpriv --pdeathsig SIGNAL`: the kernel sends SIGNAL to
 * the program when the thread that started it exits (Node starts children
 * from its main thread). setpriv execs the program, so pid, exit status and
 * signals are the program's own. A forked grandchild does not inherit it
 * (prctl(2) PR_SET_PDEATHSIG: cleared on fork). Pure.
 */
export function withParentDeathSignal(cmd: Command, setpriv: string, signal: ParentDeathSignal = 'SIGKILL'): Command {
  return { ...cmd, program: setpriv, args: ['--pdeathsig', signal, '--', cmd.program, ...cmd.args] };
}

const pathCache = new Map<string, string | undefined>();

/** Where `program` is ($PATH lookup, as exec does; a name with a slash as it is), or undefined; cached. */
export function findProgram(program: string, path = process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'): string | undefined {
  const key = `${program}\0${path}`;
  if (pathCache.has(key)) return pathCache.get(key);
  const candidates = program.includes('/') ? [program] : path.split(delimiter).map((dir) => join(dir || '.', program));
  const found = candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
  pathCache.set(key, found);
  return found;
}

/** The error for a program that is not installed. */
function notInstalled(cmd: Command): CommandError {
  return new CommandError(
    `${cmd.program} is not installed: run scripts/setup.sh (or install the package that provides it).`,
    formatCommand(cmd),
    undefined,
    '',
  );
}

/**
 * What is really executed for `cmd`: the program (looked up first, so a
 * missing one is still reported as not installed) under setpriv's
 * parent-death signal; the program alone where setpriv is missing (the
 * watchdog still stops it). setpriv gets the program's name as given, and
 * finds it on PATH as the lookup did: `ps` and `pgrep` show `nbdkit ...`,
 * not a full path. Throws CommandError when the program is missing.
 */
export function guardedCommand(cmd: Command, signal: ParentDeathSignal = 'SIGKILL'): Command {
  if (findProgram(cmd.program) === undefined) throw notInstalled(cmd);
  const setpriv = findProgram('setpriv');
  return setpriv === undefined ? cmd : withParentDeathSignal(cmd, setpriv, signal);
}

/** The environment every child gets: parseable output, never interactive. */
function childEnv(cmd: Command): Record<string, string> {
  return { LANG: 'C', LC_ALL: 'C', ...cmd.env };
}

/** Starts a command and returns the live execa child (for long-running servers). */
export function spawn(cmd: Command, options: { detached?: boolean } = {}): ResultPromise {
  settings.trace?.(formatCommand(cmd));
  const exe = guardedCommand(cmd);
  return execa(exe.program, exe.args, {
    env: childEnv(cmd),
    cancelSignal: settings.signal,
    detached: options.detached ?? false,
    reject: false,
    stdin: 'ignore',
  });
}

/** Runs a command to completion; throws CommandError on failure unless allowFailure. */
export async function run(cmd: Command, options: RunOptions = {}): Promise<RunResult> {
  const text = formatCommand(cmd);
  settings.trace?.(text);
  const timeout = Timeouts[options.kind ?? 'probe'];
  const exe = guardedCommand(cmd);
  const child = execa(exe.program, exe.args, {
    env: childEnv(cmd),
    cancelSignal: settings.signal,
    ...(timeout > 0 ? { timeout } : {}),
    reject: false,
    stripFinalNewline: false,
    ...(options.input !== undefined
      ? { input: options.input }
      : options.stdinFile !== undefined
        ? { stdin: { file: options.stdinFile } }
        : { stdin: 'ignore' }),
    // buffer: execa would otherwise also keep all of stdout in memory (measured: a 120 MB decompression took the node process to 620 MiB).
    ...(options.stdoutFile !== undefined ? { stdout: { file: options.stdoutFile }, buffer: { stdout: false } } : {}),
    ...(options.discardStderr ? { stderr: 'ignore' as const } : {}),
  });
  if (options.onStdout) {
    const onStdout = options.onStdout;
    child.stdout?.on('data', (chunk: Buffer) => onStdout(chunk.toString('utf8')));
  }
  const result = await child;
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  if (result.isCanceled) {
    throw new InterruptedError(`Interrupted while running ${cmd.program}.`);
  }
  if (result.code === 'ENOENT') throw notInstalled(cmd);
  const exitCode = result.exitCode ?? -1;
  settings.details?.(text, { stdout, stderr, exitCode });
  if (result.timedOut) {
    throw new CommandError(`${cmd.program} did not finish within ${timeout / 1000} s: ${text}`, text, undefined, trimStderr(stderr));
  }
  if (exitCode !== 0 && !options.allowFailure) {
    const detail = trimStderr(stderr) || trimStderr(stdout);
    throw new CommandError(`${cmd.program} failed (exit code ${exitCode})${detail ? `: ${detail}` : ''}`, text, exitCode, detail);
  }
  return { stdout, stderr, exitCode };
}
