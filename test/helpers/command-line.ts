/**
 * A v2v command line run through the real yargs parser and option rules (no
 * conversion): the options it gives, or the one-sentence usage error it
 * refuses with.
 */
import { expect } from 'vitest';
import { parseCommandLine } from '../../src/cli/index.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { UsageError } from '../../src/errors.js';
import type { Options } from '../../stages/context.js';

/** The options of a conversion's command line. */
export async function options(...argv: string[]): Promise<Options> {
  const line = await parseCommandLine(argv);
  if (line.kind !== 'run') throw new Error(`not a run: ${JSON.stringify(line)}`);
  return normalizeOptions(line.raw);
}

/** The message of the UsageError the command line is refused with: one sentence, no line break. */
export async function usageError(...argv: string[]): Promise<string> {
  const error = await options(...argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  const message = (error as Error).message;
  // One sentence: no line breaks, ends with a full stop (or the help pointer).
  expect(message).not.toMatch(/\n/);
  return message;
}
