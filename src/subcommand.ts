/**
 * What the subcommands (`v2v batch`, `v2v list`, `v2v verify`) share around
 * their own yargs parsers: a parse error is a usage error that points at the
 * subcommand's help. Their errors then go through main's reportError.
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { redactUrl } from './redact.js';

/** Parses with `parser`; on a parse error prints it (redacted) and where usage is, and resolves to undefined (exit 2). */
export async function parseSubcommand<T>(parser: Argv<T>, command: string): Promise<ArgumentsCamelCase<T> | undefined> {
  try {
    return await parser.parseAsync();
  } catch (error) {
    process.stderr.write(`v2v: error: ${redactUrl(error instanceof Error ? error.message : String(error))}\nRun "v2v ${command} --help" for usage.\n`);
    return undefined;
  }
}
