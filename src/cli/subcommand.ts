/**
 * The subcommands' command lines (`v2v batch`, `v2v list`, `v2v verify`),
 * each declared once as a SubcommandSpec: one factory builds its yargs parser
 * (declarations only, as for a single run), --help and -V/--version, and
 * v2v's one-sentence parser errors with "did you mean" (src/cli/messages.ts).
 * Shell completion reads the same parser (src/cli/completion.ts).
 */
import yargs, { type Arguments, type Argv, type Options, type PositionalOptions } from 'yargs';
import { ExitCode, UsageError } from '../errors.js';
import { reportError } from '../run/report-error.js';
import { knownOptionNames, spell, type DeclaredOptions, unknownOptionError, yargsFailure } from './messages.js';
import { packageVersion } from './capabilities.js';
import { redactUrl } from '../text/redact.js';
import { printOut } from '../text/safe-text.js';
import { didYouMean } from '../text/did-you-mean.js';

/** One subcommand's command line: everything its parser, help, errors and completion come from. */
export interface SubcommandSpec {
  /** The word after "v2v". */
  name: string;
  /** The first lines of --help. */
  usage: string;
  /** Its positional argument(s), if any: a file or files (the shell completes file names there). */
  positional?: {
    /** The yargs command, e.g. '$0 <manifest>'. */
    command: string;
    describe: string;
    name: string;
    options: PositionalOptions;
    /** The sentence when it is missing (names the fix). */
    missing: string;
  };
  options: Record<string, Options>;
  epilog?: string;
  /** Whether "-j2" is -j 2 (one-letter options in groups); false when multi-letter options take one dash (list's -ic, -ip). */
  shortOptionGroups: boolean;
}

/** The yargs parser of a subcommand (declarations only: the checks are parseSubcommand's). */
export function subcommandParser(spec: SubcommandSpec, argv: readonly string[]): Argv {
  let parser = yargs([...argv])
    .scriptName(`v2v ${spec.name}`)
    .usage(spec.usage)
    // As for a single run: no camelCase copies and no --no-X, so the names declared are the names accepted.
    .parserConfiguration({ 'short-option-groups': spec.shortOptionGroups, 'camel-case-expansion': false, 'boolean-negation': false })
    .version(false) // ours prints "v2v X.Y.Z"
    .help(false);
  const positional = spec.positional;
  if (positional)
    parser = parser.command(positional.command, positional.describe, (y) => y.positional(positional.name, positional.options));
  return parser
    .options(spec.options)
    .option('version', { alias: 'V', type: 'boolean', describe: 'Print "v2v VERSION" and exit' })
    .option('help', { alias: 'h', type: 'boolean', describe: 'Show this help' })
    .epilog(spec.epilog ?? '')
    .strict()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    });
}

/** yargs' getOptions() (documented in its API, missing from @types/yargs 17). */
export function declaredOptions(parser: Argv): DeclaredOptions {
  return (parser as unknown as { getOptions(): DeclaredOptions }).getOptions();
}

/** What a subcommand's command line asks for: print a text (--help, --version) and stop, or run with these arguments. */
export type SubcommandLine = { kind: 'print'; text: string } | { kind: 'run'; args: Arguments };

/**
 * Parses a subcommand's arguments (after its name). Throws UsageError with
 * one sentence naming the fix: unknown options (checked first, so one cannot
 * swallow the positional argument and be reported as that missing), extra
 * arguments, a missing positional, a value that is not one of the choices.
 */
export async function parseSubcommand(spec: SubcommandSpec, argv: readonly string[]): Promise<SubcommandLine> {
  const command = `v2v ${spec.name}`;
  const parser = subcommandParser(spec, argv);
  const options = optionWords(argv, spec.shortOptionGroups);
  if (options.includes('help') || options.includes('h')) {
    // yargs shows multi-letter options as --ic; users type -ic, as with virt-v2v.
    return { kind: 'print', text: (await parser.getHelp()).replace(/--(o[acfnops]|i[cfopt])\b/g, ' -$1') };
  }
  if (options.includes('version') || options.includes('V')) return { kind: 'print', text: `v2v ${packageVersion()}` };
  const known = knownOptionNames(declaredOptions(parser));
  const unknown = options.find((name) => !known.includes(name));
  if (unknown !== undefined) throw unknownOptionError(unknown, known, command);
  try {
    return { kind: 'run', args: await parser.parseAsync() };
  } catch (error) {
    throw subcommandFailure(error instanceof Error ? error.message : String(error), spec);
  }
}

/** The option names in argv (before any "--"): "--log-dir=x" → "log-dir", "-ic" → "ic", or "j" for "-j2" in groups. */
function optionWords(argv: readonly string[], groups: boolean): string[] {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end))
    .filter((word) => /^--?[^-\d]/.test(word)) // not "-5", a negative value
    .map((word) => (groups && /^-[^-]/.test(word) ? word.slice(1, 2) : word.replace(/^--?/, '').split('=')[0]!));
}

/** What yargs' strict checks still find once unknown options are ruled out, as one sentence. */
function subcommandFailure(message: string, spec: SubcommandSpec): UsageError {
  const command = `v2v ${spec.name}`;
  const extra = /^Unknown arguments?: (.+)$/.exec(message);
  if (extra) {
    const words = extra[1]!.split(', ').map((word) => `"${redactUrl(word)}"`);
    return new UsageError(
      `Unexpected argument${words.length > 1 ? 's' : ''} ${words.join(', ')}: remove ${words.length > 1 ? 'them' : 'it'} (see "${command} --help").`,
    );
  }
  if (/^Not enough non-option arguments/.test(message) && spec.positional) return new UsageError(spec.positional.missing);
  const choice = /Argument: (\S+), Given: "(.*)", Choices:/.exec(message);
  const choices = choice ? spec.options[choice[1]!]?.choices : undefined;
  if (choice && Array.isArray(choices)) {
    const words = choices.map(String);
    const near = didYouMean(choice[2]!, words);
    const hint = near !== undefined ? `did you mean "${spell(choice[1]!)} ${near}"? ` : '';
    return new UsageError(`Unknown "${spell(choice[1]!)} ${redactUrl(choice[2]!)}": ${hint}use ${words.join(' or ')}.`);
  }
  return yargsFailure(redactUrl(message), command);
}

/**
 * The parsed arguments of a subcommand that runs, or the exit code when there
 * is nothing to run: its --help/--version printed (0), or its parser error
 * reported (2).
 */
export async function subcommandArgs(spec: SubcommandSpec, argv: readonly string[]): Promise<Arguments | number> {
  try {
    const commandLine = await parseSubcommand(spec, argv);
    if (commandLine.kind === 'run') return commandLine.args;
    printOut(commandLine.text);
    return ExitCode.ok;
  } catch (error) {
    return reportError(error);
  }
}
