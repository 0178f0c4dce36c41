/**
 * v2v's own parser messages: yargs declares the options, this module turns
 * what it cannot place (an unknown option, a missing value) into one sentence
 * naming the fix, with "did you mean" for near misses and virt-v2v's options
 * we do not support refused with the alternative (src/cli/compat.ts).
 */
import { didYouMean } from '../text/did-you-mean.js';
import { UsageError } from '../errors.js';
import { REFUSED_OPTIONS } from './compat.js';

/** One-letter boolean flags that may be bundled, as virt-v2v's getopt allows (-vx). */
const BUNDLABLE = 'vxqVh';

/** Options whose value is optional: given only as --OPTION=VALUE, so a bare one cannot swallow the source. */
export const OPTIONAL_VALUE_OPTIONS = ['machine-readable', 'verify'] as const;

/**
 * Rewrites argv before yargs sees it: a bundled "-vx" becomes "-v -x" (yargs'
 * own short-option groups are off, or -os would be -o -s), and a bare
 * --machine-readable or --verify gets an empty value so it cannot swallow the source.
 */
export function expandArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const [index, word] of argv.entries()) {
    if (word === '--') {
      out.push(...argv.slice(index));
      break;
    }
    if (OPTIONAL_VALUE_OPTIONS.some((name) => word === `--${name}`)) out.push(`${word}=`);
    else if (new RegExp(`^-[${BUNDLABLE}]{2,}$`).test(word)) out.push(...[...word.slice(1)].map((letter) => `-${letter}`));
    else out.push(word);
  }
  return out;
}

/** What yargs' getOptions() tells about the declared options (the parts used here). */
export interface DeclaredOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
  array: string[];
  choices: Record<string, string[]>;
}

/** Every declared option name and alias. */
export function knownOptionNames(declared: DeclaredOptions): string[] {
  return [...new Set([...Object.keys(declared.key), ...Object.values(declared.alias).flat()])];
}

/** Option names in a parse result that no option declares. */
export function unknownOptions(parsed: Record<string, unknown>, declared: DeclaredOptions): string[] {
  const known = new Set([...knownOptionNames(declared), '_', '$0']);
  return Object.keys(parsed).filter((key) => !known.has(key));
}

/** How a user types an option: -o, -os (virt-v2v's short multi-letter ones), --network. */
export function spell(name: string): string {
  return name.length === 1 || /^(o[acfnops]|i[cfopt])$/.test(name) ? `-${name}` : `--${name}`;
}

/**
 * The error for an option no one declared: refused virt-v2v option (a
 * conversion's only), typo, or plain unknown. `command` is where the help is:
 * "v2v", or a subcommand such as "v2v batch".
 */
export function unknownOptionError(name: string, known: readonly string[], command = 'v2v'): UsageError {
  const refused =
    command !== 'v2v'
      ? undefined
      : (REFUSED_OPTIONS[name] ??
        (name.startsWith('vddk-') ? REFUSED_OPTIONS['vddk-*'] : name.startsWith('vdsm-') ? REFUSED_OPTIONS['vdsm-*'] : undefined));
  if (refused !== undefined) return new UsageError(`${spell(name)} is not supported: ${refused}.`);
  const near = didYouMean(
    name,
    known.filter((k) => k.length > 1 || name.length <= 2),
  );
  if (near !== undefined) return new UsageError(`Unknown option ${spell(name)}: did you mean ${spell(near)}? (see "${command} --help")`);
  return new UsageError(`Unknown option ${spell(name)}: remove it (see "${command} --help" for the options).`);
}

/** yargs' own failures (a value missing after an option), as one sentence pointing at `command`'s help. */
export function yargsFailure(message: string, command = 'v2v'): UsageError {
  const missing = /Not enough arguments following: (\S+)/.exec(message);
  if (missing) return new UsageError(`${spell(missing[1]!)} needs a value: give it right after the option (see "${command} --help").`);
  return new UsageError(`${message.replace(/\s+/g, ' ').trim().replace(/\.$/, '')}: see "${command} --help".`);
}
