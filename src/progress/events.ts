/**
 * Progress events: what a run reports while it runs, in one typed shape.
 * The same events feed the human renderers' side channels (warnings as they
 * happen) and `--machine-readable` JSON lines, whose schema is
 * docs/machine-readable.schema.json.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { NicNetworkReport } from '../model.js';
import { redactUrl } from '../text/redact.js';
import { jsonText } from '../text/safe-text.js';
import type { VerifyReport } from '../verify/report.js';

/**
 * The pipeline stages, in order: the `stage` field of events and the
 * V2V_TEST_PAUSE_AT values. `precopy` and `cutover` run only in a warm
 * migration (docs/warm-migration.md).
 */
export const STAGES = [
  'precopy',
  'source',
  'overlay',
  'preflight',
  'cutover',
  'inspect',
  'convert',
  'trim',
  'copy',
  'verify',
  'output',
] as const;

/** One pipeline stage. */
export type StageKey = (typeof STAGES)[number];

/** Bytes copied so far of one target disk. */
export interface ProgressInfo {
  /** 1-based disk number. */
  disk: number;
  done: number;
  total: number;
  percent: number;
}

/** A warm migration's pre-copy pass: on its `info` event when it completes (stage precopy, or cutover for the final pass). */
export interface PassInfo {
  /** Pass number, counted over the whole migration (a resumed run goes on counting). */
  number: number;
  /** Bytes the change tracking reported changed (all allocated bytes for a full copy). */
  bytesChanged: number;
  /** Bytes read from the datastore. */
  bytesRead: number;
  /** Bytes written into the pre-copy (zero blocks are not written). */
  bytesWritten: number;
  seconds: number;
  /** Device keys copied in full (first pass, new or resized disk, CBT reset). */
  full: number[];
  /** The cut-over's pass, on the powered-off VM. */
  final: boolean;
}

/** One machine-readable event (one JSON line). */
export interface V2vEvent {
  /**
   * message: a stage started or finished; info: a detail of the current
   * stage; warning / error: as printed on stderr; progress: copy progress;
   * trace: an external command (-x); result: the last line of a run.
   */
  type: 'message' | 'info' | 'warning' | 'error' | 'progress' | 'trace' | 'result';
  /** RFC 3339 time, UTC, millisecond precision. */
  timestamp: string;
  message: string;
  stage?: StageKey;
  /** For stage messages: started, finished, failed or skipped. */
  phase?: 'start' | 'end' | 'failed' | 'skipped';
  /** For phase end: seconds the stage took. */
  seconds?: number;
  progress?: ProgressInfo;
  /** For result: the process exit code. */
  exitCode?: number;
  /** For result: the converted guest's name, when known. */
  name?: string;
  /** For result: files and objects written (empty unless converted). */
  files?: string[];
  /** For info events of the convert stage: what was found and done for one NIC's network (src/model.ts NicNetworkReport). */
  network?: NicNetworkReport;
  /** For the verify stage's info and for result: what `--verify` found (absent checks were not asked for). */
  verify?: VerifyReport;
  /** For result, and the info event sent when the file is opened: the run's log file (absent: none written, e.g. --no-log-file). */
  log?: string;
  /** For the info event of a completed pre-copy pass (warm migration). */
  pass?: PassInfo;
  /** For info events of the cutover stage: the step reached (the downtime starts at shutdown-requested or power-off-requested). */
  cutover?: 'shutdown-requested' | 'power-off-requested' | 'already-off' | 'powered-off' | 'final-pass-done';
}

/** Where `--machine-readable` events go. */
export type MachineReadableTarget = { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 'fd'; fd: number };

/** Parses the value of `--machine-readable[=file:F|fd:N]` ('' = stdout). Throws UsageError. */
export function parseMachineReadable(spec: string): MachineReadableTarget {
  if (spec === '' || spec === 'stdout') return { kind: 'stdout' };
  if (spec.startsWith('file:') && spec.length > 5) return { kind: 'file', path: spec.slice(5) };
  const fd = /^fd:(\d+)$/.exec(spec);
  if (fd?.[1]) return { kind: 'fd', fd: Number(fd[1]) };
  throw new UsageError(
    `Invalid "--machine-readable=${spec}": use --machine-readable, --machine-readable=file:FILE or --machine-readable=fd:N.`,
  );
}

/** Something that receives events. */
export type EventListener = (event: V2vEvent) => void;

/** Builds an event stamped now. */
export function makeEvent(fields: Omit<V2vEvent, 'timestamp'>): V2vEvent {
  return { timestamp: new Date().toISOString(), ...fields, message: redactUrl(fields.message) };
}

/** Writes events as JSON lines, synchronously (so lines are never interleaved or lost at exit). */
export class JsonLinesSink {
  private constructor(
    private readonly fd: number,
    private readonly owned: boolean,
  ) {}

  /** Opens the target; a file is created or truncated. */
  static open(target: MachineReadableTarget): JsonLinesSink {
    switch (target.kind) {
      case 'stdout':
        return new JsonLinesSink(1, false);
      case 'fd':
        return new JsonLinesSink(target.fd, false);
      case 'file':
        return new JsonLinesSink(openSync(target.path, 'w', 0o644), true);
    }
  }

  /** Writes one event as one line. */
  write(event: V2vEvent): void {
    writeSync(this.fd, `${jsonText(event)}\n`);
  }

  /** Closes a file target. */
  close(): void {
    if (this.owned) closeSync(this.fd);
  }
}

/** `HH:MM:SS`, as the line renderer stamps its lines. */
export function clock(date = new Date()): string {
  return date.toTimeString().slice(0, 8);
}
