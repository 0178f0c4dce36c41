/**
 * The process-wide event bus: main subscribes the sinks (machine-readable
 * JSON lines, live warnings), the pipeline and stages emit. Like
 * configureExec, it is set once per process, so stages need no new context
 * field to report progress.
 */
import { makeEvent, type EventListener, type StageKey, type V2vEvent } from './events.js';

const listeners = new Set<EventListener>();
let currentStage: StageKey | undefined;

/** Subscribes to every later event; returns the unsubscribe function. */
export function onEvent(listener: EventListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Emits one event, stamped now, to every listener. A failing listener never breaks the run. */
export function emitEvent(fields: Omit<V2vEvent, 'timestamp'>): void {
  if (fields.type === 'message' && fields.phase === 'start') currentStage = fields.stage;
  if (listeners.size === 0) return;
  // Warnings and traces belong to the stage running when they happen.
  const event = makeEvent(
    fields.stage === undefined && currentStage !== undefined && fields.type !== 'result' ? { ...fields, stage: currentStage } : fields,
  );
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // e.g. a closed --machine-readable fd: progress reporting must not fail a conversion
    }
  }
}

/** Minimum interval between two progress events of one disk. */
const PROGRESS_EVENT_MS = 1_000;
const lastProgress = new Map<number, number>();
const finished = new Set<number>();

/** Reports copy progress of disk `disk` (1-based); throttled to one event a second, 100% always sent. */
export function reportCopyProgress(disk: number, percent: number, total: number): void {
  const now = Date.now();
  if (percent < 100 && now - (lastProgress.get(disk) ?? 0) < PROGRESS_EVENT_MS) return;
  if (percent >= 100 && finished.has(disk)) return; // qemu-img prints 100% more than once
  if (percent >= 100) finished.add(disk);
  lastProgress.set(disk, now);
  const done = Math.round((percent / 100) * total);
  emitEvent({
    type: 'progress',
    stage: 'copy',
    message: `disk ${disk}: ${percent.toFixed(1)}%`,
    progress: { disk, done, total, percent: Math.round(percent * 10) / 10 },
  });
}

const lastPassProgress = new Map<StageKey, number>();

/**
 * Reports a pre-copy pass's progress (warm migration): bytes read of the
 * pass's total, throttled to one event a second like the copy's.
 */
export function reportPassProgress(stage: StageKey, disk: number, done: number, total: number, message: string): void {
  const now = Date.now();
  if (done < total && now - (lastPassProgress.get(stage) ?? 0) < PROGRESS_EVENT_MS) return;
  lastPassProgress.set(stage, now);
  const percent = total > 0 ? Math.min(100, Math.round((done / total) * 1000) / 10) : 100;
  emitEvent({ type: 'progress', stage, message, progress: { disk, done, total, percent } });
}

let live = false;

/** Records whether the live (terminal) renderer is in use; set once by main. */
export function setLiveRenderer(value: boolean): void {
  live = value;
}

/** Whether the live renderer is in use: stages then update progress continuously instead of every few seconds. */
export function isLiveRenderer(): boolean {
  return live;
}
