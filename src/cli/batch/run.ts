/**
 * Runs the guests of a batch manifest, N at a time. Each guest is a child
 * `v2v` process (its own process group) with stdout and stderr in
 * `LOGDIR/NAME.log` and JSON-lines events in `LOGDIR/NAME.events.jsonl`: a
 * failing or crashing guest cannot take the others down, and SIGINT/SIGTERM
 * are forwarded once to each running child, which cleans up after itself.
 * A batch that dies without forwarding (SIGKILL) sends SIGTERM all the same:
 * each child has it as its parent-death signal (src/host/exec.ts).
 *
 * A rerun skips a guest when the previous report says it was converted with
 * the same command line and every file it wrote still exists.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ExitCode } from '../../errors.js';
import { guardedCommand } from '../../host/exec.js';
import { clock, type V2vEvent } from '../../progress/events.js';
import type { PlannedGuest } from './manifest.js';
import { preflightGuest } from './preflight.js';
import type { VerifyReport } from '../../verify/report.js';
import { jsonText, safeText } from '../../text/safe-text.js';

/** What happened to one guest. */
export type GuestStatus = 'converted' | 'skipped' | 'failed' | 'invalid' | 'interrupted' | 'not-run';

/** One guest's line of the report. */
export interface GuestReport {
  name: string;
  status: GuestStatus;
  /** The child's exit code (2 for invalid entries); absent when not run. */
  exitCode?: number;
  /** The first error line of the run, or why the entry is invalid. */
  error?: string;
  seconds?: number;
  startedAt?: string;
  finishedAt?: string;
  /** The v2v arguments of this guest. */
  argv: string[];
  /** What the guest's v2v printed (LOGDIR/NAME.log). */
  log?: string;
  /** The guest's own run log (src/progress/run-log.ts: the trace included), from its result event. */
  runLog?: string;
  events?: string;
  /** Files and objects the conversion wrote (from its result event). */
  files: string[];
  /** For skipped guests: when the conversion being kept finished. */
  convertedAt?: string;
  /** What --verify found (from the run's result event), when it ran. */
  verify?: VerifyReport;
}

/** The JSON report written at the end of a batch. */
export interface BatchReport {
  version: 1;
  manifest: string;
  startedAt: string;
  finishedAt: string;
  jobs: number;
  exitCode: number;
  guests: GuestReport[];
}

/** How to run a batch. */
export interface BatchSettings {
  manifest: string;
  guests: PlannedGuest[];
  jobs: number;
  logDir: string;
  reportPath: string;
  /** The v2v entry point to run for each guest (bin/v2v.js). */
  v2vBin: string;
  /** Progress lines (one per guest start/finish). */
  print: (line: string) => void;
}

/** Runs every guest; writes and returns the report. Never throws for a guest's failure. */
export async function runBatch(settings: BatchSettings): Promise<BatchReport> {
  const startedAt = new Date().toISOString();
  await mkdir(settings.logDir, { recursive: true });
  const previous = await readReport(settings.reportPath);
  const reports = new Map<string, GuestReport>();
  const queue: PlannedGuest[] = [];
  for (const guest of settings.guests) {
    if (guest.invalid !== undefined) {
      reports.set(guest.name, {
        name: guest.name,
        status: 'invalid',
        exitCode: ExitCode.usage,
        error: guest.invalid,
        argv: guest.argv,
        files: [],
      });
      settings.print(`[${clock()}] ${guest.name}: invalid: ${guest.invalid}`);
      continue;
    }
    const done = await alreadyConverted(
      previous?.guests.find((g) => g.name === guest.name),
      guest,
    );
    if (done) {
      reports.set(guest.name, { ...done, status: 'skipped', convertedAt: done.convertedAt ?? done.finishedAt });
      settings.print(`[${clock()}] ${guest.name}: skipped: already converted (${done.files.join(', ')})`);
      continue;
    }
    queue.push(guest);
  }
  // Every guest to run is preflighted before the first one starts.
  for (const guest of [...queue]) {
    const problem = guest.options
      ? await preflightGuest(guest.options).then(
          () => undefined,
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        )
      : undefined;
    if (problem === undefined) continue;
    queue.splice(queue.indexOf(guest), 1);
    reports.set(guest.name, { name: guest.name, status: 'invalid', exitCode: ExitCode.usage, error: problem, argv: guest.argv, files: [] });
    settings.print(`[${clock()}] ${guest.name}: invalid: ${problem}`);
  }

  const running = new Map<string, ReturnType<typeof spawn>>();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    settings.print(`[${clock()}] ${signal} received: stopping ${running.size} running guest(s); they clean up after themselves`);
    for (const child of running.values()) child.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const worker = async (): Promise<void> => {
      for (let guest = queue.shift(); guest; guest = queue.shift()) {
        if (interrupted) {
          reports.set(guest.name, { name: guest.name, status: 'not-run', argv: guest.argv, files: [] });
          continue;
        }
        reports.set(guest.name, await runGuest(guest, settings, running, () => interrupted));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, settings.jobs) }, worker));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const guests = settings.guests.map((g) => reports.get(g.name) as GuestReport);
  const ok = guests.every((g) => g.status === 'converted' || g.status === 'skipped');
  const report: BatchReport = {
    version: 1,
    manifest: settings.manifest,
    startedAt,
    finishedAt: new Date().toISOString(),
    jobs: settings.jobs,
    exitCode: interrupted ? ExitCode.interrupted : ok ? ExitCode.ok : ExitCode.batchFailed,
    guests,
  };
  // Atomic, so an interrupted batch never leaves a half-written report behind for the next rerun.
  await writeFile(`${settings.reportPath}.partial`, `${jsonText(report, undefined, 2)}\n`);
  await rename(`${settings.reportPath}.partial`, settings.reportPath);
  return report;
}

/** Runs one guest as a child v2v process; resolves to its report line. */
async function runGuest(
  guest: PlannedGuest,
  settings: BatchSettings,
  running: Map<string, ReturnType<typeof spawn>>,
  isInterrupted: () => boolean,
): Promise<GuestReport> {
  const log = join(settings.logDir, `${guest.name}.log`);
  const events = join(settings.logDir, `${guest.name}.events.jsonl`);
  // Events come through a pipe (fd 3): written to NAME.events.jsonl and shown as per-guest stage lines.
  const argv = [...guest.argv, '--machine-readable=fd:3'];
  const startedAt = new Date();
  const fd = openSync(log, 'w', 0o644);
  writeSync(fd, `# v2v batch: ${safeText(guest.name)}, started ${startedAt.toISOString()}\n# v2v ${safeText(argv.join(' '))}\n`);
  settings.print(`[${clock()}] ${guest.name}: started (log ${log})`);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // Its own process group: a terminal's Ctrl-C reaches the batch only, which
    // forwards it once (two SIGINTs would make the child skip its cleanup).
    // SIGTERM when the batch dies (even of SIGKILL): each child v2v then stops and cleans up as on Ctrl-C.
    const exe = guardedCommand({ program: process.execPath, args: [settings.v2vBin, ...argv] }, 'SIGTERM');
    const child = spawn(exe.program, exe.args, { stdio: ['ignore', fd, fd, 'pipe'], detached: true, env: logEnv() });
    running.set(guest.name, child);
    const eventsFd = openSync(events, 'w', 0o644);
    let pending = '';
    const pipe = child.stdio[3] as Readable | null;
    pipe?.on('data', (chunk: Buffer) => {
      writeSync(eventsFd, chunk);
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const stage = stageLine(line);
        if (stage !== undefined) settings.print(`[${clock()}] ${guest.name}: ${stage}`);
      }
    });
    const drained = new Promise<void>((done) => (pipe ? pipe.once('close', done) : done()));
    void drained.then(() => closeSync(eventsFd));
    child.once('error', () => resolve({ code: ExitCode.internal, signal: null }));
    child.once('exit', (c, s) => {
      // The events pipe is drained before the report reads the file. A process
      // the run left behind may still hold the pipe's write end (fd 3 is
      // inherited): after 5 s the batch stops waiting for it.
      const gaveUp = setTimeout(() => pipe?.destroy(), 5_000);
      void drained.then(() => {
        clearTimeout(gaveUp);
        resolve({ code: c, signal: s });
      });
    });
  });
  running.delete(guest.name);
  const finishedAt = new Date();
  const seconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  writeSync(fd, `# finished ${finishedAt.toISOString()}: exit code ${code ?? `signal ${signal}`} after ${seconds.toFixed(1)} s\n`);
  closeSync(fd);
  const result = await lastResultEvent(events);
  const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
  const status: GuestStatus =
    exitCode === 0 ? 'converted' : exitCode === ExitCode.interrupted || isInterrupted() ? 'interrupted' : 'failed';
  const error = exitCode === 0 ? undefined : await firstError(events, log, signal);
  const line: GuestReport = {
    name: guest.name,
    status,
    exitCode,
    ...(error !== undefined ? { error } : {}),
    seconds,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    argv: guest.argv,
    log,
    ...(result?.log ? { runLog: result.log } : {}),
    events,
    files: exitCode === 0 ? (result?.files ?? []) : [],
    ...(result?.verify ? { verify: result.verify } : {}),
  };
  settings.print(`[${clock()}] ${guest.name}: ${status} (exit code ${exitCode}) in ${seconds.toFixed(1)} s${error ? `: ${error}` : ''}`);
  return line;
}

/** The per-guest progress line for one event line: a stage starting, or undefined. */
export function stageLine(line: string): string | undefined {
  try {
    const event = JSON.parse(line) as V2vEvent & { phase?: string };
    return event.type === 'message' && event.phase === 'start' && event.stage !== undefined
      ? `${event.stage}: ${event.message}`
      : undefined;
  } catch {
    return undefined;
  }
}

/** The environment of a guest's run: its log is a file, so never colours (FORCE_COLOR, even empty, would force them). */
function logEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['FORCE_COLOR'];
  return env;
}

/** The previous report line when that conversion can be kept: same argv, converted, files all present. */
async function alreadyConverted(previous: GuestReport | undefined, guest: PlannedGuest): Promise<GuestReport | undefined> {
  if (!previous || (previous.status !== 'converted' && previous.status !== 'skipped')) return undefined;
  if (JSON.stringify(previous.argv) !== JSON.stringify(guest.argv)) return undefined;
  const paths = previous.files.filter((f) => isAbsolute(f));
  if (paths.length === 0) return undefined;
  for (const path of paths) {
    if (!(await stat(path).catch(() => undefined))) return undefined;
  }
  return previous;
}

async function readReport(path: string): Promise<BatchReport | undefined> {
  try {
    const report = JSON.parse(await readFile(path, 'utf8')) as BatchReport;
    return Array.isArray(report.guests) ? report : undefined;
  } catch {
    return undefined; // no report yet, or unreadable: convert everything
  }
}

/** The events a guest's run wrote (a torn last line of a killed run is left out). */
async function readEvents(path: string): Promise<V2vEvent[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const events: V2vEvent[] = [];
  for (const line of text.trim().split('\n')) {
    try {
      events.push(JSON.parse(line) as V2vEvent);
    } catch {
      // a torn last line of a killed run
    }
  }
  return events;
}

async function lastResultEvent(path: string): Promise<V2vEvent | undefined> {
  return (await readEvents(path)).findLast((event) => event.type === 'result');
}

/**
 * The run's error as the report keeps it: its error event's message (the
 * original text; the log holds it escaped for a terminal), else the first
 * error line of its log (an error before its events were set up).
 */
async function firstError(events: string, log: string, signal: NodeJS.Signals | null): Promise<string> {
  const event = (await readEvents(events)).find((e) => e.type === 'error');
  if (event !== undefined) return event.message;
  const text = await readFile(log, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => /^v2v: (error|internal error):/.test(l));
  return line?.replace(/^v2v: (error: )?/, '') ?? (signal ? `killed by ${signal}` : 'failed: see the log');
}

/** The summary table printed at the end. */
export function formatSummary(report: BatchReport): string {
  const rows = [['GUEST', 'STATUS', 'EXIT', 'TIME', 'LOG / ERROR']];
  for (const g of report.guests) {
    // Escaped before the columns are aligned (src/text/safe-text.ts): names and errors come from outside.
    rows.push(
      [
        g.name,
        g.status,
        g.exitCode === undefined ? '-' : String(g.exitCode),
        g.seconds === undefined ? '-' : `${g.seconds.toFixed(1)} s`,
        g.status === 'failed' || g.status === 'invalid'
          ? `${g.error ?? ''}${(g.runLog ?? g.log) ? ` (${g.runLog ?? g.log})` : ''}`
          : (g.runLog ?? g.log ?? ''),
      ].map((cell) => safeText(cell)),
    );
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!)))
      .join('  ')
      .trimEnd(),
  );
  const count = (s: GuestStatus): number => report.guests.filter((g) => g.status === s).length;
  lines.push(
    '',
    `${count('converted')} converted, ${count('skipped')} skipped (already converted), ${count('failed') + count('invalid')} failed` +
      `${count('interrupted') + count('not-run') > 0 ? `, ${count('interrupted')} interrupted, ${count('not-run')} not run` : ''}.`,
  );
  return lines.join('\n');
}
