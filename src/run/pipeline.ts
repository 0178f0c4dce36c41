/**
 * The conversion pipeline, top to bottom. Each stage is checked before the
 * next; the copy is always the last heavy step, so a run that will fail
 * fails before it.
 */
import { stripVTControlCharacters } from 'node:util';
import { createWritable, Listr, PRESET_TIMESTAMP, ProcessOutput, SimpleRenderer, type ListrTask } from 'listr2';
import { copyStage } from '../../stages/copy.js';
import { convertStage } from '../../stages/convert.js';
import { cutoverStage } from '../../stages/cutover.js';
import { precopyStage } from '../../stages/precopy.js';
import { inspectStage } from '../../stages/inspect.js';
import { outputStage } from '../../stages/output.js';
import { overlayStage } from '../../stages/overlay.js';
import { preflightStage } from '../../stages/preflight.js';
import { sourceStage } from '../../stages/source.js';
import { trimStage } from '../../stages/trim.js';
import { verifyStage } from '../../stages/verify.js';
import { Cleanups } from '../host/cleanup.js';
import { configureExec } from '../host/exec.js';
import { selectInput } from '../input/index.js';
import { selectOutput } from '../output/index.js';
import type { StageKey } from '../progress/events.js';
import { emitEvent } from '../progress/reporter.js';
import { reportStageEvents } from '../progress/stage-events.js';
import { SafeDefaultRenderer, SafeListrLogger } from '../progress/safe-renderers.js';
import { printErr, safeText } from '../text/safe-text.js';
import { withTestPause } from './test-hook.js';
import { WarmMigration } from '../warm/migration.js';
import { stopRunProcesses } from '../host/reaper.js';
import type { Context, Options } from '../../stages/context.js';

/** How progress is shown, picked once at the root. */
export type RendererChoice = 'live' | 'lines' | 'silent';

/**
 * Live task list on a terminal outside CI; timestamped lines when piped, in
 * CI, or with -v/-x (their extra lines would tear a live display); nothing
 * with -q or when JSON events go to stdout (--machine-readable alone).
 */
export function chooseRenderer(
  options: Pick<Options, 'quiet' | 'verbose' | 'trace' | 'machineReadable'>,
  stdoutIsTty: boolean,
  ci: boolean,
): RendererChoice {
  if (options.quiet || options.machineReadable?.kind === 'stdout') return 'silent';
  if (options.verbose || options.trace) return 'lines';
  return stdoutIsTty && !ci ? 'live' : 'lines';
}

/** What main hands the pipeline besides the options. */
export interface PipelineHooks {
  /** The root abort signal (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** The run id every child process carries (see src/host/reaper.ts). */
  runId?: string;
  /** Called with the context before the first stage, so a failed run can still report what it found (e.g. --verify). */
  onContext?: (ctx: Context) => void;
  /** The run's log file: gets every line the line renderer prints, whichever renderer the user sees. */
  log?: (text: string) => void;
}

/** Runs every stage in order; cleanup runs whatever happens. Returns the final context. */
export async function runPipeline(options: Options, renderer: RendererChoice, hooks: PipelineHooks = {}): Promise<Context> {
  // A warm migration (docs/warm-migration.md) reads the source through its pre-copy.
  const warm = options.warm && options.input.vsphere ? new WarmMigration(options.input.vsphere, options.warm) : undefined;
  const ctx: Context = {
    options,
    cleanup: new Cleanups(),
    warnings: new LiveWarnings(),
    input: warm ? warm.input() : selectInput(options.input),
    output: selectOutput(options.output),
    ...(warm ? { warm } : {}),
  };
  hooks.onContext?.(ctx);
  const conversion: Array<[StageKey, ListrTask<Context>]> = [
    ['inspect', inspectStage()],
    ['convert', convertStage()],
    ['trim', trimStage()],
    ['copy', copyStage()],
    ['verify', verifyStage()],
    ['output', outputStage()],
  ];
  const stages: Array<[StageKey, ListrTask<Context>]> = options.printSource
    ? [['source', sourceStage()]]
    : warm?.precopyOnly
      ? [['precopy', precopyStage()]]
      : warm
        ? [
            ['precopy', precopyStage()],
            ['source', sourceStage()],
            ['overlay', overlayStage()],
            ['preflight', preflightStage()],
            ['cutover', cutoverStage()],
            ...conversion,
          ]
        : [['source', sourceStage()], ['overlay', overlayStage()], ['preflight', preflightStage()], ...conversion];
  const list = new Listr<Context, typeof SafeDefaultRenderer | 'simple' | 'silent'>(
    stages.map(([key, stage]) => withTestPause(key, withGuestfsTmpdir(stage), hooks.signal)),
    {
      ctx,
      exitOnError: true,
      registerSignalListeners: false,
      collectErrors: false,
      ...rendererOptions(renderer),
    },
  );
  reportStageEvents(
    list.tasks,
    stages.map(([key]) => key),
  );
  if (hooks.log) logRenderer(list.tasks, hooks.log).render();
  let failed = true;
  try {
    await list.run();
    failed = false;
    if (warm && !warm.precopyOnly) {
      ctx.warmSummary = await warm.complete(options.output.mode === 'null', (message) => ctx.warnings.push(message));
    }
    return ctx;
  } finally {
    const interrupted = hooks.signal?.aborted === true;
    // A warm migration that stops says what it leaves: the pre-copy (kept) and the source VM's power state.
    if (failed && warm) ctx.warnings.push(...warm.failureNotes());
    if (interrupted) {
      // Commands still running (an appliance busy in a guestfish call, a
      // daemonized guestfish server) would make a clean shutdown wait: stop
      // them all now; the overlays they write to are thrown away anyway.
      if (hooks.runId) await stopRunProcesses(hooks.runId);
      // Cleanup commands (virsh undefine, ...) must run: detach them from the aborted signal.
      configureExec({ signal: undefined });
    }
    const problems = await ctx.cleanup.run(failed);
    if (hooks.runId) {
      const leftovers = await stopRunProcesses(hooks.runId);
      if (leftovers.length > 0 && !interrupted) problems.push(`stopped leftover processes ${leftovers.join(', ')}`);
    }
    for (const problem of problems) {
      emitEvent({ type: 'warning', message: `cleanup: ${problem}` });
      printErr(`v2v: warning: cleanup: ${safeText(problem)}`);
    }
  }
}

/**
 * The context's warning list: an array (stages push to it) that also emits a
 * `warning` event at the moment of each push, so warnings show up when they
 * happen rather than only in the final summary.
 */
class LiveWarnings extends Array<string> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  override push(...items: string[]): number {
    for (const message of items) emitEvent({ type: 'warning', message });
    return super.push(...items);
  }
}

/**
 * libguestfs keeps a temp dir of its own ($LIBGUESTFS_TMPDIR, else $TMPDIR)
 * that a killed guestfish leaves behind. Once the run's temp dir exists, it
 * is pointed there (children inherit it), so the run's cleanup removes it.
 */
function withGuestfsTmpdir(stage: ListrTask<Context>): ListrTask<Context> {
  const original = stage.task;
  return {
    ...stage,
    task: (ctx, task) => {
      if (ctx.tmpdir !== undefined) process.env['LIBGUESTFS_TMPDIR'] = ctx.tmpdir;
      return original(ctx, task);
    },
  };
}

/**
 * A second line renderer on the same tasks, writing into the log file: the
 * log holds what a piped run prints (stage lines, details, copy progress,
 * failures with their message) even when the user sees the live task list.
 * Its logger escapes what the tasks say; the colours listr2 adds are then
 * its own, and are dropped: a log is plain text.
 */
export function logRenderer(tasks: readonly unknown[], log: (text: string) => void): SimpleRenderer {
  // ProcessOutput only ever calls write() on its streams: a plain Writable does.
  const stream = createWritable((chunk) => log(stripVTControlCharacters(String(chunk)))) as unknown as NodeJS.WriteStream;
  const logger = new SafeListrLogger({ processOutput: new ProcessOutput(stream, stream) });
  // The tasks are typed for the renderer the user sees; this one only listens to their events.
  return new SimpleRenderer(tasks as ConstructorParameters<typeof SimpleRenderer>[0], { timestamp: PRESET_TIMESTAMP, logger });
}

/** The renderer the user sees: listr2's, with every text of a task escaped first (src/progress/safe-renderers.ts). */
export function rendererOptions(choice: RendererChoice) {
  const lines = { timestamp: PRESET_TIMESTAMP, logger: new SafeListrLogger() };
  // listr2 falls back to its line renderer when stdout is no terminal: the safe one too.
  const fallback = { fallbackRenderer: 'simple' as const, fallbackRendererOptions: lines };
  switch (choice) {
    case 'live':
      return { renderer: SafeDefaultRenderer, rendererOptions: { collapseSubtasks: false, showErrorMessage: false }, ...fallback };
    case 'lines':
      return { renderer: 'simple' as const, rendererOptions: lines, ...fallback };
    case 'silent':
      return { renderer: 'silent' as const };
  }
}
