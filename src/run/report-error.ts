/**
 * Errors to exit codes, in one place: each kind of error printed the way
 * the one who must act needs it. Its own module, apart from main.ts, so the
 * command-line paths that only parse (--help, <TAB> completion, parser
 * errors) do not load the pipeline to report a mistake.
 */
import { ExitCode, V2vError } from '../errors.js';
import { clock } from '../progress/events.js';
import { emitEvent } from '../progress/reporter.js';
import { redactUrl } from '../text/redact.js';
import { printErr, safeText } from '../text/safe-text.js';
import type { RunLog } from '../progress/run-log.js';

/**
 * Prints an error the way its kind asks for, and returns its exit code. A
 * run's error goes into its log (`log`), and a last line names the log
 * (`logPath`): the error itself stays one sentence, on one line (what it
 * quotes of a source is escaped, newlines included: src/text/safe-text.ts).
 * The error event keeps the message as it is: JSON escapes it.
 */
export function reportError(error: unknown, logPath?: string, log?: RunLog): number {
  const where = logPath ? `v2v: log: ${safeText(logPath)}\n` : '';
  if (error instanceof V2vError) {
    emitEvent({ type: 'error', message: error.message });
    const message = safeText(error.message);
    printErr(`v2v: error: ${message}\n${where}`);
    log?.write(`[${clock()}] v2v: error: ${message}`);
    return error.exitCode;
  }
  // A stack is lines of its own: each is escaped, the line breaks stay.
  const text = redactUrl(error instanceof Error ? (error.stack ?? error.message) : String(error));
  emitEvent({ type: 'error', message: `internal error: ${error instanceof Error ? error.message : String(error)}` });
  const report = `v2v: internal error: ${text}\nThis is a bug in v2v: please report it with the command line and this output.`;
  printErr(`${report}\n${where}`);
  log?.write(`[${clock()}] ${report}`);
  return ExitCode.internal;
}
