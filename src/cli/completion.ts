/**
 * Shell completion. `v2v completion` prints yargs' bash script (zsh's when
 * $SHELL is zsh); on <TAB> it runs `v2v --get-yargs-completions WORDS...`
 * and offers the words printed, one per line, falling back to file names
 * when there are none (the script's `complete -o default`). What to offer is
 * decided here from the options a parser declares (yargs' getOptions()), so
 * completion cannot drift from what the parser accepts.
 */
import { spell, type DeclaredOptions } from './messages.js';

/** What can follow an option. */
interface OptionCompletion {
  /** Whether the next word is its value (a bare --verify takes none: its value only comes as --verify=VALUE). */
  takesValue: boolean;
  /** Its values, if a fixed list (else a file name, or anything). */
  values?: readonly string[];
  /** May be given more than once (-n, -b, --mac). */
  repeatable: boolean;
}

/** What one command (a single run, `v2v batch`, ...) completes. */
export interface CompletionTable {
  /** Every name a user may type (without dashes; aliases too), to its option's key. */
  keyOf: Map<string, string>;
  /** Each option, by key. */
  options: Map<string, OptionCompletion>;
  /** The names offered for each key, spelled as typed (-os, --network, --password-file). */
  offered: Map<string, string[]>;
  /** Words offered as the first argument besides the options (the subcommand names). */
  commands: readonly string[];
  /** Whether its positional arguments are files (then an empty word completes file names, not options). */
  takesFiles: boolean;
}

/** How a table is built from a parser's declarations. */
export interface CompletionSource {
  declared: DeclaredOptions;
  /** Values of options that yargs does not check itself (v2v's own rules do: -o, -i, -of...). */
  values?: Readonly<Record<string, readonly string[]>>;
  /** Options whose value is only given as --OPTION=VALUE. */
  equalsOnly?: readonly string[];
  commands?: readonly string[];
  takesFiles: boolean;
}

/** The completion table of one command, from its parser's declared options. */
export function completionTable(source: CompletionSource): CompletionTable {
  const { declared } = source;
  const table: CompletionTable = {
    keyOf: new Map(),
    options: new Map(),
    offered: new Map(),
    commands: source.commands ?? [],
    takesFiles: source.takesFiles,
  };
  for (const key of Object.keys(declared.key)) {
    if (table.keyOf.has(key)) continue; // an alias of an option already seen (yargs lists aliases as keys too)
    const aliases = declared.alias[key] ?? [];
    for (const name of [key, ...aliases]) table.keyOf.set(name, key);
    const values = source.values?.[key] ?? declared.choices[key];
    table.options.set(key, {
      takesValue: !declared.boolean.includes(key) && !(source.equalsOnly ?? []).includes(key),
      ...(values !== undefined && values.length > 0 ? { values } : {}),
      repeatable: declared.array.includes(key),
    });
    // One-letter aliases (-n, -q) are not offered: their long names are.
    table.offered.set(key, [key, ...aliases.filter((alias) => alias.length > 1)].map(spell));
  }
  return table;
}

/** The option key a word names (-os, --network, --verify=boot), if any. */
function optionKey(table: CompletionTable, word: string): string | undefined {
  const name = /^--?([^=]+)/.exec(word)?.[1];
  return name === undefined ? undefined : table.keyOf.get(name);
}

/**
 * The words to offer for the last of `words` (the command line after the
 * command, the word being completed last, maybe ''), filtered by what it
 * starts with. An empty list lets the shell complete file names.
 */
export function completeWords(table: CompletionTable, words: readonly string[]): string[] {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  if (before.includes('--')) return []; // only positional arguments after "--"
  const matching = (candidates: readonly string[], prefix = ''): string[] =>
    candidates.filter((c) => c.startsWith(current)).map((c) => prefix + c);
  // bash splits "--verify=bo" into "--verify", "=", "bo"; zsh keeps it one word.
  if (before.at(-1) === '=') return matching(table.options.get(optionKey(table, before.at(-2) ?? '') ?? '')?.values ?? []);
  const joined = /^(--?[^=]+=)(.*)$/.exec(current);
  if (joined) {
    const values = table.options.get(optionKey(table, current) ?? '')?.values ?? [];
    return values.filter((v) => v.startsWith(joined[2]!)).map((v) => joined[1]! + v);
  }
  const previous = table.options.get(optionKey(table, before.at(-1) ?? '') ?? '');
  if (previous?.takesValue && !before.at(-1)!.includes('=')) return matching(previous.values ?? []);
  const options = (): string[] => {
    const given = new Set(before.map((word) => optionKey(table, word)));
    const keys = [...table.options.keys()].filter((key) => !given.has(key) || table.options.get(key)!.repeatable);
    return matching(keys.flatMap((key) => table.offered.get(key)!));
  };
  if (current.startsWith('-')) return options();
  if (before.length === 0 && table.commands.length > 0) return [...matching(table.commands), ...options()];
  return table.takesFiles ? [] : options();
}
