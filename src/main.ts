/**
 * The error boundary: runs the pipeline, maps errors to exit codes in one
 * place, stops every child process on SIGINT/SIGTERM.
 */
import { configureExec } from './exec.js';
import { ExitCode, InterruptedError, V2vError } from './errors.js';
import type { Options } from './options.js';
import { chooseRenderer, runPipeline } from './pipeline.js';

/** Runs one conversion; returns the process exit code. Never throws. */
export async function main(options: Options): Promise<number> {
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(ExitCode.interrupted); // second signal: leave now
    interrupted = true;
    process.stderr.write(`\nv2v: ${signal} received: stopping and cleaning up\n`);
    abort.abort(new InterruptedError(`Interrupted by ${signal}.`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  configureExec({
    signal: abort.signal,
    ...(options.trace ? { trace: (argv: string) => process.stderr.write(`+ ${argv}\n`) } : {}),
  });
  const started = Date.now();
  try {
    const renderer = chooseRenderer(options, process.stdout.isTTY === true, !!process.env['CI']);
    const ctx = await runPipeline(options, options.printSource ? 'silent' : renderer);
    if (options.printSource) {
      process.stdout.write(`${JSON.stringify(ctx.source, null, 2)}\n`);
      return ExitCode.ok;
    }
    for (const warning of ctx.warnings) process.stderr.write(`v2v: warning: ${warning}\n`);
    if (!options.quiet) {
      process.stdout.write(`Finished converting ${ctx.name} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${(ctx.written ?? []).join(', ')}\n`);
    }
    return ExitCode.ok;
  } catch (error) {
    if (interrupted) {
      process.stderr.write('v2v: error: interrupted; temporary files and partial targets were removed.\n');
      return ExitCode.interrupted;
    }
    return reportError(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Prints an error the way its kind asks for, and returns its exit code. */
export function reportError(error: unknown): number {
  if (error instanceof V2vError) {
    process.stderr.write(`v2v: error: ${error.message}\n`);
    return error.exitCode;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`v2v: internal error: ${text}\nThis is a bug in v2v: please report it with the command line and this output.\n`);
  return ExitCode.internal;
}
