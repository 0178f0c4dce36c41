/**
 * Turns listr2 task state changes into progress events, so stages report
 * start, finish and details without knowing about --machine-readable.
 */
import { ListrTaskEventType, ListrTaskState } from 'listr2';
import type { StageKey } from './events.js';
import { emitEvent } from './reporter.js';

/** The part of a listr2 Task this module listens to. */
interface ObservableTask {
  title?: string;
  on(event: ListrTaskEventType, handler: (data: unknown) => void): void;
}

/** Emits a `message` event when each stage starts, ends, fails or is skipped, and `info` for its output. */
export function reportStageEvents(tasks: readonly ObservableTask[], keys: readonly StageKey[]): void {
  tasks.forEach((task, index) => {
    const stage = keys[index];
    if (stage === undefined) return;
    let started = 0;
    task.on(ListrTaskEventType.STATE, (state) => {
      const title = task.title ?? stage;
      switch (state as ListrTaskState) {
        case ListrTaskState.STARTED:
          started = Date.now();
          emitEvent({ type: 'message', stage, phase: 'start', message: title });
          break;
        case ListrTaskState.COMPLETED:
          emitEvent({ type: 'message', stage, phase: 'end', message: title, seconds: (Date.now() - started) / 1000 });
          break;
        case ListrTaskState.FAILED:
          emitEvent({ type: 'message', stage, phase: 'failed', message: title, seconds: (Date.now() - started) / 1000 });
          break;
        case ListrTaskState.SKIPPED:
          emitEvent({ type: 'message', stage, phase: 'skipped', message: title });
          break;
        default:
          break;
      }
    });
    task.on(ListrTaskEventType.OUTPUT, (output) => {
      const text = String(output).trim();
      if (text !== '') emitEvent({ type: 'info', stage, message: text });
    });
  });
}
