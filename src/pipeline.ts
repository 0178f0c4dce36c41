/**
 * The conversion pipeline, top to bottom. Each stage is checked before the
 * next; the copy is always the last heavy step, so a run that will fail
 * fails before it.
 */
import { Listr, PRESET_TIMESTAMP } from 'listr2';
import { copyStage } from '../stages/copy.js';
import { convertStage } from '../stages/convert.js';
import { inspectStage } from '../stages/inspect.js';
import { outputStage } from '../stages/output.js';
import { overlayStage } from '../stages/overlay.js';
import { preflightStage } from '../stages/preflight.js';
import { sourceStage } from '../stages/source.js';
import { trimStage } from '../stages/trim.js';
import { Cleanups } from './cleanup.js';
import type { Context } from './context.js';
import { selectInput } from './input/index.js';
import type { Options } from './options.js';
import { selectOutput } from './output/index.js';

/** How progress is shown, picked once at the root. */
export type RendererChoice = 'live' | 'lines' | 'silent';

/** Live task list on a terminal; timestamped lines when piped or in CI; nothing with -q. */
export function chooseRenderer(options: Pick<Options, 'quiet'>, stdoutIsTty: boolean, ci: boolean): RendererChoice {
  if (options.quiet) return 'silent';
  return stdoutIsTty && !ci ? 'live' : 'lines';
}

/** Runs every stage in order; cleanup runs whatever happens. Returns the final context. */
export async function runPipeline(options: Options, renderer: RendererChoice): Promise<Context> {
  const ctx: Context = {
    options,
    cleanup: new Cleanups(),
    warnings: [],
    input: selectInput(options.input),
    output: selectOutput(options.output),
  };
  const stages = options.printSource ? [sourceStage()] : [
    sourceStage(),
    overlayStage(),
    preflightStage(),
    inspectStage(),
    convertStage(),
    trimStage(),
    copyStage(),
    outputStage(),
  ];
  const list = new Listr<Context, 'default' | 'simple' | 'silent'>(stages, {
    ctx,
    exitOnError: true,
    registerSignalListeners: false,
    collectErrors: false,
    ...rendererOptions(renderer),
  });
  let failed = true;
  try {
    await list.run();
    failed = false;
    return ctx;
  } finally {
    const problems = await ctx.cleanup.run(failed);
    for (const problem of problems) process.stderr.write(`v2v: warning: cleanup: ${problem}\n`);
  }
}

function rendererOptions(choice: RendererChoice) {
  switch (choice) {
    case 'live':
      return { renderer: 'default' as const, rendererOptions: { collapseSubtasks: false, showErrorMessage: false } };
    case 'lines':
      return { renderer: 'simple' as const, rendererOptions: { timestamp: PRESET_TIMESTAMP } };
    case 'silent':
      return { renderer: 'silent' as const };
  }
}
