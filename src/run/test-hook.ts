/**
 * Test hook: `V2V_TEST_PAUSE_AT=STAGE` makes the pipeline stop at the start
 * of STAGE (one of {@link STAGES}), print a marker line on stderr and wait:
 * SIGUSR2 resumes, SIGINT/SIGTERM interrupt as usual. The e2e tests use it to
 * interrupt (or tamper with the target) at a known point of a real run,
 * deterministically, even in stages that last a second. Not for users.
 */
import type { ListrTask } from 'listr2';
import { STAGES, type StageKey } from '../progress/events.js';
import { emitEvent } from '../progress/reporter.js';
import { printErr } from '../text/safe-text.js';
import type { Context } from '../../stages/context.js';

/** The environment variable naming the stage to pause at. */
export const PAUSE_ENV = 'V2V_TEST_PAUSE_AT';

/** The marker printed on stderr when paused (tests wait for it). */
export function pauseMarker(stage: StageKey): string {
  return `v2v: test hook: paused at ${stage}`;
}

/** Wraps a stage so it pauses first when V2V_TEST_PAUSE_AT names it; otherwise returns it unchanged. */
export function withTestPause(stage: StageKey, task: ListrTask<Context>, signal?: AbortSignal): ListrTask<Context> {
  const at = process.env[PAUSE_ENV];
  if (at === undefined || at === '') return task;
  if (!(STAGES as readonly string[]).includes(at)) {
    throw new Error(`${PAUSE_ENV}=${at} is not a stage: use one of ${STAGES.join(', ')}`);
  }
  if (at !== stage) return task;
  const original = task.task;
  return {
    ...task,
    task: async (ctx, wrapper) => {
      await pause(stage, signal);
      // A stage may return subtasks (copy does); listr2 types them as Listr<any>.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-return
      return original(ctx, wrapper);
    },
  };
}

/** Waits for SIGUSR2 (resolve) or the abort signal (reject with its reason). */
function pause(stage: StageKey, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Signal listeners do not keep Node's event loop alive: without a timer
    // Node would exit (code 13, unsettled await) instead of waiting.
    const keepAlive = setInterval(() => undefined, 60_000);
    const onAbort = (): void => {
      clearInterval(keepAlive);
      process.off('SIGUSR2', onResume);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const onResume = (): void => {
      clearInterval(keepAlive);
      signal?.removeEventListener('abort', onAbort);
      emitEvent({ type: 'info', stage, message: 'test hook: resumed' });
      resolve();
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    process.once('SIGUSR2', onResume);
    emitEvent({ type: 'info', stage, message: `test hook: paused at ${stage}` });
    printErr(`${pauseMarker(stage)} (pid ${process.pid}): SIGUSR2 resumes, SIGINT/SIGTERM interrupts`);
  });
}
