/**
 * The error boundary: runs the pipeline, reports its errors with their exit
 * codes (src/run/report-error.ts), stops every child process on SIGINT/SIGTERM,
 * and wires the progress events to their sinks (--machine-readable JSON
 * lines, live warnings, -x).
 */
import { configureExec } from '../host/exec.js';
import { ExitCode, InterruptedError, UsageError } from '../errors.js';
import { chooseRenderer, runPipeline, type RendererChoice } from './pipeline.js';
import { clock, JsonLinesSink, type MachineReadableTarget, type V2vEvent } from '../progress/events.js';
import { emitEvent, onEvent, setLiveRenderer } from '../progress/reporter.js';
import { markRun, stopRunProcesses } from '../host/reaper.js';
import { tmpParent } from '../host/tmpdir.js';
import { startWatchdog } from '../host/watchdog.js';
import { startHeartbeat } from '../progress/heartbeat.js';
import { runSummary } from './summary.js';
import { formatDetails } from '../progress/verbose.js';
import { redactUrl } from '../text/redact.js';
import { jsonText, printErr, printOut, safeText } from '../text/safe-text.js';
import { reportError } from './report-error.js';
import { describeVerifyReport, type VerifyReport } from '../verify/report.js';
import { defaultLogDirectory, fallbackLogName, RunLog } from '../progress/run-log.js';
import type { Options, Context } from '../../stages/context.js';
import { guestName } from '../output/guest-name.js';

/**
 * Files the run creates (and its children: qemu-img targets, overlays) get
 * no group or world permissions: a converted disk holds the guest's data.
 */
export const RUN_UMASK = 0o077;

/**
 * Leaves at once, without cleanup, by dying of `signal` itself (exit status
 * 128 + its number): process.exit() would first wait for the thread pool,
 * where a blocked read (a FIFO, a hung NFS server) never returns.
 */
export function exitBySignal(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal); // back to the default action: terminate
  process.kill(process.pid, signal);
}

/** Runs one conversion; returns the process exit code. Never throws. */
export async function main(options: Options): Promise<number> {
  process.umask(process.umask() | RUN_UMASK);
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return exitBySignal(signal); // second signal: leave now
    interrupted = true;
    printErr(`\nv2v: ${signal} received: stopping and cleaning up`);
    log?.write(`[${clock()}] v2v: ${signal} received: stopping and cleaning up`);
    abort.abort(new InterruptedError(`Interrupted by ${signal}.`));
    // Now, not after the stage unwinds: a guestfish server is no child of
    // ours, and closing it politely would wait for the call it is running.
    void stopRunProcesses(runId);
  };
  const started = new Date();
  const log =
    options.printSource || options.logFile.kind === 'none' ? undefined : new RunLog((message) => emitEvent({ type: 'warning', message }));
  const runId = markRun();
  // Stops the run's processes and removes its temp dirs if v2v dies without cleaning up (SIGKILL, OOM).
  const watchdog = startWatchdog(runId, tmpParent());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const renderer: RendererChoice = options.printSource
    ? 'silent'
    : chooseRenderer(options, process.stdout.isTTY === true, !!process.env['CI']);
  setLiveRenderer(renderer === 'live');
  let sink: JsonLinesSink | undefined;
  const warnings: string[] = [];
  let warningsShown = false;
  // The line renderer printed each warning when it happened; the others show
  // them now, once, and before an error: they may explain it.
  const showWarnings = (): void => {
    if (warningsShown || renderer === 'lines') return;
    warningsShown = true;
    printWarnings(warnings);
  };
  const unsubscribe: Array<() => void> = [];
  let result: { exitCode: number; name?: string; files: string[]; verify?: VerifyReport; log?: string } = {
    exitCode: ExitCode.internal,
    files: [],
  };
  let context: Context | undefined;
  /** Opens the default log once the guest's name is known (or, at the end, with a fallback name); returns its path. */
  const openLog = (sourceName?: string): string | undefined => {
    if (log === undefined || !log.waiting) return log?.path;
    let path: string | undefined;
    if (options.logFile.kind === 'file') path = log.openFile(options.logFile.path);
    else {
      const { dir, create } = defaultLogDirectory(options.output, process.env, process.getuid?.() ?? -1);
      path = log.openInDirectory(dir, logName(options, sourceName), started, create);
    }
    if (path !== undefined) emitEvent({ type: 'info', message: `log file: ${path}`, log: path });
    return path;
  };
  try {
    if (options.machineReadable) {
      const opened = openSink(options.machineReadable);
      sink = opened;
      unsubscribe.push(onEvent((event) => opened.write(event)));
    }
    unsubscribe.push(onEvent(humanSideChannel(renderer)));
    if (log) unsubscribe.push(onEvent(logSideChannel(log, () => openLog(context?.source?.name))));
    unsubscribe.push(
      onEvent((event) => {
        if (event.type === 'warning' && !event.message.startsWith('cleanup: ')) warnings.push(event.message);
      }),
    );
    // --log-file is known now: lines go to it from the start.
    if (options.logFile.kind === 'file') openLog();
    for (const warning of options.warnings ?? []) emitEvent({ type: 'warning', message: warning });
    if ((renderer !== 'live' || log) && !options.printSource) {
      unsubscribe.push(
        startHeartbeat((line) => {
          if (renderer === 'lines') printOut(safeText(line));
          log?.write(safeText(line));
        }),
      );
    }
    configureExec({
      signal: abort.signal,
      // The log always holds the trace and what each command printed, whatever -v and -x say.
      ...(options.trace || options.machineReadable || log
        ? {
            trace: (argv: string) => {
              if (options.trace) printErr(`${renderer === 'lines' ? `[${clock()}] ` : ''}+ ${safeText(argv)}`);
              log?.write(`[${clock()}] + ${safeText(argv)}`);
              if (options.trace || options.machineReadable) emitEvent({ type: 'trace', message: argv });
            },
          }
        : {}),
      ...(options.verbose || log
        ? {
            details: (argv: string, r: { stdout: string; stderr: string; exitCode: number }) => {
              const lines = formatDetails(argv, r.stdout, r.stderr, r.exitCode, clock());
              if (lines.length === 0) return;
              if (options.verbose) printErr(redactUrl(escapedLines(lines)));
              log?.write(escapedLines(lines));
            },
          }
        : {}),
    });
    const ctx = await runPipeline(options, renderer, {
      signal: abort.signal,
      runId,
      onContext: (c) => (context = c),
      ...(log ? { log: (text: string) => log.write(text) } : {}),
    });
    if (options.printSource) {
      printOut(jsonText(ctx.source, undefined, 2));
      result = { exitCode: ExitCode.ok, files: [] };
      return ExitCode.ok;
    }
    const seconds = ((Date.now() - started.getTime()) / 1000).toFixed(1);
    if (ctx.warm?.precopyOnly) {
      // --cutover never: passes only, nothing converted (docs/warm-migration.md).
      const logPath = openLog();
      const lines = [`Finished pre-copying in ${seconds} s.`, ...ctx.warm.precopySummary(), ...(logPath ? [`Log: ${logPath}`] : [])];
      for (const line of lines) emitEvent({ type: 'info', message: line });
      if (!options.quiet && options.machineReadable?.kind !== 'stdout') printOut(`${escapedLines(lines)}\n`);
      log?.write(escapedLines(lines));
      result = { exitCode: ExitCode.ok, files: [], ...(logPath ? { log: logPath } : {}) };
      return ExitCode.ok;
    }
    const logPath = openLog(ctx.name);
    const files = ctx.written ?? [];
    const verified = ctx.verification ? `; verified: ${describeVerifyReport(ctx.verification)}` : '';
    const summary = `Finished converting ${ctx.name} in ${seconds} s: ${files.join(', ')}${verified}`;
    emitEvent({ type: 'info', message: summary });
    // A warm migration's lines (the source VM's power, the pre-copy) read like the others of the renderer.
    const warmLines = (ctx.warmSummary ?? []).map((line) => (renderer === 'live' ? line : `› [${clock()}] ${line}`));
    const details = [...runSummary(options, ctx.name ?? '', files, ctx.changes ?? [], renderer === 'live', clock(), logPath), ...warmLines];
    for (const line of ctx.warmSummary ?? []) emitEvent({ type: 'info', message: line });
    const text = `${escapedLines([summary, ...details])}\n`;
    if (!options.quiet && options.machineReadable?.kind !== 'stdout') printOut(text);
    // The log gets the line renderer's summary (the changes are in it already, as detail lines).
    log?.write(
      renderer === 'live'
        ? escapedLines([
            summary,
            ...runSummary(options, ctx.name ?? '', files, [], false, clock(), logPath),
            ...(ctx.warmSummary ?? []).map((l) => `› [${clock()}] ${l}`),
          ])
        : text,
    );
    result = {
      exitCode: ExitCode.ok,
      ...(ctx.name ? { name: ctx.name } : {}),
      files,
      ...(ctx.verification ? { verify: ctx.verification } : {}),
      ...(logPath ? { log: logPath } : {}),
    };
    return ExitCode.ok;
  } catch (error) {
    // A failed run keeps its log: it is the record of the failure.
    const logPath = openLog(context?.name ?? context?.source?.name);
    if (interrupted) {
      const message = 'interrupted; temporary files and partial targets were removed.';
      showWarnings();
      emitEvent({ type: 'error', message });
      printErr(`v2v: error: ${message}\n${logPath ? `v2v: log: ${safeText(logPath)}\n` : ''}`);
      log?.write(`[${clock()}] v2v: error: ${message}`);
      result = { exitCode: ExitCode.interrupted, files: [], ...(logPath ? { log: logPath } : {}) };
      return ExitCode.interrupted;
    }
    showWarnings();
    const exitCode = reportError(error, logPath, log);
    const verify = context?.verification;
    result = { exitCode, files: [], ...(verify ? { verify } : {}), ...(logPath ? { log: logPath } : {}) };
    return exitCode;
  } finally {
    showWarnings();
    emitEvent({
      type: 'result',
      message: result.exitCode !== 0 ? 'failed' : context?.warm?.precopyOnly ? 'precopied' : 'converted',
      ...result,
    });
    for (const off of unsubscribe) off();
    sink?.close();
    log?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Last: the run's cleanup is done (runPipeline stopped every process of the run).
    await watchdog.release();
  }
}

/**
 * Lines for humans, each escaped on its own (src/text/safe-text.ts): what a
 * line quotes (a guest's name, a program's message) cannot break it in two
 * or forge the next one.
 */
export function escapedLines(lines: readonly string[]): string {
  return lines.map((line) => safeText(line)).join('\n');
}

/**
 * What humans see of events besides the renderer: with the line renderer,
 * each warning is printed as a timestamped line when it happens (the live
 * renderer owns the terminal, so there warnings wait for the end).
 */
export function humanSideChannel(renderer: RendererChoice): (event: V2vEvent) => void {
  return (event) => {
    if (renderer === 'lines' && event.type === 'warning' && !event.message.startsWith('cleanup: ')) {
      printErr(`[${clock(new Date(event.timestamp))}] v2v: warning: ${safeText(event.message)}`);
    }
  };
}

/**
 * What the log gets besides the renderer's lines: every warning, timestamped
 * as the line renderer prints it; and, when the source stage ends (the
 * guest's name is known), the default log file is opened.
 */
export function logSideChannel(log: RunLog, open: () => void): (event: V2vEvent) => void {
  return (event) => {
    if (event.type === 'warning') log.write(`[${clock(new Date(event.timestamp))}] v2v: warning: ${safeText(event.message)}`);
    if (event.type === 'message' && event.stage === 'source' && event.phase === 'end' && log.waiting) open();
  };
}

/** The guest name a log is named after: the output name when the source was read, else a fallback from -on or the source path. */
function logName(options: Options, sourceName: string | undefined): string {
  if (sourceName !== undefined) {
    try {
      return guestName(options.output.name, sourceName);
    } catch {
      // a source name that is no valid guest name: the run fails in preflight; its log needs a name all the same
    }
  }
  return fallbackLogName(options.output.name, options.input.paths);
}

/** Opens the --machine-readable target; an unusable one is a usage error. */
function openSink(target: MachineReadableTarget): JsonLinesSink {
  try {
    return JsonLinesSink.open(target);
  } catch (error) {
    const where = target.kind === 'file' ? `file:${target.path}` : target.kind === 'fd' ? `fd:${target.fd}` : 'stdout';
    throw new UsageError(
      `Cannot open --machine-readable=${where} (${error instanceof Error ? error.message : String(error)}): pass a writable file or an open descriptor.`,
    );
  }
}

/** The warnings, each on a line of its own, escaped: shown at the end when the live renderer owned the terminal. */
export function printWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) printErr(`v2v: warning: ${safeText(warning)}`);
}
